"""What the pipeline finds and hides: regions of a kind (face, plate, text, user mask)."""

from __future__ import annotations

from dataclasses import dataclass

from blur_sdk.core.find.base import FaceDetection, PlateDetection
from blur_sdk.core.geometry import Box

FACE, PLATE, TEXT, MASK = "face", "plate", "text", "mask"
KINDS = (FACE, PLATE, TEXT, MASK)
POLYGON = "polygon"  # a region's shape: its polygon, or a face shape inscribed in its box
Point = tuple[float, float]


@dataclass(frozen=True)
class Region:
    """One thing to hide: its kind, outline (image pixels), score, and the finder's detection."""

    kind: str
    polygon: tuple[Point, ...]
    box: Box
    score: float
    shape: str = POLYGON  # POLYGON, or "ellipse" / "circle" / "square" drawn in `box`
    detection: FaceDetection | PlateDetection | None = None
    skipped: bool = False  # found, answered, but left visible (skip_regexp)


def face_region(face: FaceDetection, shape: str) -> Region:
    """A face as the region that is hidden: its grown box, drawn in `shape`."""
    x0, y0, x1, y1 = face.region
    corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return Region(FACE, corners, face.region, face.score, shape, face)


def plate_region(plate: PlateDetection, skipped: bool = False) -> Region:
    """A plate as a region: its quad (the redactor grows it by its margin)."""
    return Region(PLATE, plate.polygon, plate.box, plate.dscore, POLYGON, plate, skipped)
