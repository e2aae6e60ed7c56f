"""Stroke masks: the text's own pixels inside each box (lighter or darker), dilated a little."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import RGBImage

DILATE = 3  # px the strokes are grown by (anti-aliasing, outlines, JPEG ringing)
MIN_CONTRAST = 6.0  # levels a stroke differs from its local background, at the least
SPECK = 0.08  # components smaller than (this x text height)^2 px are noise, not strokes
MAX_FILL = 0.6  # strokes covering more of their box than this are not text strokes
MEDIAN_WINDOW = 255  # px: wider background windows are taken on a proportionally shrunk crop
Mask = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Strokes:
    """One box's strokes: the mask (crop at offset), polarity, contrast and box fill."""

    mask: Mask
    offset: tuple[int, int]
    light: bool
    contrast: float
    fill: float
    parts: int = 0  # connected stroke components before dilation (glyphs, roughly)


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def quad_height(quad: npt.NDArray[np.float64]) -> float:
    """The shorter side of a quad (the text height of a text line)."""
    tl, tr, br, bl = quad
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return float(min(w, h))


def residual(crop: RGBImage, window: float) -> npt.NDArray[np.float32]:
    """Signed per-pixel difference from the local background (a median over `window` px,
    which text, being the minority, does not move), the channel of largest magnitude."""
    factor = min(1.0, MEDIAN_WINDOW / window)  # large windows: the median of a shrunk crop
    if factor < 1.0:
        height, width = crop.shape[:2]
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        smooth = cv2.medianBlur(small, _odd(window * factor))
        background = cv2.resize(smooth, (width, height), interpolation=cv2.INTER_LINEAR)
    else:
        background = cv2.medianBlur(crop, _odd(window))
    diff = crop.astype(np.float32) - background.astype(np.float32)
    pick = np.abs(diff).argmax(axis=2)[:, :, None]
    return np.take_along_axis(diff, pick, axis=2)[:, :, 0]


def box_strokes(rgb: RGBImage, quad: npt.NDArray[np.float64], dilate: int = DILATE) -> Strokes:
    """The strokes inside one quad: the polarity with the larger total departure from the
    background wins, thresholded (Otsu, at least MIN_CONTRAST), then dilated."""
    height, width = rgb.shape[:2]
    text_h = max(4.0, quad_height(quad))
    margin = int(text_h) + dilate + 2
    x0, y0 = (max(0, int(v) - margin) for v in quad.min(axis=0))
    x1 = min(width, int(quad[:, 0].max()) + margin + 1)
    y1 = min(height, int(quad[:, 1].max()) + margin + 1)
    empty = Strokes(np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.uint8), (x0, y0), True, 0, 0)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return empty
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    inside = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(quad - (x0, y0)).astype(np.int32)], 255)
    if not inside.any():
        return empty
    res = residual(crop, 1.2 * text_h)
    values = res[inside > 0]
    light_sum = float(np.clip(values - MIN_CONTRAST, 0, None).sum())
    dark_sum = float(np.clip(-values - MIN_CONTRAST, 0, None).sum())
    light = light_sum >= dark_sum
    signed = res if light else -res
    response = np.clip(signed, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(response[inside > 0], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(float(otsu), MIN_CONTRAST)
    strokes = _drop_specks(np.where((response > level) & (inside > 0), 255, 0), text_h)
    on = strokes > 0
    contrast = float(np.median(response[on])) if on.any() else 0.0
    fill = float(on.sum()) / float((inside > 0).sum())
    parts = cv2.connectedComponents(strokes, connectivity=8)[0] - 1
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        strokes = np.asarray(cv2.dilate(strokes, kernel), dtype=np.uint8)
    return Strokes(strokes, (x0, y0), light, contrast, fill, parts)


def _drop_specks(strokes: npt.NDArray[np.int_], text_h: float) -> Mask:
    """The strokes without isolated specks far smaller than any glyph part (noise, grain)."""
    binary = strokes.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    smallest = max(4.0, (SPECK * text_h) ** 2)
    keep = np.zeros(count, np.uint8)
    keep[1:] = np.where(stats[1:, cv2.CC_STAT_AREA] >= smallest, 255, 0)
    return np.asarray(keep[labels], dtype=np.uint8)


def paste(mask: Mask, strokes: Strokes) -> None:
    """OR a box's strokes into an image-sized mask."""
    x0, y0 = strokes.offset
    h, w = strokes.mask.shape
    np.maximum(mask[y0 : y0 + h, x0 : x0 + w], strokes.mask, out=mask[y0 : y0 + h, x0 : x0 + w])


def stroke_mask(
    rgb: RGBImage, quads: Sequence[npt.NDArray[np.float64]], dilate: int = DILATE
) -> Mask:
    """HxW mask, 255 on the text strokes inside each quad (dilated by `dilate` px), 0 elsewhere.

    Inside a quad the text is the minority, lighter or darker than its local background: each
    quad gets its own polarity and threshold. Boxes whose "strokes" fill most of them are
    left out (no text-like strokes: nothing to follow)."""
    mask = np.zeros(rgb.shape[:2], np.uint8)
    for quad in quads:
        strokes = box_strokes(rgb, np.asarray(quad, np.float64), dilate)
        if strokes.fill <= MAX_FILL and strokes.contrast >= MIN_CONTRAST:
            paste(mask, strokes)
    return mask
