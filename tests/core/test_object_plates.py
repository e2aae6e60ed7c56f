"""Our plate detector: its decoding, how the engine unites it with the text pipeline, real runs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from bench.synthetic import PLATE_QUAD, scene_with_plate
from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import TEXT_SOURCE, PlateDetection, PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.object_plates import STRIDE, PlateDetDetector, decode_platedet
from blur_sdk.core.find.unite import unite_plates
from blur_sdk.core.geometry import as_quad
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings


def outputs(peaks: list[tuple[int, int, float]], h: float, w: float) -> list[np.ndarray]:
    """Model outputs (heatmap, size, offset) at stride 4 with the given peaks."""
    heat = np.zeros((1, 1, 40, 60), np.float32)
    for y, x, score in peaks:
        heat[0, 0, y, x] = score
    size = np.zeros((1, 2, 40, 60), np.float32)
    size[0, 0], size[0, 1] = math.log(h / STRIDE), math.log(w / STRIDE)
    offset = np.full((1, 2, 40, 60), 0.25, np.float32)
    return [heat, size, offset]


def test_decode_peaks_to_boxes_in_image_pixels() -> None:
    # a peak, a weaker neighbour inside its 3x3 window, a far weak peak under the threshold
    found = decode_platedet(
        outputs([(10, 20, 0.9), (10, 21, 0.6), (30, 50, 0.2)], 16, 48), 0.3, 0.5, 480, 320
    )
    assert len(found) == 1
    box, score = found[0]
    assert score == pytest.approx(0.9)
    cx, cy = (20 + 0.25 + 0.5) * STRIDE / 0.5, (10 + 0.25 + 0.5) * STRIDE / 0.5
    assert box == pytest.approx((cx - 48, cy - 16, cx + 48, cy + 16))


def test_decode_clips_to_the_image() -> None:
    (box, _), *_ = decode_platedet(outputs([(0, 0, 0.8)], 40, 80), 0.3, 1.0, 100, 100)
    assert box[0] == 0.0 and box[1] == 0.0


def plate(box: tuple[float, float, float, float], source: str, **kw: object) -> PlateDetection:
    x1, y1, x2, y2 = box
    quad = as_quad([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
    fields: dict = {"text": "AB123", "dscore": 0.8, "oscore": 0.9, "source": source, **kw}
    return PlateDetection(polygon=quad, box=box, **fields)


def test_a_text_plate_needs_the_detectors_support() -> None:
    alone = plate((300, 10, 380, 30), TEXT_SOURCE, oscore=0.7)  # a badge, say: no detector hit
    backed = plate((10, 10, 90, 30), TEXT_SOURCE, oscore=0.7)
    weak = plate((12, 8, 92, 32), "platedet", text="", dscore=0.3, evidence_only=True)
    united = unite_plates([alone, backed, weak], confirm_text=True)
    assert [p.box for p in united] == [backed.box]
    assert united[0].source == TEXT_SOURCE  # evidence confirms, it is never a plate itself


@pytest.mark.parametrize(
    ("text", "oscore", "kept"),
    [("AB123", 0.95, True), ("12345", 0.95, False), ("ABCDE", 0.95, False), ("AB123", 0.8, False)],
)
def test_a_clear_letters_and_digits_reading_needs_no_support(
    text: str, oscore: float, kept: bool
) -> None:
    alone = plate((300, 10, 380, 30), TEXT_SOURCE, text=text, oscore=oscore)
    assert (unite_plates([alone], confirm_text=True) == [alone]) is kept


def test_without_a_detector_text_plates_stand_alone() -> None:
    alone = plate((300, 10, 380, 30), TEXT_SOURCE)
    assert unite_plates([alone], confirm_text=False) == [alone]


def test_strong_detector_plate_and_text_plate_become_one_polygon() -> None:
    text = plate((20, 12, 80, 28), TEXT_SOURCE)
    detected = plate((10, 8, 95, 34), "platedet", text="AB12", dscore=0.9)
    (united,) = unite_plates([text, detected], confirm_text=True)
    assert united.box == (10, 8, 95, 34)  # the union of both
    assert united.text == "AB123"  # the fuller reading
    assert united.source == f"{TEXT_SOURCE}+platedet"


def test_detector_only_plates_are_kept() -> None:
    detected = plate((10, 8, 95, 34), "platedet", text="", oscore=0.0, dscore=0.7)
    assert unite_plates([detected], confirm_text=True) == [detected]


# --- with the real models (marked: they need `make models`) ------------------------------


@pytest.mark.models
def test_real_detector_finds_the_rendered_plate(settings: Settings) -> None:
    detector = detectors.create("plate", "platedet", finder_config(settings))
    found = detector.detect(scene_with_plate(), PlateOptions())  # strong hits and evidence
    xs, ys = [x for x, _ in PLATE_QUAD], [y for _, y in PLATE_QUAD]
    truth = (min(xs), min(ys), max(xs), max(ys))
    assert any(
        p.box[0] <= truth[2]
        and truth[0] <= p.box[2]
        and p.box[1] <= truth[3]
        and truth[1] <= p.box[3]
        for p in found
    ), found


@pytest.mark.models
def test_united_engine_reads_the_rendered_plate(settings: Settings) -> None:
    engine = Engine(
        None,
        [detectors.create("plate", name, finder_config(settings)) for name in ("ocr", "platedet")],
    )
    assert engine.confirms_text
    plates = engine.detect(scene_with_plate("KA 482 MX"), plate_options=PlateOptions()).plates
    assert [p.text for p in plates] == ["KA482MX"]  # confirmed by the detector, or it is dropped


@pytest.mark.models
def test_detector_alone_reads_its_plates(settings: Settings) -> None:
    settings = dataclasses.replace(settings, platedet_threshold=0.3)
    engine = Engine(None, [detectors.create("plate", "platedet", finder_config(settings))])
    plates = engine.detect(scene_with_plate("KA 482 MX"), plate_options=PlateOptions()).plates
    (plate,) = plates
    assert plate.source == "platedet"
    assert "482MX" in plate.text  # read from the detector's quad (its edges can be tight)


def test_a_weak_hit_where_no_plate_is_is_passed_on_after_the_plates() -> None:
    backed = plate((10, 10, 90, 30), TEXT_SOURCE)
    confirming = plate((12, 8, 92, 32), "platedet", text="", dscore=0.3, evidence_only=True)
    elsewhere = plate((200, 100, 280, 125), "platedet", text="", dscore=0.3, evidence_only=True)
    united = unite_plates([elsewhere, backed, confirming], confirm_text=True)
    assert [p.box for p in united] == [backed.box, elsewhere.box]
    assert united[1].evidence_only  # (a reader may make it a plate; else the engine drops it)


def test_a_hit_too_weak_to_confirm_is_still_passed_on_to_be_read() -> None:
    """Between PLATEDET_PROMOTE_THRESHOLD and PLATEDET_CONFIRM_THRESHOLD a hit confirms no text
    plate (the text pipeline's false positives stay out) but may still be read as a plate."""
    text = plate((10, 10, 90, 30), TEXT_SOURCE, oscore=0.7)
    faint = plate(
        (12, 8, 92, 32), "platedet", text="", dscore=0.1, evidence_only=True, supports_text=False
    )
    united = unite_plates([text, faint], confirm_text=True)
    assert [(p.box, p.evidence_only) for p in united] == [(faint.box, True)]


class FakeRunner:
    """Stands in for OpenVinoRunner: fixed outputs, the PP-OCR charset metadata."""

    def __init__(self, out: list[np.ndarray]) -> None:
        self.out = out

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.out

    def metadata(self, *path: str) -> str:
        return "0\n1"


def test_detector_sorts_its_hits_by_the_three_thresholds() -> None:
    heads = outputs([(10, 10, 0.9), (10, 30, 0.3), (30, 10, 0.1), (30, 30, 0.05)], 16, 48)
    detector = PlateDetDetector(
        FakeRunner(heads),  # type: ignore[arg-type]
        FakeRunner([]),  # type: ignore[arg-type]
        long_side=240,
        threshold=0.5,
        confirm_threshold=0.25,
        promote_threshold=0.08,
    )
    found = detector.detect(np.zeros((160, 240, 3), np.uint8), PlateOptions())
    kinds = sorted((p.dscore, p.evidence_only, p.supports_text) for p in found)
    assert kinds == [(0.1, True, False), (0.3, True, True), (0.9, False, True)]


def test_two_hits_that_confirm_make_a_plate_a_fainter_one_does_not() -> None:
    """Two overlapping hits that could each confirm a text plate are a plate (read later); with
    a hit below the confirm threshold the union stays weak evidence."""
    a = plate((12, 8, 92, 32), "platedet", text="", dscore=0.3, evidence_only=True)
    b = plate((14, 9, 94, 33), "platedet", text="", dscore=0.26, evidence_only=True)
    (both,) = unite_plates([a, b], confirm_text=True)
    assert not both.evidence_only
    faint = dataclasses.replace(b, dscore=0.1, supports_text=False)
    (weak,) = unite_plates([a, faint], confirm_text=True)
    assert weak.evidence_only and weak.supports_text


@pytest.mark.parametrize(
    ("text", "oscore", "calibrated", "kept"),
    [
        ("AUB3565", 0.85, 0.75, True),
        ("AUB3565", 0.77, 0.85, True),  # (0.77: a small two-row plate's reading, XZ1701)
        ("AUB3565", 0.7, 0.85, False),
        ("AUB3565", 0.85, 0.45, False),
        ("JI4747", 0.8, 0.63, True),  # no known format, but a registration's look (J 19747)
        ("BALA1", 0.85, 0.6, False),  # one digit: lettering
        ("台2020", 0.85, 0.6, False),  # no Latin letter: a sign
    ],
)
def test_a_faint_reading_that_fits_a_plate_format_needs_no_support(
    text: str, oscore: float, calibrated: float, kept: bool
) -> None:
    """A low-contrast plate out of any car context: no detector hit, OCR below the clear 0.9,
    but a calibrated score only a plate format's reading reaches (FORMAT_READING), or a lower
    one where the reading looks like a registration (LIKE_READING)."""
    faint = plate((300, 10, 380, 30), TEXT_SOURCE, text=text, oscore=oscore)
    faint = dataclasses.replace(faint, candidates=((text, calibrated),))
    assert (unite_plates([faint], confirm_text=True) == [faint]) is kept
