"""One polygon per plate from every source and strip: merging, support, clear readings."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from blur_sdk.core.find.base import TEXT_SOURCE, FaceDetection, PlateDetection
from blur_sdk.core.geometry import as_quad, order_quad, overlap_of_smaller
from blur_sdk.core.plates.text import registration_like

DUPLICATE_OVERLAP = 0.5
SUPPORT_OVERLAP = 0.3  # share of the smaller box a detector hit must cover to confirm a text plate
CLEAR_READING = 0.9  # OCR score above which a letters-and-digits text plate needs no support
FORMAT_READING = (0.75, 0.7)  # ... or OCR score and calibrated score of a reading that fits a
# plate format (a calibrated score this high needs one): faint plates out of any car context
# (OCR 0.8 -> 0.75: small two-row plates read 0.77-0.80, eu_crops_dev found +2 on seed 7;
# openlpr_val's plates and false positives identical down to 0.7)
LIKE_READING = 0.5  # ... or, at that OCR score, the calibrated score of a reading that looks
# like a registration whatever its format (plates/text.py: registration_like; Jersey's J 19747
# read JI4747 at 0.63; docs/plate-reading-history.md)


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
        # two hits that could each confirm a text plate, at one place, are a plate (openlpr_val's
        # 1950.jpeg); a fainter hit leaves the union weak (PLATEDET_PROMOTE_THRESHOLD)
        evidence_only=a.evidence_only
        and b.evidence_only
        and not (a.supports_text and b.supports_text),
        supports_text=a.supports_text or b.supports_text,
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
    """A confident reading mixing letters and digits (OCR >= CLEAR_READING, or a little less
    where it fits a plate format, FORMAT_READING, or looks like a registration, LIKE_READING):
    a plate even where the detector is silent."""
    text = plate.text
    best = plate.candidates[0] if plate.candidates else ("", 0.0)
    plate_like = best[1] >= FORMAT_READING[1] or (
        best[1] >= LIKE_READING and registration_like(best[0])
    )
    return (
        (plate.oscore >= CLEAR_READING or (plate.oscore >= FORMAT_READING[0] and plate_like))
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


def unite_plates(plates: Sequence[PlateDetection], confirm_text: bool) -> list[PlateDetection]:
    """One polygon per plate from every source; with a plate detector, text finds need its support.

    Weak detector hits (evidence_only) are not plates: they confirm plates found through their
    text, which cuts the text pipeline's false positives (badges, signs, timestamps). A text
    plate that reads clearly as letters and digits stands on its own (recall first). Weak hits
    where no plate is are passed on, still evidence_only, after the plates: a reader may make
    them plates (complete()); the engine drops those it does not.
    """
    support = [p for p in plates if p.source != TEXT_SOURCE and p.supports_text]
    kept = [p for p in plates if not p.evidence_only]
    if confirm_text:
        kept = [
            p
            for p in kept
            if p.source != TEXT_SOURCE or _supported(p, support) or _reads_clearly(p)
        ]
    united = merge_plates(kept)
    weak = [
        p
        for p in merge_plates([p for p in plates if p.evidence_only])
        if all(overlap_of_smaller(p.box, k.box) <= SUPPORT_OVERLAP for k in united)
    ]
    return united + weak
