"""Overlay or scene text: a semi-transparent overlay lets the background show through it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.watermark.strokes import box_strokes, quad_height

# Behind an overlay of alpha a the stroke colour is a * colour + (1 - a) * background: it
# follows the background with a slope of 1 - a. Opaque scene text (plates, signs) keeps its
# own colour: slope ~0. Tuned on 40 labelled-set photos with synthetic marks (bench/).
MIN_TEXTURE = 8.0  # levels (std) the background under the strokes varies by, at the least:
# on flat backgrounds the slope cannot be told, and flat plates are where scene text sits
SLOPE = (0.15, 0.9)  # the stroke colour's slope against the background (alpha 0.1 .. 0.85)
MIN_FIT = 0.1  # share of the stroke colour's variance the background explains, at the least
REPEATS = 3  # boxes of the same size and angle (a tiled watermark) are overlays together
SAME_SIZE = (0.2, 0.15)  # relative width and height tolerance of "the same size"
SAME_ANGLE = 5.0  # degrees


@dataclass(frozen=True)
class Evidence:
    """What one text box's pixels say: stroke-colour slope and fit against the background."""

    slope: float  # stroke colour against the background under it (overlay: 1 - alpha)
    texture: float  # std (levels) of the background estimated under the strokes
    fit: float  # share of the stroke colour's variance the background explains

    @property
    def overlay(self) -> bool:
        """The background shows through the strokes: a semi-transparent overlay."""
        lo, hi = SLOPE
        return self.texture >= MIN_TEXTURE and lo <= self.slope <= hi and self.fit >= MIN_FIT


def evidence(rgb: RGBImage, quad: npt.NDArray[np.float64]) -> Evidence:
    """Regress the stroke pixels' colour on the background inpainted under them (Telea)."""
    strokes = box_strokes(rgb, quad, 0)
    if strokes.mask.sum() == 0:
        return Evidence(0.0, 0.0, 0.0)
    x0, y0 = strokes.offset
    h, w = strokes.mask.shape
    crop = np.ascontiguousarray(rgb[y0 : y0 + h, x0 : x0 + w])
    k = 2 * max(2, round(0.15 * max(4.0, quad_height(quad)))) + 1
    hole = cv2.dilate(strokes.mask, np.ones((k, k), np.uint8))  # halo and blur too
    under = cv2.inpaint(crop, hole, 3, cv2.INPAINT_TELEA)
    on = strokes.mask > 0
    core = cv2.erode(strokes.mask, np.ones((3, 3), np.uint8)) > 0
    if core.sum() < 0.4 * on.sum():
        core = on  # thin strokes: no core to keep
    ink = crop[core].astype(np.float64)
    back = under[core].astype(np.float64)
    ink -= ink.mean(axis=0)
    back -= back.mean(axis=0)
    var_b, var_i = float((back**2).mean()), float((ink**2).mean())
    slope = float((ink * back).sum() / max(1e-6, (back**2).sum()))
    return Evidence(slope, var_b**0.5, slope**2 * var_b / max(1e-6, var_i))


def _geometry(quad: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    tl, tr, br, bl = quad
    width = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    dx, dy = tr - tl + br - bl
    return width, height, math.degrees(math.atan2(dy, dx))


def repeated(quads: Sequence[npt.NDArray[np.float64]]) -> list[bool]:
    """Per quad: whether REPEATS or more quads (itself included) share its size and angle."""
    shapes = [_geometry(q) for q in quads]
    out = []
    for w, h, a in shapes:
        same = sum(
            abs(w - w2) <= SAME_SIZE[0] * max(w, w2)
            and abs(h - h2) <= SAME_SIZE[1] * max(h, h2)
            and abs((a - a2 + 90) % 180 - 90) <= SAME_ANGLE
            for w2, h2, a2 in shapes
        )
        out.append(same >= REPEATS)
    return out
