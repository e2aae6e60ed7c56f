"""The logo finder is conservative: nothing on clean images or gradients, a clear logo found."""

from __future__ import annotations

import random

import cv2
import numpy as np

from bench import watermark_synth as ws
from blur_sdk.core.watermark.find_logo import find_logos, in_corner


def _corner_quads(width: int, height: int, side: int = 24) -> list[tuple[np.ndarray, bool]]:
    quads = []
    for x in (20, width - 20 - 4 * side):
        for y in (20, height - 20 - side):
            quad = np.array([[x, y], [x + 4 * side, y], [x + 4 * side, y + side], [x, y + side]])
            quads += [(quad.astype(np.float64), True), (quad.astype(np.float64), False)]
    return quads


def test_nothing_on_clean_synthetic_images() -> None:
    for seed in range(6):
        image = ws.background(640, 480, seed=seed)
        assert find_logos(image, _corner_quads(640, 480), dilate=3) == []


def test_nothing_on_plain_gradients() -> None:
    ramp = np.linspace(0, 255, 640, dtype=np.float32)[None, :]
    for image in (
        np.repeat(np.repeat(ramp, 480, 0)[:, :, None], 3, 2),
        np.full((480, 640, 3), 200, np.float32),
        np.repeat(np.linspace(255, 10, 480, dtype=np.float32)[:, None, None], 640, 1).repeat(3, 2),
    ):
        rgb = np.ascontiguousarray(image.astype(np.uint8))
        assert find_logos(rgb, _corner_quads(640, 480), dilate=3) == []


def test_a_corner_logo_beside_its_text_is_found() -> None:
    clean = ws.background(640, 480, seed=2)
    layer = ws.logo_layer("PHOTO", 28, (255, 255, 255), "disc")
    x, y = 640 - layer.width - 24, 480 - layer.height - 24
    marked, truth = ws.composite(clean, layer, x, y, 0.5)
    side = int(28 * 1.6)
    text = np.zeros_like(truth)
    text[:, x + side + 4 :] = truth[:, x + side + 4 :]
    points = cv2.findNonZero(text)
    tx, ty, tw, th = cv2.boundingRect(points)
    pad = th * 0.3
    quad = np.array(
        [[tx - pad, ty - pad], [tx + tw + pad, ty - pad], [tx + tw + pad, ty + th + pad],
         [tx - pad, ty + th + pad]], np.float64,
    )  # fmt: skip
    logos = find_logos(marked, [(quad, True)], dilate=3)
    assert len(logos) == 1
    assert (logos[0].mask[truth > 0] > 0).mean() >= 0.9
    bx0, by0, bx1, by1 = ws._box(truth)
    x0, y0, x1, y1 = logos[0].box
    assert x0 <= bx0 and y0 <= by0 and x1 >= bx1 and y1 >= by1


def test_corner_bands() -> None:
    assert in_corner((10, 10, 60, 30), 640, 480)
    assert in_corner((560, 440, 630, 470), 640, 480)
    assert not in_corner((300, 10, 360, 30), 640, 480)
    assert not in_corner((10, 220, 60, 240), 640, 480)


def test_the_synthetic_logo_is_deterministic() -> None:
    a = ws.add_logo(ws.background(320, 240, seed=1), random.Random(5))
    b = ws.add_logo(ws.background(320, 240, seed=1), random.Random(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
