"""Faint overlay text through PP-OCR DBNet: enhanced and inverted passes, tiles, one decode."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.models.ppocr import TextBox, decode_db
from blur_sdk.core.models.ppocr import prob_map as ppocr_prob
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner

WHOLE_MAX_SIDE = 1280  # images up to TILE_ABOVE px are read whole at this long side
TILE_ABOVE = 2200  # larger images are read in overlapping tiles of TILE px
TILE = 1280
TILE_OVERLAP = 192
TILED_MAX_SIDE = 2560  # tiling works on the image scaled to at most this long side
PASSES = ("rgb", "clahe")  # the default; "inverted", "rot45", "rot-45" cost more, found less
KINDS = ("rgb", "clahe", "inverted", "rot45", "rot-45")
ROTATIONS = {"rot45": 45.0, "rot-45": -45.0}  # passes on the image turned: steep overlay text


@dataclass(frozen=True)
class TextSearch:
    """How hard to look: DB box score floor, passes (rgb / clahe / inverted)."""

    min_score: float
    passes: tuple[str, ...] = PASSES


def enhanced(rgb: RGBImage, kind: str) -> RGBImage:
    """The detector's input for one pass: the image, its CLAHE luminance, or that inverted."""
    if kind in ("rgb", *ROTATIONS):
        return rgb
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    lum = clahe.apply(lab[:, :, 0])
    if kind == "inverted":
        lum = 255 - lum
    return np.asarray(cv2.cvtColor(lum, cv2.COLOR_GRAY2RGB), dtype=np.uint8)


def prob_map(det: OpenVinoRunner, rgb: RGBImage, max_side: int) -> FloatArray:
    """DBNet's text probability for an image, at the detector's input scale (short side <= 736
    upscaled, long side <= max_side), cropped to the image; area resampling (faint strokes)."""
    return ppocr_prob(det, rgb, max_side, interpolation=cv2.INTER_AREA)


def rotated_prob(det: OpenVinoRunner, rgb: RGBImage, angle: float, max_side: int) -> FloatArray:
    """The probability map of the image turned by `angle` degrees, turned back (image pixels)."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(width * cos + height * sin), int(width * sin + height * cos)
    matrix[0, 2] += (new_w - width) / 2
    matrix[1, 2] += (new_h - height) / 2
    turned = cv2.warpAffine(rgb, matrix, (new_w, new_h), borderValue=(128, 128, 128))
    prob = prob_map(det, np.asarray(turned, dtype=np.uint8), max_side)
    prob = np.asarray(cv2.resize(prob, (new_w, new_h)), dtype=np.float32)
    back = cv2.invertAffineTransform(matrix)
    return np.asarray(cv2.warpAffine(prob, back, (width, height)), dtype=np.float32)


def tiles(length: int, tile: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) spans of at most `tile` covering [0, length) with at least `overlap`."""
    if length <= tile:
        yield 0, length
        return
    count = -(-(length - overlap) // (tile - overlap))
    step = (length - tile) / (count - 1)
    for i in range(count):
        start = round(i * step)
        yield start, start + tile


def _tiled_prob(det: OpenVinoRunner, rgb: RGBImage) -> FloatArray:
    """The probability map of a large image, stitched (maximum) from overlapping tiles."""
    height, width = rgb.shape[:2]
    prob = np.zeros((height, width), np.float32)
    for y0, y1 in tiles(height, TILE, TILE_OVERLAP):
        for x0, x1 in tiles(width, TILE, TILE_OVERLAP):
            part = prob_map(det, np.ascontiguousarray(rgb[y0:y1, x0:x1]), TILE)
            part = np.asarray(cv2.resize(part, (x1 - x0, y1 - y0)), dtype=np.float32)
            np.maximum(prob[y0:y1, x0:x1], part, out=prob[y0:y1, x0:x1])
    return prob


def text_prob(
    det: OpenVinoRunner, rgb: RGBImage, passes: tuple[str, ...]
) -> tuple[FloatArray, float]:
    """The per-pixel maximum of every pass's probability map, and its scale to image pixels."""
    height, width = rgb.shape[:2]
    long_side = max(height, width)
    work = rgb
    if long_side > TILE_ABOVE:
        factor = min(1.0, TILED_MAX_SIDE / long_side)
        size = (round(width * factor), round(height * factor))
        work = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    best: FloatArray | None = None
    for kind in passes:
        image = enhanced(work, kind)
        if kind in ROTATIONS:
            prob = rotated_prob(det, image, ROTATIONS[kind], WHOLE_MAX_SIDE)
        elif long_side > TILE_ABOVE:
            prob = _tiled_prob(det, image)
        else:
            prob = prob_map(det, image, WHOLE_MAX_SIDE)
        if best is not None and prob.shape != best.shape:
            prob = np.asarray(
                cv2.resize(prob, best.shape[::-1], interpolation=cv2.INTER_AREA), np.float32
            )
        best = prob if best is None else np.maximum(best, prob)
    assert best is not None
    return best, best.shape[1] / width


def find_text(det: OpenVinoRunner, rgb: RGBImage, search: TextSearch) -> list[TextBox]:
    """Text quads (TL, TR, BR, BL, image pixels) of every pass, decoded once from their union."""
    if not search.passes:
        return []
    prob, scale = text_prob(det, rgb, search.passes)
    sy = prob.shape[0] / rgb.shape[0]
    return decode_db(prob, search.min_score, scale, sy)
