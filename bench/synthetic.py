"""Test images made in code: a rendered licence plate warped onto a public-domain photo."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"


def astronaut() -> np.ndarray:
    """The public-domain NASA portrait (512x512 RGB)."""
    return np.asarray(Image.open(FIXTURES / "astronaut.jpg").convert("RGB")).copy()


def plate_image(text: str = "KA 482 MX", width: int = 520, height: int = 112) -> np.ndarray:
    """A flat white plate with a dark border and black characters (RGB)."""
    plate = np.full((height, width, 3), 245, np.uint8)
    cv2.rectangle(plate, (3, 3), (width - 4, height - 4), (20, 20, 20), 4)
    font, scale, thick = cv2.FONT_HERSHEY_DUPLEX, height / 36, max(2, height // 14)
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    origin = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(plate, text, origin, font, scale, (15, 15, 15), thick, cv2.LINE_AA)
    return plate


def paste_plate(scene: np.ndarray, quad: np.ndarray, text: str = "KA 482 MX") -> np.ndarray:
    """Warp a rendered plate onto quad (TL, TR, BR, BL) of the scene."""
    return warp_onto(scene, plate_image(text), quad)


def warp_onto(scene: np.ndarray, plate: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Warp an image (e.g. a plate) onto quad (TL, TR, BR, BL) of the scene."""
    h, w = plate.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    size = (scene.shape[1], scene.shape[0])
    warped = cv2.warpPerspective(plate, matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, size)
    out = scene.copy()
    out[mask > 127] = warped[mask > 127]
    return out


PLATE_QUAD = np.array([[300, 400], [480, 392], [482, 432], [302, 440]], np.float64)


def scene_with_plate(text: str = "KA 482 MX") -> np.ndarray:
    """The astronaut photo with one plate at PLATE_QUAD (face at about 178..272 x 60..178)."""
    return paste_plate(astronaut(), PLATE_QUAD, text)


def encode(rgb: np.ndarray, fmt: str = "JPEG", **options: object) -> bytes:
    """RGB array -> image bytes."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **options)
    return buffer.getvalue()
