"""The detection engine: one face finder and any number of plate sources, united, in strips."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import (
    FaceDetection,
    FaceDetector,
    FaceOptions,
    PlateDetection,
    PlateDetector,
    PlateOptions,
    RGBImage,
)
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.find.unite import merge_faces, unite_plates
from blur_sdk.core.models.runner import eager_compiles

if TYPE_CHECKING:
    from blur_sdk.core.watermark.removal import WatermarkSource


def watermark_finder(config: FinderConfig) -> WatermarkSource:
    """The text and logo watermark finder over the shared PP-OCR models."""
    from blur_sdk.core.watermark.finder import WatermarkFinder

    return WatermarkFinder.create(config.runner)


@dataclass
class Detections:
    """What the engine found, with milliseconds spent per stage."""

    faces: list[FaceDetection] = field(default_factory=list)
    plates: list[PlateDetection] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def chunk_spans(width: int, chunks: int, overlap_percent: float) -> list[tuple[int, int]]:
    """Horizontal [x0, x1) spans of `chunks` pieces overlapping by a percent of a chunk."""
    if chunks <= 1:
        return [(0, width)]
    overlap = overlap_percent / 100.0
    size = width / (chunks - (chunks - 1) * overlap)
    step = size * (1 - overlap)
    return [(round(i * step), min(width, round(i * step + size))) for i in range(chunks)]


def _shift_face(face: FaceDetection, dx: float) -> FaceDetection:
    def move(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (b[0] + dx, b[1], b[2] + dx, b[3])

    points = tuple((x + dx, y) for x, y in face.landmarks)
    return FaceDetection(move(face.box), move(face.region), face.score, points)


class Engine:
    """Runs the detectors on an RGB image; detectors are loaded once and shared by threads."""

    def __init__(
        self,
        face_detector: FaceDetector | None,
        plate_detectors: Sequence[PlateDetector],
        watermark_finder: WatermarkSource | None = None,
    ) -> None:
        self.face_detector = face_detector
        self.plate_detectors = list(plate_detectors)
        self.watermark_finder = watermark_finder
        self.confirms_text = any(d.confirms_text for d in plate_detectors)

    @classmethod
    def build(cls, config: FinderConfig, *, faces: bool = True, watermarks: bool = False) -> Engine:
        """Build the configured finders (models verified, compiled lazily per shape)."""
        face = detectors.create("face", "centerface", config) if faces else None
        plates = [detectors.create("plate", name, config) for name in config.plate_sources]
        return cls(face, plates, watermark_finder(config) if watermarks else None)

    def warm_up(self, sizes: Sequence[tuple[int, int]]) -> None:
        """Compile the models for these image sizes now, so first requests do not stall."""
        with eager_compiles():  # (not on the dynamic-shape model that serves first uses)
            for width, height in sizes:
                blank = np.zeros((height, width, 3), np.uint8)
                self.detect(blank, face_options=FaceOptions(), plate_options=PlateOptions())
            if sizes:
                face_warm_up = getattr(self.face_detector, "warm_up", None)  # (optional)
                if face_warm_up is not None:
                    face_warm_up()
                for detector in self.plate_detectors:  # stages a blank image never reaches
                    detector.warm_up()

    def describe(self) -> dict[str, object]:
        """The detectors in use, for /info/."""
        return {
            "faces": self.face_detector.name if self.face_detector else None,
            "plates": [d.name for d in self.plate_detectors],
        }

    def detect(
        self,
        image: RGBImage,
        *,
        face_options: FaceOptions | None = None,
        plate_options: PlateOptions | None = None,
        split: int = 1,
        overlap: float = 20.0,
    ) -> Detections:
        """Faces (when face_options is given) and plates (when plate_options is given)."""
        result = Detections()
        spans = chunk_spans(image.shape[1], split, overlap)
        if face_options is not None and self.face_detector is not None:
            started = time.perf_counter()
            found = []
            for x0, x1 in spans:
                chunk = np.ascontiguousarray(image[:, x0:x1])
                found += [
                    _shift_face(f, x0) for f in self.face_detector.detect(chunk, face_options)
                ]
            result.faces = merge_faces(found) if len(spans) > 1 else found
            result.timings["faces_ms"] = (time.perf_counter() - started) * 1000
        if plate_options is not None:
            started = time.perf_counter()
            plates = []
            if len(spans) > 1:  # a chunk is not the uploaded file
                plate_options = dataclasses.replace(plate_options, source=None)
            for detector in self.plate_detectors:
                for x0, x1 in spans:
                    chunk = np.ascontiguousarray(image[:, x0:x1])
                    plates += [detector.shift(p, x0) for p in detector.detect(chunk, plate_options)]
            result.plates = unite_plates(plates, self.confirms_text)
            for detector in self.plate_detectors:  # e.g. plates found as objects, read if needed
                result.plates = detector.complete(image, result.plates, plate_options)
            result.plates = [p for p in result.plates if not p.evidence_only]  # (weak, unread)
            result.timings["plates_ms"] = (time.perf_counter() - started) * 1000
        return result
