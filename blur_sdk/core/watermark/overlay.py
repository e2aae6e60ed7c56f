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
    hole = cv2.dilate(strokes.mask, np.ones((5, 5), np.uint8))
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
    return Evidence(slope, var_b**0.5, fit, plate, flat_in, flat_ring, int(core.sum()))
