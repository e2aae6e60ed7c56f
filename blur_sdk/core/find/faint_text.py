"""Text too faint for the frame's text detection, found on a contrast-equalised copy.

A washed-out or blurred plate (grey glyphs on a grey plate) can leave text detection's
probability map at 0 over it at every scale. On a copy of the frame shrunk to a long side of
PLATE_FAINT_RESOLUTION and equalised locally (CLAHE on its luma) its glyphs stand out, and
the detector finds the line. Only lines where the frame's own pass found no text are added, so
what that pass finds is read as before; the lines added are read from the frame itself.
"""

from __future__ import annotations

import cv2
import numpy as np

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.geometry import box_of, overlap_of_smaller
from blur_sdk.core.models.ppocr import TextBox, detect_text
from blur_sdk.core.models.runner import OpenVinoRunner

CLIP_LIMIT = 3.0  # CLAHE's contrast limit (OpenCV's units; 2 and 4 found fewer)
TILES = 8  # CLAHE's tiles per side of the copy
NEW_TEXT = 0.3  # a line is new where it covers at most this share of each line found before
MIN_SIDE = 32  # (the copy is never upscaled)


def equalised(image: RGBImage, side: int) -> tuple[RGBImage, float]:
    """The image shrunk to this long side (never enlarged; linear sampling, as the plate
    detector's: area averaging cost 1.5-3.5 ms) with its luma equalised by CLAHE, and the scale
    it was shrunk by."""
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR) if scale < 1 else image
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)  # (Lab: within a plate of it, 1-2 ms more)
    ycc[..., 0] = cv2.createCLAHE(CLIP_LIMIT, (TILES, TILES)).apply(ycc[..., 0])
    return np.asarray(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), np.uint8), scale


def faint_text(
    det: OpenVinoRunner, image: RGBImage, min_score: float, side: int, found: list[TextBox]
) -> list[TextBox]:
    """Text lines of the equalised copy (in the image's pixels) that none of `found` holds.

    The copy runs on the detector's dynamic-shape model: no shape compiled for it (each
    costs memory), its buffers freed after each use."""
    copy, scale = equalised(image, side)
    boxes = detect_text(det, copy, min_score, side, min_side=MIN_SIDE, dynamic=True)
    known = [box_of(b.quad) for b in found]
    new = []
    for box in boxes:
        quad = box.quad / scale
        if all(overlap_of_smaller(box_of(quad), k) <= NEW_TEXT for k in known):
            new.append(TextBox(quad=quad, score=box.score))
    return new
