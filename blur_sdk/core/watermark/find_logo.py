"""Conservative logo finder: a compact overlay shape beside overlay text in a corner band."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.geometry import Box, box_of
from blur_sdk.core.watermark.strokes import (
    MAX_FILL,
    MIN_CONTRAST,
    box_strokes,
    quad_height,
    residual,
)

CORNER = 0.2  # a logo's text lies within this share of the width and of the height of a corner
SEARCH = 3.0  # text heights searched left and right of the text for the logo's shape
MARGIN = 1.5  # text heights searched above and below the text
SHAPE_SIZE = (0.6, 2.6)  # the shape's width and height, in text heights
MIN_SOLIDITY = 0.2  # shape pixels / shape box (a ring is about 0.34)
MAX_GAP = 1.0  # text heights between the shape and its text, at most
CONTRAST_SHARE = 0.5  # the shape departs from its background at least this x the text's
CONTRAST_RATIO = 2.0  # and at most this x (one overlay: the same colour and alpha)
MIN_SHARPNESS = 0.25  # the shape's edge slope per px / its contrast, at least (overlays are
# drawn with sharp edges; soft blobs, shadows and out-of-focus things are not)
MIN_GLYPHS = 3  # stroke components the logo's text has at least (a word, not an edge)


@dataclass(frozen=True)
class Logo:
    """A logo-like overlay: its box, the mask of its shape and text strokes, a score."""

    box: Box
    mask: npt.NDArray[np.uint8]
    score: float


def in_corner(box: Box, width: int, height: int) -> bool:
    """Whether a box lies in one of the image's corner bands (its gaps to the nearer left or
    right edge and to the nearer top or bottom edge both small)."""
    gap_x = min(box[0], width - box[2]) / width
    gap_y = min(box[1], height - box[3]) / height
    return gap_x <= CORNER and gap_y <= CORNER


def edge_sharpness(response: npt.NDArray[np.float32], shape: npt.NDArray[np.bool_]) -> float:
    """The median slope (levels per px) of the response along a shape's outline."""
    gx = cv2.Sobel(response, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(response, cv2.CV_32F, 0, 1, ksize=3) / 8
    inner = shape.astype(np.uint8)
    ring = cv2.dilate(inner, np.ones((3, 3), np.uint8)) != cv2.erode(
        inner, np.ones((3, 3), np.uint8)
    )
    if not ring.any():
        return 0.0
    return float(np.median(np.hypot(gx, gy)[ring]))


def _shape_box(
    rgb: RGBImage, quad: npt.NDArray[np.float64], light: bool, contrast: float
) -> tuple[tuple[int, int, int, int], npt.NDArray[np.uint8]] | None:
    """The compact same-polarity shape right or left of a text quad, fully inside the search
    window and not touching its border: (x0, y0, x1, y1) and its pixel mask (crop)."""
    height, width = rgb.shape[:2]
    text_h = quad_height(quad)
    tx0, ty0, tx1, ty1 = box_of(quad, width, height)
    x0, x1 = max(0, int(tx0 - SEARCH * text_h)), min(width, int(tx1 + SEARCH * text_h))
    y0, y1 = max(0, int(ty0 - MARGIN * text_h)), min(height, int(ty1 + MARGIN * text_h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    res = residual(crop, 3.2 * text_h)
    signed = res if light else -res
    level = max(MIN_CONTRAST * 1.5, CONTRAST_SHARE * contrast)
    on = (signed > level).astype(np.uint8)
    text_area = np.zeros_like(on)
    cv2.fillPoly(text_area, [np.round(quad - (x0, y0)).astype(np.int32)], 1)
    on[text_area > 0] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(on, connectivity=8)
    best: tuple[int, int] | None = None
    lo, hi = SHAPE_SIZE[0] * text_h, SHAPE_SIZE[1] * text_h
    for i in range(1, count):
        sx, sy, sw, sh, area = (int(v) for v in stats[i])
        if sx <= 0 or sy <= 0 or sx + sw >= x1 - x0 or sy + sh >= y1 - y0:
            continue  # part of something larger than the window: scene, not overlay
        if not (lo <= sw <= hi and lo <= sh <= hi) or area < MIN_SOLIDITY * sw * sh:
            continue
        gap = max(tx0 - (x0 + sx + sw), (x0 + sx) - tx1)
        if gap > MAX_GAP * text_h or gap < -0.2 * text_h:
            continue
        centre_y = y0 + sy + sh / 2
        if abs(centre_y - (ty0 + ty1) / 2) > 0.5 * text_h:
            continue
        shape_contrast = float(np.median(signed[labels == i]))
        if shape_contrast > CONTRAST_RATIO * contrast:
            continue
        if edge_sharpness(signed, labels == i) < MIN_SHARPNESS * shape_contrast:
            continue
        if best is None or area > best[1]:
            best = (i, area)
    if best is None:
        return None
    sx, sy, sw, sh, _ = (int(v) for v in stats[best[0]])
    shape = np.where(labels == best[0], 255, 0).astype(np.uint8)
    return (x0 + sx, y0 + sy, x0 + sx + sw, y0 + sy + sh), shape[sy : sy + sh, sx : sx + sw]


def find_logos(
    rgb: RGBImage, texts: Sequence[tuple[npt.NDArray[np.float64], bool]], dilate: int
) -> list[Logo]:
    """Logo-like overlays: text in a corner band (quad, light) with a compact shape of the same
    polarity and contrast beside it. Anything less certain is left alone (no text, no logo)."""
    height, width = rgb.shape[:2]
    logos = []
    for quad, light in texts:
        if not in_corner(box_of(quad, width, height), width, height):
            continue
        strokes = box_strokes(rgb, quad, dilate)
        if strokes.light != light or strokes.contrast < MIN_CONTRAST or strokes.fill > MAX_FILL:
            continue
        if strokes.parts < MIN_GLYPHS:
            continue
        found = _shape_box(rgb, quad, light, strokes.contrast)
        if found is None:
            continue
        (sx0, sy0, sx1, sy1), shape = found
        mask = np.zeros((height, width), np.uint8)
        mask[sy0:sy1, sx0:sx1] = shape
        if dilate > 0:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1,) * 2)
            mask = np.asarray(cv2.dilate(mask, kernel), dtype=np.uint8)
        ox, oy = strokes.offset
        sh, sw = strokes.mask.shape
        np.maximum(
            mask[oy : oy + sh, ox : ox + sw], strokes.mask, out=mask[oy : oy + sh, ox : ox + sw]
        )
        tx0, ty0, tx1, ty1 = box_of(quad, width, height)
        box = (
            float(max(0, min(sx0, tx0) - dilate)),
            float(max(0, min(sy0, ty0) - dilate)),
            float(min(width, max(sx1, tx1) + dilate)),
            float(min(height, max(sy1, ty1) + dilate)),
        )
        logos.append(Logo(box=box, mask=mask, score=min(1.0, strokes.contrast / 40.0)))
    return logos
