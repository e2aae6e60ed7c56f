"""What a detector returns, the options it takes, and the small interface every detector has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class FaceDetection:
    """A face: the detector's box, the region that gets blurred, score and 5 landmarks."""

    box: Box
    region: Box
    score: float
    landmarks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class PlateDetection:
    """A plate: its quad (TL, TR, BR, BL), bounding box, reading and scores."""

    polygon: Quad
    box: Box
    text: str
    dscore: float
    oscore: float
    candidates: tuple[tuple[str, float], ...] = ()
    source: str = ""
    raw: dict[str, Any] | None = field(default=None, compare=False)
    evidence_only: bool = False  # a weak detector hit: support for a text plate, never a plate


SMALL_FACE, LARGE_FACE = 12.0, 40.0  # face heights (px) between which the region scale ramps
TEXT_SOURCE = "ocr"  # plates found through their text (the detector registered as "ocr")


@dataclass(frozen=True)
class FaceOptions:
    """Per-request face options (never written to shared detector state)."""

    threshold: float = 0.18
    max_resolution: int = 1920
    min_resolution: int = 800
    region_scale: float = 1.8
    small_region_scale: float = 2.4  # for faces of SMALL_FACE px and less (detectors are tight)

    def scale_for(self, face_height: float) -> float:
        """The blur region's scale for a face this many pixels high: small faces get the larger
        one (a few pixels off is much of a small face), ramping to region_scale at LARGE_FACE."""
        if face_height >= LARGE_FACE:
            return self.region_scale
        share = min(1.0, (LARGE_FACE - face_height) / (LARGE_FACE - SMALL_FACE))
        return self.region_scale + (self.small_region_scale - self.region_scale) * share


@dataclass(frozen=True)
class PlateOptions:
    """Per-request plate options, Snapshot's config fields among them."""

    mode: str = "redaction"
    threshold_d: float | None = None
    threshold_o: float | None = None
    text_formats: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    camera_id: str = ""
    filename: str = ""
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    source: bytes | None = field(default=None, compare=False, repr=False)
    """The upload's own bytes when they encode exactly the raster given to detect() (a remote
    reader sends them as they are instead of encoding the raster again)."""


class FaceDetector(Protocol):
    """Finds faces in an RGB image."""

    name: str

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]: ...


class PlateDetector(Protocol):
    """Finds licence plates in an RGB image."""

    name: str

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]: ...
