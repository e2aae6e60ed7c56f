"""Stroke masks follow the glyphs inside a box (light or dark text), not the whole box."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from bench import watermark_synth as ws
from blur_sdk.core.watermark.strokes import box_strokes, stroke_mask
from tests.core.watermark import skip_without_cjk_font


def _quad(truth: np.ndarray, pad: int = 8) -> np.ndarray:
    x0, y0, x1, y1 = ws._box(truth)
    return np.array(
        [[x0 - pad, y0 - pad], [x1 + pad, y0 - pad], [x1 + pad, y1 + pad], [x0 - pad, y1 + pad]],
        np.float64,
    )


@pytest.mark.parametrize(
    ("colour", "text", "light"),
    [((255, 255, 255), "Copyright", True), ((0, 0, 0), "SAMPLE 2024", False),
     ((255, 255, 255), "版权所有", True)],
)  # fmt: skip
def test_stroke_mask_follows_the_strokes(
    colour: tuple[int, int, int], text: str, light: bool
) -> None:
    skip_without_cjk_font(text)
    clean = ws.background(640, 480, seed=3)
    marked, truth, _ = ws.add_text(
        clean, random.Random(1), text=text, px=40, angle=0.0, alpha=0.5, colour=colour
    )
    quad = _quad(truth)
    mask = stroke_mask(marked, [quad], dilate=3)
    on_truth = truth > 0
    assert (mask[on_truth] > 0).mean() >= 0.95  # the strokes are covered
    box = np.zeros_like(mask)
    cv2.fillPoly(box, [quad.astype(np.int32)], 255)
    assert (mask > 0).sum() < 0.75 * (box > 0).sum()  # not the filled box
    near = cv2.dilate(truth, np.ones((11, 11), np.uint8)) > 0
    assert ((mask > 0) & ~near).sum() < 0.05 * (mask > 0).sum()  # and little beside them
    assert box_strokes(marked, quad).light is light


def test_rotated_text_strokes_in_a_rotated_quad() -> None:
    clean = ws.background(640, 480, seed=4)
    marked, truth, _ = ws.add_text(
        clean, random.Random(2), text="@studio_photo", px=36, angle=30.0, alpha=0.45,
        colour=(255, 255, 255),
    )  # fmt: skip
    points = cv2.findNonZero(truth)
    quad = cv2.boxPoints(cv2.minAreaRect(points)).astype(np.float64)
    centre = quad.mean(axis=0)
    quad = centre + (quad - centre) * 1.15
    mask = stroke_mask(marked, [quad])
    assert (mask[truth > 0] > 0).mean() >= 0.9
    assert (mask > 0).sum() < 3 * (truth > 0).sum()


def test_no_strokes_no_mask() -> None:
    flat = np.full((200, 300, 3), 128, np.uint8)
    quad = np.array([[20, 20], [280, 20], [280, 80], [20, 80]], np.float64)
    assert not stroke_mask(flat, [quad]).any()
    gradient = np.repeat(np.linspace(30, 220, 300, dtype=np.uint8)[None, :, None], 200, 0)
    assert not stroke_mask(np.repeat(gradient, 3, 2), [quad]).any()


def test_quads_off_the_image_are_harmless() -> None:
    image = ws.background(320, 240, seed=5)
    quads = [np.array([[-50, -50], [-10, -50], [-10, -20], [-50, -20]], np.float64),
             np.array([[300, 220], [400, 220], [400, 300], [300, 300]], np.float64)]  # fmt: skip
    mask = stroke_mask(image, quads)
    assert mask.shape == (240, 320)
