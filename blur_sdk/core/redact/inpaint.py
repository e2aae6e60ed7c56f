"""Inpainting: fill a mask with image content (PatchMatch, OpenCV Telea / Navier-Stokes), by name.

Each inpainter is a function (rgb crop, mask crop) -> filled crop. `inpaint` runs it on a crop
around each group of mask pixels (with a margin of known content), never on the whole picture,
and copies back only the masked pixels: everything outside the mask keeps its exact values.
A learned inpainter (LaMa, MI-GAN) can be registered beside these without touching the callers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.redact import Image8, Redaction, polygons_of, register
from blur_sdk.core.regions import Region

Mask8 = npt.NDArray[np.uint8]  # HxW, non-zero = fill
Inpainter = Callable[[Image8, Mask8], Image8]

CROP_MARGIN = 24  # px of known content around each group of holes (at least)
CROP_MARGIN_SHARE = 0.5  # ... or this share of the group's smaller side, whichever is larger
THIN_RADIUS = 4.0  # holes no thicker than 2 x this (px) are filled by Telea, also under PatchMatch
PM_MAX_HOLE_PIXELS = 12_000  # larger holes are filled at a reduced scale (PatchMatch: ~0.15 ms/px)
PM_MIN_SCALE = 0.25
PATCH_RADIUS = 3  # PatchMatch compares (2r+1)^2 patches; PyPatchMatch's examples use 3
TELEA_RADIUS = 5
_INPAINTERS: dict[str, Inpainter] = {}


def register_inpainter(name: str) -> Callable[[Inpainter], Inpainter]:
    """Decorator registering an inpainter under a name."""

    def wrap(inpainter: Inpainter) -> Inpainter:
        _INPAINTERS[name] = inpainter
        return inpainter

    return wrap


def inpainter_names() -> tuple[str, ...]:
    """Every registered inpainter."""
    return tuple(sorted(_INPAINTERS))


def _thin(mask: Mask8) -> bool:
    """Whether every hole is a thin stroke (no pixel farther than THIN_RADIUS from the edge)."""
    holes = (mask > 0).astype(np.uint8)
    padded = cv2.copyMakeBorder(holes, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return float(cv2.distanceTransform(padded, cv2.DIST_L2, 3).max()) <= THIN_RADIUS


@register_inpainter("telea")
def telea(rgb: Image8, mask: Mask8) -> Image8:
    """OpenCV's fast marching method (Telea 2004): smooth, fast, best for thin strokes."""
    return np.asarray(cv2.inpaint(rgb, mask, TELEA_RADIUS, cv2.INPAINT_TELEA), dtype=np.uint8)


@register_inpainter("ns")
def navier_stokes(rgb: Image8, mask: Mask8) -> Image8:
    """OpenCV's Navier-Stokes based inpainting (Bertalmio 2001)."""
    return np.asarray(cv2.inpaint(rgb, mask, TELEA_RADIUS, cv2.INPAINT_NS), dtype=np.uint8)


@register_inpainter("patchmatch")
def patch_match(rgb: Image8, mask: Mask8) -> Image8:
    """PatchMatch (Barnes 2009, PyPatchMatch): copies texture from around the hole.

    Thin holes (strokes a few pixels wide) go to Telea, which fills them as well and much
    faster; holes of more than PM_MAX_HOLE_PIXELS are filled at a reduced scale and scaled up.
    """
    if _thin(mask):
        return telea(rgb, mask)
    import patchmatch

    holes = int(np.count_nonzero(mask))
    scale = max(PM_MIN_SCALE, min(1.0, (PM_MAX_HOLE_PIXELS / max(holes, 1)) ** 0.5))
    if scale >= 0.95:
        return np.asarray(patchmatch.inpaint(rgb, mask > 0, patch_size=PATCH_RADIUS), np.uint8)
    height, width = mask.shape
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0
    filled = patchmatch.inpaint(small, small_mask, patch_size=PATCH_RADIUS)
    return np.asarray(cv2.resize(filled, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8)


def _merge(boxes: list[list[int]]) -> list[list[int]]:
    """Boxes united until none overlap."""
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(len(boxes) - 1, i, -1):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
    return boxes


def crop_boxes(mask: Mask8) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) crops covering every hole with a margin of known content: holes closer
    than CROP_MARGIN form one group; each group's crop grows by CROP_MARGIN or CROP_MARGIN_SHARE
    of its size; crops that overlap are united."""
    height, width = mask.shape
    near = cv2.dilate((mask > 0).astype(np.uint8), np.ones((CROP_MARGIN,) * 2, np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    boxes = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        reach = max(CROP_MARGIN, round(CROP_MARGIN_SHARE * min(w, h)))
        boxes.append([max(0, x - reach), max(0, y - reach), min(width, x + w + reach),
                      min(height, y + h + reach)])  # fmt: skip
    return [(b[0], b[1], b[2], b[3]) for b in _merge(boxes)]


def inpaint(rgb: Image8, mask: Mask8, method: str = "patchmatch", *, copy: bool = True) -> Image8:
    """The image with the mask's pixels filled by the named inpainter (a copy, or `rgb` itself
    written over without `copy`; pixels outside the mask are left exactly as they were)."""
    try:
        inpainter = _INPAINTERS[method]
    except KeyError as e:
        raise ValueError(
            f"unknown inpainter {method!r} (known: {', '.join(inpainter_names())})"
        ) from e
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask of shape {mask.shape} does not match the image {rgb.shape[:2]}")
    holes = np.where(mask > 0, 255, 0).astype(np.uint8)
    out = rgb.copy() if copy else rgb
    for x0, y0, x1, y1 in crop_boxes(holes):
        crop_mask = holes[y0:y1, x0:x1]
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        filled = inpainter(crop, np.ascontiguousarray(crop_mask))
        inside = crop_mask > 0
        out[y0:y1, x0:x1][inside] = filled[inside]
    return out


def region_mask(shape: tuple[int, int], regions: Sequence[Region], margin: float) -> Mask8:
    """The regions' polygons (each grown by `margin` of its size about its centre) as a mask."""
    mask = np.zeros(shape, np.uint8)
    for polygon in polygons_of(regions):
        centre = polygon.mean(axis=0)
        grown = centre + (polygon - centre) * (1.0 + margin)
        cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 255)
    for region in regions:
        if region.shape != "polygon":
            x0, y0, x1, y1 = (round(v) for v in region.box)
            mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 255
    return mask


@register("inpaint")
def inpaint_regions(
    image: Image8, regions: Sequence[Region], redaction: Redaction, in_place: bool
) -> Image8:
    """The regions filled with surrounding content (PatchMatch) instead of blurred."""
    mask = region_mask(image.shape[:2], regions, redaction.margin)
    return inpaint(image, mask, copy=not in_place)
