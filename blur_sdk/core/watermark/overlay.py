"""Overlay or scene text: semi-transparent strokes let the background show through them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.watermark.strokes import box_strokes, quad_height


@dataclass(frozen=True)
class Evidence:
    """What one text box's pixels say about it being an overlay."""

    slope: float  # stroke colour against the background under it (overlay: 1 - alpha)
    texture: float  # std (levels) of the background estimated under the strokes
    fit: float  # share of the stroke colour's variance the background explains
    plate: float  # levels the box's own background differs from the ring around the box
    flat_in: float  # std of the box's background (non-stroke pixels)
    flat_ring: float  # std of the ring's
    pixels: int  # stroke pixels used
    ring_slope: float = 0.0  # stroke colour against the box inpainted from its ring
    ring_texture: float = 0.0
    ring_fit: float = 0.0
    bg_slope: float = 0.0  # the box's own background against the same
    bg_fit: float = 0.0
    bg_texture: float = 0.0


def _regress(y: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(slope, std of x, share of y's variance explained), channels pooled, means removed."""
    y = y - y.mean(axis=0)
    x = x - x.mean(axis=0)
    var_x, var_y = float((x**2).mean()), float((y**2).mean())
    slope = float((x * y).sum() / max(1e-6, (x**2).sum()))
    return slope, var_x**0.5, slope**2 * var_x / max(1e-6, var_y)


def evidence(rgb: RGBImage, quad: npt.NDArray[np.float64]) -> Evidence | None:
    """The evidence of one quad, None when it has no strokes to look at."""
    strokes = box_strokes(rgb, quad, 0)
    if not strokes.mask.any():
        return None
    x0, y0 = strokes.offset
    h, w = strokes.mask.shape
    crop = np.ascontiguousarray(rgb[y0 : y0 + h, x0 : x0 + w])
    text_h = max(4.0, quad_height(quad))
    on = strokes.mask > 0
    k = 2 * max(2, round(0.15 * text_h)) + 1
    hole = cv2.dilate(strokes.mask, np.ones((k, k), np.uint8))
    under = cv2.inpaint(crop, hole, 3, cv2.INPAINT_TELEA)
    core = cv2.erode(strokes.mask, np.ones((3, 3), np.uint8)) > 0
    if core.sum() < 0.4 * on.sum():
        core = on
    ink = crop[core].astype(np.float64)
    back = under[core].astype(np.float64)
    ink -= ink.mean(axis=0)
    back -= back.mean(axis=0)
    var_b = float((back**2).mean())
    var_i = float((ink**2).mean())
    slope = float((ink * back).sum() / max(1e-6, (back**2).sum()))
    fit = slope**2 * var_b / max(1e-6, var_i)
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(quad - (x0, y0)).astype(np.int32)], 255)
    grow = max(3, int(0.6 * text_h)) * 2 + 1
    ring = (cv2.dilate(inside, np.ones((grow, grow), np.uint8)) > 0) & (inside == 0) & (hole == 0)
    bg_in = (inside > 0) & (hole == 0)
    if not ring.any() or not bg_in.any():
        plate, flat_in, flat_ring = 0.0, 0.0, 0.0
    else:
        pin, pring = crop[bg_in].astype(np.float64), crop[ring].astype(np.float64)
        plate = float(np.abs(np.median(pin, axis=0) - np.median(pring, axis=0)).max())
        flat_in = float(pin.std(axis=0).mean())
        flat_ring = float(pring.std(axis=0).mean())
    box_hole = cv2.dilate(inside, np.ones((k, k), np.uint8))
    outer = cv2.inpaint(crop, box_hole, 5, cv2.INPAINT_TELEA)
    rs, rt, rf = _regress(crop[core].astype(np.float64), outer[core].astype(np.float64))
    if bg_in.sum() > 10:
        bs, bt, bf = _regress(crop[bg_in].astype(np.float64), outer[bg_in].astype(np.float64))
    else:
        bs, bt, bf = 0.0, 0.0, 0.0
    return Evidence(
        slope, var_b**0.5, fit, plate, flat_in, flat_ring, int(core.sum()), rs, rt, rf, bs, bf, bt
    )
