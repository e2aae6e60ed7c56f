"""A client's smear mask: an image of the photo's size where any colour but black or white marks
the pixels to fill (Kaze's convention), read tolerantly of JPEG noise."""

from __future__ import annotations

import cv2
import numpy as np

from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.redact.inpaint import Mask8
from blur_sdk.errors import InputError

NEUTRAL_TOLERANCE = 40  # a channel within this of 0 (all of them) is black, of 255 is white
MIN_ALPHA = 128  # more transparent pixels of a PNG mask mark nothing


def smear_mask(data: bytes, width: int, height: int, limits: ImageLimits | None = None) -> Mask8:
    """The mask (255 = fill) a smear image marks; InputError when it is not an image of
    exactly width x height."""
    decoded = decode_image(data, limits)
    if (decoded.width, decoded.height) != (width, height):
        raise InputError(
            f"the smear mask is {decoded.width}x{decoded.height}, the image {width}x{height}: "
            "draw it on an image of the same size",
            "smear",
        )
    rgb = decoded.rgb.astype(np.int16)
    black = rgb.max(axis=2) <= NEUTRAL_TOLERANCE
    white = rgb.min(axis=2) >= 255 - NEUTRAL_TOLERANCE
    grey = (rgb.max(axis=2) - rgb.min(axis=2)) <= NEUTRAL_TOLERANCE // 4
    marked = ~(black | white)
    # JPEG ringing leaves isolated near-grey specks along black/white edges: a real stroke
    # survives a 3x3 opening, a speck does not
    marked_u8 = np.where(marked, 255, 0).astype(np.uint8)
    specks = cv2.morphologyEx(marked_u8, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) == 0
    marked &= ~(grey & specks)
    if decoded.alpha is not None:
        marked &= decoded.alpha >= MIN_ALPHA
    return np.where(marked, 255, 0).astype(np.uint8)
