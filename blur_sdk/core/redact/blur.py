"""Hide image regions: size-scaled blur, pixelation or a solid fill, for plates and faces."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.geometry import Box, expand_quad
from blur_sdk.core.redact import Redaction, polygons_of, register
from blur_sdk.core.redact.filters import Image8, fill, pixelate, soft_edge, strong_blur
from blur_sdk.core.regions import Region

Polygon = npt.NDArray[Any]

FACE_SHAPES = ("ellipse", "circle", "square")
STYLES = ("blur", "pixelate", "fill")  # how a region is hidden
# Gaussian sigma as a fraction of the region size at intensity 1 and 10 (geometric in between).
PLATE_SIGMA = (0.2, 0.55)
FACE_SIGMA = (0.12, 0.4)
# Pixelation cell as a fraction of the region size, at intensity 1 and 10.
PLATE_CELL = (0.5, 1.0)
FACE_CELL = (0.2, 0.5)
PLATE_HEIGHT_MARGIN = 0.2  # added on every side of a plate, as a fraction of its height
FEATHER = 0.08  # width of the soft edge outside the region, as a fraction of its size
_MAX_COORD = 1e6  # larger coordinates are garbage, not a region


def sigma_fraction(intensity: int, lo: float, hi: float) -> float:
    """Sigma / region size for an intensity in 1..10: lo at 1, hi at 10, geometric between."""
    _check_intensity(intensity)
    return float(lo * (hi / lo) ** ((int(intensity) - 1) / 9))


def _check_intensity(intensity: int) -> None:
    if isinstance(intensity, bool) or not isinstance(intensity, int | np.integer):
        raise ValueError(f"intensity must be an int in 1..10, got {intensity!r}")
    if not 1 <= intensity <= 10:
        raise ValueError(f"intensity must be in 1..10, got {intensity}")


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")


def check_image(image: Image8) -> None:
    """Refuse anything but a uint8 HxW or HxWxC array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("image must be a uint8 array of shape HxW or HxWxC")


def as_points(points: npt.ArrayLike) -> npt.NDArray[np.float64] | None:
    """The polygon as float (N, 2), or None when it is malformed, non-finite or absurd."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
        return None
    if not np.isfinite(pts).all() or np.abs(pts).max() > _MAX_COORD:
        return None
    return pts


def quad_size(quad: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(width, height) of a TL,TR,BR,BL quad: means of top/bottom and left/right edges."""
    e = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    return float(e[0] + e[2]) / 2, float(e[1] + e[3]) / 2


Hider = Callable[[Image8], Image8]


def _hider(style: str, intensity: int, size: float, sigma: tuple[float, float],
           cell: tuple[float, float]) -> tuple[Hider | None, int]:  # fmt: skip
    """The function that hides a crop for this style and object size, and the context it needs
    around the region (None: a solid fill, drawn from the region's own mean)."""
    if style == "fill":
        return None, 0
    if style == "pixelate":
        side = max(2.0, sigma_fraction(intensity, *cell) * size)
        return (lambda crop: pixelate(crop, side)), 0
    blur_sigma = sigma_fraction(intensity, *sigma) * size
    return (lambda crop: strong_blur(crop, blur_sigma)), math.ceil(3 * blur_sigma) + 1


def _apply_region(
    out: Image8,
    bbox: tuple[float, float, float, float],
    draw: _Drawer,
    hide: tuple[Hider | None, int],
    feather: float,
) -> None:
    """Hide the region `draw` paints (bbox in image coords) in `out`, in place; the soft edge
    lies outside the region, every pixel inside is fully hidden."""
    h_img, w_img = out.shape[:2]
    fpad = math.ceil(feather) + 2  # the mask crop: region + feather
    x0, y0 = max(0, math.floor(bbox[0]) - fpad), max(0, math.floor(bbox[1]) - fpad)
    x1, y1 = min(w_img, math.ceil(bbox[2]) + fpad + 1), min(h_img, math.ceil(bbox[3]) + fpad + 1)
    if x1 <= x0 or y1 <= y0:
        return
    hard = np.zeros((y1 - y0, x1 - x0), np.uint8)
    draw(hard, x0, y0)
    if not hard.any():
        return
    if feather >= 0.5:
        mask, inverse = soft_edge(hard, feather)
    else:
        mask = hard.astype(np.float32) / 255.0
        inverse = 1.0 - mask
    hider, bpad = hide
    if hider is None:
        hidden = fill(out[y0:y1, x0:x1], hard.astype(np.float32) / 255.0)
    else:
        bx0, by0 = max(0, x0 - bpad), max(0, y0 - bpad)
        bx1, by1 = min(w_img, x1 + bpad), min(h_img, y1 + bpad)
        hidden = hider(out[by0:by1, bx0:bx1])[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0]
    # Per-pixel blend; where the mask is 0 the source pixel comes back exactly.
    out[y0:y1, x0:x1] = cv2.blendLinear(hidden, out[y0:y1, x0:x1], mask, inverse)


class _Drawer:
    """Paints a region at 255 into a crop whose top-left is (ox, oy) in image coordinates."""

    def __init__(self, kind: str, pts: npt.NDArray[np.float64]) -> None:
        self.kind, self.pts = kind, pts

    def __call__(self, canvas: Image8, ox: int, oy: int) -> None:
        shift = 4
        one = 1 << shift
        if self.kind == "poly":
            rel = np.rint((self.pts - (ox, oy)) * one).astype(np.int32)
            cv2.fillPoly(canvas, [rel.reshape(-1, 1, 2)], 255, cv2.LINE_8, shift)
            return
        (bx0, by0), (bx1, by1) = self.pts  # an ellipse inscribed in this box
        cx, cy = round(((bx0 + bx1) / 2 - ox) * one), round(((by0 + by1) / 2 - oy) * one)
        axes = (round((bx1 - bx0) / 2 * one), round((by1 - by0) / 2 * one))
        cv2.ellipse(canvas, (cx, cy), axes, 0, 0, 360, 255, -1, cv2.LINE_8, shift)


def grown_plate(pts: npt.NDArray[np.float64], margin: float) -> npt.NDArray[np.float64]:
    """The area hidden for a plate polygon: each side moved out by `margin` of the plate's size
    along that axis plus PLATE_HEIGHT_MARGIN of its height (a tilted or loosely found plate
    stays covered to its corners)."""
    centre = pts.mean(axis=0)
    if len(pts) != 4:
        return np.asarray(centre + (pts - centre) * (1 + 2 * margin), dtype=np.float64)
    width, height = quad_size(pts)
    extra = PLATE_HEIGHT_MARGIN * height
    return expand_quad(pts, margin + extra / max(width, 1e-6), margin + extra / max(height, 1e-6))


def blur_plates(
    image: Image8,
    polygons: Sequence[Polygon],
    intensity: int,
    margin: float = 0.1,
    style: str = "blur",
    *,
    copy: bool = True,
) -> Image8:
    """A copy of `image` (`image` itself, written over, without `copy`) with each plate
    polygon (TL,TR,BR,BL), grown by `margin`, hidden.

    Sigma (or the pixel cell) is a fraction of the plate height (PLATE_SIGMA, PLATE_CELL), so
    the same intensity hides a plate of any size; style "fill" paints its mean colour.
    """
    check_image(image)
    _check_intensity(intensity)
    _check_style(style)
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    out = image.copy() if copy else image
    for polygon in polygons:
        pts = as_points(polygon)
        if pts is None or abs(cv2.contourArea(pts.astype(np.float32))) < 1.0:
            continue
        grown = grown_plate(pts, margin)
        if len(pts) == 4:
            size = min(quad_size(pts))
        else:
            size = min(cv2.minAreaRect(pts.astype(np.float32))[1])
        size = max(size, 1.0)
        bbox = (*grown.min(axis=0), *grown.max(axis=0))
        hide = _hider(style, intensity, size, PLATE_SIGMA, PLATE_CELL)
        _apply_region(out, bbox, _Drawer("poly", grown), hide, FEATHER * size)
    return out


def blur_faces(
    image: Image8,
    boxes: Sequence[Box],
    intensity: int,
    shape: str = "ellipse",
    *,
    scale: float = 1.0,
    style: str = "blur",
    copy: bool = True,
) -> Image8:
    """A copy of `image` (`image` itself, written over, without `copy`) with each face box
    (scaled by `scale` about its centre) hidden.

    `shape`: "ellipse" (inscribed in the box), "circle" (radius = larger half-side) or
    "square" (the box itself). Sigma (pixel cell) is a fraction of the face size (FACE_SIGMA,
    FACE_CELL); style "fill" paints the region's mean colour.
    """
    check_image(image)
    _check_intensity(intensity)
    _check_style(style)
    if shape not in FACE_SHAPES:
        raise ValueError(f"shape must be one of {FACE_SHAPES}, got {shape!r}")
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    out = image.copy() if copy else image
    for box in boxes:
        b = np.asarray(box, dtype=np.float64).ravel()
        if b.shape != (4,) or not np.isfinite(b).all() or np.abs(b).max() > _MAX_COORD:
            continue
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        hw, hh = (b[2] - b[0]) / 2 * scale, (b[3] - b[1]) / 2 * scale
        if hw < 0.5 or hh < 0.5:
            continue
        size = hw + hh  # mean of width and height
        if shape == "circle":
            hw = hh = max(hw, hh)
        x0, y0, x1, y1 = cx - hw, cy - hh, cx + hw, cy + hh
        if shape == "square":
            drawer = _Drawer("poly", np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        else:
            drawer = _Drawer("ellipse", np.array([[x0, y0], [x1, y1]]))
        bbox = (x0, y0, x1, y1)
        hide = _hider(style, intensity, size, FACE_SIGMA, FACE_CELL)
        _apply_region(out, bbox, drawer, hide, FEATHER * size)
    return out


def _hide_regions(
    image: Image8, regions: Sequence[Region], redaction: Redaction, in_place: bool
) -> Image8:
    """Polygons hidden as plates are (margin, sigma by height), boxes as faces (their shape),
    in one copy of the image (none with in_place)."""
    out = image if in_place else image.copy()
    polygons = polygons_of(regions)
    intensity, style = redaction.intensity, redaction.method
    if polygons:
        out = blur_plates(out, polygons, intensity, redaction.margin, style, copy=False)
    for shape in FACE_SHAPES:
        boxes = [r.box for r in regions if r.shape == shape]
        if boxes:
            out = blur_faces(out, boxes, intensity, shape, style=style, copy=False)
    return out


for _style in STYLES:
    register(_style)(_hide_regions)
