"""What a detector returns, the options it takes, and the small interface every detector has."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from blur_sdk.core.geometry import Box, Quad

RGBImage = npt.NDArray[np.uint8]


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
    evidence_only: bool = False  # a weak detector hit: support for a text plate, a plate only
    # where a reader makes it one (OcrPlateDetector.promote); the engine drops the others
    supports_text: bool = True  # False: too weak a hit to confirm a text-found plate


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
    coarse_resolution: int = 1280  # larger inputs: a first pass at this long side, then tiles
    # around its weak candidates at full resolution (0 = always one full-resolution pass)

    def scale_for(self, face_height: float) -> float:
        """The blur region's scale for a face this many pixels high: small faces get the larger
        one (a few pixels off is much of a small face), ramping to region_scale at LARGE_FACE."""
        if face_height >= LARGE_FACE:
            return self.region_scale
        share = min(1.0, (LARGE_FACE - face_height) / (LARGE_FACE - SMALL_FACE))
        return self.region_scale + (self.small_region_scale - self.region_scale) * share


@dataclass(frozen=True)
class PlateOptions:
    """Per-request plate options: reading floors and formats, and what a remote reader is sent."""

    mode: str = "redaction"
    threshold_d: float | None = None
    threshold_o: float | None = None
    text_formats: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    forward: dict[str, Any] = field(default_factory=dict, compare=False)
    """Fields a remote plate reader is sent as the client gave them (the Snapshot API's
    camera_id, filename and config); local finders ignore them."""
    source: bytes | None = field(default=None, compare=False, repr=False)
    """The upload's own bytes when they encode exactly the raster given to detect() (a remote
    reader sends them as they are instead of encoding the raster again)."""


class FaceDetector(Protocol):
    """Finds faces in an RGB image."""

    name: str

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]: ...


class PlateDetector(Protocol):
    """Finds licence plates in an RGB image; PlateFinder gives the optional parts defaults."""

    name: str
    confirms_text: bool  # with it, plates found through text alone need its support

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]: ...

    def warm_up(self) -> None:
        """Compile what a blank image does not reach (called once at start-up)."""

    def complete(
        self, image: RGBImage, plates: list[PlateDetection], options: PlateOptions
    ) -> list[PlateDetection]:
        """After uniting every source's plates: finish this source's (e.g. read them)."""

    def shift(self, plate: PlateDetection, dx: float) -> PlateDetection:
        """A plate found in a vertical strip, moved right by dx into the whole image."""


class PlateFinder:
    """Base of plate finders: no warm-up, nothing to complete, plates shifted geometrically."""

    name = ""
    confirms_text = False

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        """The plates in the image."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Nothing to compile beyond what detect() on a blank image reaches."""

    def complete(
        self, image: RGBImage, plates: list[PlateDetection], options: PlateOptions
    ) -> list[PlateDetection]:
        """The plates as they are."""
        return plates

    def shift(self, plate: PlateDetection, dx: float) -> PlateDetection:
        """The plate's polygon and box moved right by dx."""
        if not dx:
            return plate
        x1, y1, x2, y2 = plate.box
        p = [(round(x + dx, 1), round(y, 1)) for x, y in plate.polygon]
        polygon: Quad = (p[0], p[1], p[2], p[3])
        return dataclasses.replace(plate, polygon=polygon, box=(x1 + dx, y1, x2 + dx, y2))
