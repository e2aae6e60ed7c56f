"""The detection engine: one face detector and any number of plate sources, merged, chunked."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import (
    TEXT_SOURCE,
    FaceDetection,
    FaceDetector,
    FaceOptions,
    PlateDetection,
    PlateDetector,
    PlateOptions,
    RGBImage,
)
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.geometry import as_quad, order_quad, overlap_of_smaller

DUPLICATE_OVERLAP = 0.5
SUPPORT_OVERLAP = 0.3  # share of the smaller box a detector hit must cover to confirm a text plate
CLEAR_READING = 0.9  # OCR score above which a letters-and-digits text plate needs no support


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


def merge_faces(faces: Sequence[FaceDetection]) -> list[FaceDetection]:
    """Drop duplicates (mostly from chunk overlaps), keeping the best-scoring face."""
    kept: list[FaceDetection] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(overlap_of_smaller(face.box, k.box) <= DUPLICATE_OVERLAP for k in kept):
            kept.append(face)
    return kept


def _union(a: PlateDetection, b: PlateDetection) -> PlateDetection:
    points = np.array(a.polygon + b.polygon, dtype=np.float32)
    quad = order_quad(cv2.boxPoints(cv2.minAreaRect(points)))
    # The fuller reading wins (a plate cut by a chunk edge reads short), then the better score.
    best = max((a, b), key=lambda p: (len(p.text), p.dscore * max(p.oscore, 0.01)))
    box = (
        min(a.box[0], b.box[0]),
        min(a.box[1], b.box[1]),
        max(a.box[2], b.box[2]),
        max(a.box[3], b.box[3]),
    )
    return PlateDetection(
        polygon=as_quad(quad),
        box=box,
        text=best.text,
        dscore=max(a.dscore, b.dscore),
        oscore=best.oscore,
        candidates=best.candidates,
        source="+".join(sorted({*a.source.split("+"), *b.source.split("+")})),
        raw=best.raw,
    )


def merge_plates(plates: Sequence[PlateDetection]) -> list[PlateDetection]:
    """Unite plates found twice (by several sources or chunks): the union covers both."""
    merged: list[PlateDetection] = []
    for plate in sorted(plates, key=lambda p: -p.dscore):
        for i, kept in enumerate(merged):
            if overlap_of_smaller(plate.box, kept.box) > DUPLICATE_OVERLAP:
                merged[i] = _union(kept, plate)
                break
        else:
            merged.append(plate)
    return merged


def _supported(plate: PlateDetection, support: Sequence[PlateDetection]) -> bool:
    return any(overlap_of_smaller(plate.box, s.box) > SUPPORT_OVERLAP for s in support)


def _reads_clearly(plate: PlateDetection) -> bool:
    """A confident reading mixing letters and digits: a plate even where the detector is silent."""
    text = plate.text
    return (
        plate.oscore >= CLEAR_READING
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


def unite_plates(plates: Sequence[PlateDetection], confirm_text: bool) -> list[PlateDetection]:
    """One polygon per plate from every source; with a plate detector, text finds need its support.

    Weak detector hits (evidence_only) are never plates: they only confirm plates found through
    their text, which cuts the text pipeline's false positives (badges, signs, timestamps). A
    text plate that reads clearly as letters and digits stands on its own (recall first).
    """
    support = [p for p in plates if p.source != TEXT_SOURCE]
    kept = [p for p in plates if not p.evidence_only]
    if confirm_text:
        kept = [
            p
            for p in kept
            if p.source != TEXT_SOURCE or _supported(p, support) or _reads_clearly(p)
        ]
    return merge_plates(kept)


def _shift_face(face: FaceDetection, dx: float) -> FaceDetection:
    def move(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (b[0] + dx, b[1], b[2] + dx, b[3])

    points = tuple((x + dx, y) for x, y in face.landmarks)
    return FaceDetection(move(face.box), move(face.region), face.score, points)


def _shift_box(box: dict[str, Any], dx: float) -> dict[str, Any]:
    return {**box, "xmin": box["xmin"] + dx, "xmax": box["xmax"] + dx}


def _shift_plate(plate: PlateDetection, dx: float) -> PlateDetection:
    """The plate found in a chunk, in the whole image's coordinates (raw results too)."""
    if not dx:
        return plate
    raw = plate.raw
    if raw is not None and isinstance(raw.get("box"), dict):
        raw = {**raw, "box": _shift_box(raw["box"], round(dx))}
        vehicle = raw.get("vehicle")
        vbox = vehicle.get("box") if isinstance(vehicle, dict) else None
        if isinstance(vehicle, dict) and isinstance(vbox, dict) and any(vbox.values()):
            # (an all-zero box means "no vehicle": it stays zero)
            raw["vehicle"] = {**vehicle, "box": _shift_box(vbox, round(dx))}
    x1, y1, x2, y2 = plate.box
    return dataclasses.replace(
        plate,
        polygon=as_quad(np.array(plate.polygon) + np.array([dx, 0.0])),
        box=(x1 + dx, y1, x2 + dx, y2),
        raw=raw,
    )


class Engine:
    """Runs the detectors on an RGB image; detectors are loaded once and shared by threads."""

    def __init__(
        self, face_detector: FaceDetector | None, plate_detectors: Sequence[PlateDetector]
    ) -> None:
        self.face_detector = face_detector
        self.plate_detectors = list(plate_detectors)
        self.confirms_text = any(getattr(d, "confirms_text", False) for d in plate_detectors)

    @classmethod
    def build(cls, config: FinderConfig, *, faces: bool = True) -> Engine:
        """Build the configured finders (models verified, compiled lazily per shape)."""
        face = detectors.create("face", "centerface", config) if faces else None
        plates = [detectors.create("plate", name, config) for name in config.plate_sources]
        return cls(face, plates)

    def warm_up(self, sizes: Sequence[tuple[int, int]]) -> None:
        """Compile the models for these image sizes now, so first requests do not stall."""
        for width, height in sizes:
            blank = np.zeros((height, width, 3), np.uint8)
            self.detect(blank, face_options=FaceOptions(), plate_options=PlateOptions())
        if sizes:
            for detector in self.plate_detectors:  # stages a blank image never reaches
                warm = getattr(detector, "warm_up", None)
                if callable(warm):
                    warm()

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
                    plates += [_shift_plate(p, x0) for p in detector.detect(chunk, plate_options)]
            result.plates = unite_plates(plates, self.confirms_text)
            for detector in self.plate_detectors:  # plates found as objects, read only if needed
                read_unread = getattr(detector, "read_unread", None)
                if callable(read_unread):
                    result.plates = read_unread(image, result.plates, plate_options)
            result.timings["plates_ms"] = (time.perf_counter() - started) * 1000
        return result
