"""Images made in code, for tests/ and bench/: a rendered licence plate warped onto a public-domain
photo, seeded noise, and the quads they are drawn in."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
FACE_BOX = (178.0, 60.0, 272.0, 178.0)  # the astronaut's face, as the real face finder boxes it


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
    """The astronaut photo with one plate at PLATE_QUAD (face at about FACE_BOX)."""
    return paste_plate(astronaut(), PLATE_QUAD, text)


def noise(width: int = 512, height: int = 512, channels: int = 3, seed: int = 7) -> np.ndarray:
    """Seeded random pixels (any blur changes every pixel it touches); channels=1: 2-D."""
    shape = (height, width, channels) if channels > 1 else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    """A Pillow image as the bytes of a file in fmt."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def encode(rgb: np.ndarray, fmt: str = "JPEG", **options: object) -> bytes:
    """RGB array -> image bytes."""
    return save(Image.fromarray(rgb), fmt, **options)


def box_quad(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """The corners (TL, TR, BR, BL) of a box."""
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)


def rotated_quad(
    centre: tuple[float, float], width: float, height: float, angle: float
) -> np.ndarray:
    """TL, TR, BR, BL of a width x height box turned by angle degrees (clockwise on screen)."""
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    half_w, half_h = width / 2, height / 2
    base = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    return np.asarray(base @ rot.T + np.array(centre))
