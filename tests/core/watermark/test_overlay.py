"""The overlay test: semi-transparent text shows its background, opaque scene text does not."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import watermark_synth as ws
from blur_sdk.core.watermark.overlay import evidence, repeated


def _quad(truth: np.ndarray, pad: int = 6) -> np.ndarray:
    x0, y0, x1, y1 = ws._box(truth)
    return np.array(
        [[x0 - pad, y0 - pad], [x1 + pad, y0 - pad], [x1 + pad, y1 + pad], [x0 - pad, y1 + pad]],
        np.float64,
    )


def _textured(seed: int) -> np.ndarray:
    """A busy scene: the synthetic background with fine random texture on top."""
    rng = np.random.default_rng(seed)
    base = ws.background(640, 480, seed=seed).astype(np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 2000, (480, 640)).astype(np.float32), (0, 0), 40.0)
    return np.clip(base + grain[:, :, None], 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("alpha", "colour"), [(0.35, (255, 255, 255)), (0.45, (0, 0, 0)),
                                               (0.5, (230, 40, 40))])  # fmt: skip
def test_a_semi_transparent_overlay_is_an_overlay(
    alpha: float, colour: tuple[int, int, int]
) -> None:
    marked, truth, _ = ws.add_text(
        _textured(1), random.Random(2), text="Copyright", px=44, angle=0.0, alpha=alpha,
        colour=colour,
    )  # fmt: skip
    found = evidence(marked, _quad(truth))
    assert found.overlay, found
    assert found.slope < 1 - alpha + 0.2  # the estimate runs low, never high


def test_opaque_text_on_a_textured_background_is_not() -> None:
    marked, truth, _ = ws.add_text(
        _textured(3), random.Random(4), text="SAMPLE", px=48, angle=0.0, alpha=1.0,
        colour=(255, 255, 255),
    )  # fmt: skip
    found = evidence(marked, _quad(truth))
    assert not found.overlay and found.slope < 0.15, found


def test_a_plate_on_a_busy_scene_is_not() -> None:
    scene = Image.fromarray(_textured(5))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((200, 200, 440, 260), fill=(235, 235, 235), outline=(20, 20, 20), width=3)
    clean = np.asarray(scene).copy()
    layer = ws.text_layer("AB 123 CD", "bold", 40, (10, 10, 10), outline=0, angle=0.0)
    marked, truth = ws.composite(clean, layer, 215, 206, 1.0)
    found = evidence(marked, _quad(truth, 4))
    assert not found.overlay, found


def test_flat_backgrounds_are_left_alone() -> None:
    flat = np.full((240, 480, 3), 90, np.uint8)
    marked, truth, _ = ws.add_text(
        flat, random.Random(1), text="DRAFT", px=40, angle=0.0, alpha=0.4, colour=(255, 255, 255)
    )
    assert not evidence(marked, _quad(truth)).overlay  # nothing shows through: unsure


def test_no_strokes_no_evidence() -> None:
    flat = np.full((100, 200, 3), 128, np.uint8)
    quad = np.array([[20, 20], [180, 20], [180, 60], [20, 60]], np.float64)
    assert not evidence(flat, quad).overlay


def test_repeated_boxes() -> None:
    def box(x: float, y: float, w: float = 120, h: float = 24, angle: float = 30.0) -> np.ndarray:
        rect = ((x, y), (w, h), angle)
        return cv2.boxPoints(rect).astype(np.float64)

    tiled = [box(100, 100), box(300, 120, 126), box(200, 300, 118, 25), box(400, 400, 60)]
    assert repeated(tiled) == [True, True, True, False]
    assert repeated(tiled[:2]) == [False, False]
    assert repeated([box(0, 0, angle=a) for a in (0, 30, 60)]) == [False] * 3
