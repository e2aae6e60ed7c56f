"""Our plate recogniser's pre-processing and CTC decoding, and how its readings are merged
with PP-OCR's (fake runners; the real model is exercised in test_plate_reading.py)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from blur_sdk.core.find.text_plates import OcrPlateDetector
from blur_sdk.core.models.platerec import INPUT_H, INPUT_W, prepare, read_plates
from blur_sdk.core.models.ppocr import decode_ctc
from blur_sdk.core.models.runner import OpenVinoRunner
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.regions import region_formats
from blur_sdk.errors import ConfigError
from blur_sdk.settings import load_settings

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # class i + 1; 0 is the CTC blank
STEPS = 48


def sequence(text: str, confidence: float = 0.9, alternatives: dict[int, str] | None = None) -> Any:
    """CTC probabilities [STEPS, 1 + len(ALPHABET)] reading `text` (blank between characters,
    the characters in the bottom row's steps as a one-row plate reads)."""
    probs = np.full((STEPS, 1 + len(ALPHABET)), 0.001, np.float32)
    probs[:, 0] = 0.95
    for i, char in enumerate(text):
        t = STEPS // 2 + 2 * i
        probs[t, 0] = 0.001
        probs[t, 1 + ALPHABET.index(char)] = confidence
        alt = (alternatives or {}).get(i)
        if alt:
            probs[t, 1 + ALPHABET.index(alt)] = 1 - confidence - 0.01
    return probs


class FakeRecogniser:
    """Stands in for the OpenVINO runner: answers the same reading for every crop."""

    def __init__(
        self, text: str, alternatives: dict[int, str] | None = None, confidence: float = 0.9
    ) -> None:
        self.text, self.alternatives, self.confidence = text, alternatives, confidence
        self.batches: list[tuple[int, ...]] = []

    def infer(self, batch: Any) -> list[Any]:
        self.batches.append(tuple(batch.shape))
        reading = sequence(self.text, self.confidence, self.alternatives)
        return [np.stack([reading] * batch.shape[0])]

    def metadata(self, *keys: str) -> str:
        return ALPHABET


def test_prepare_resizes_any_crop_to_the_input() -> None:
    for shape in ((20, 30, 3), (200, 500, 3), (48, 96, 3)):
        out = prepare(np.full(shape, 255, np.uint8))
        assert out.shape == (3, INPUT_H, INPUT_W)
        assert out.dtype == np.float32 and float(out.max()) == 1.0


def test_readings_keep_each_characters_alternative() -> None:
    runner = FakeRecogniser("AB1230", {2: "I"})
    (reading,) = read_plates(cast(OpenVinoRunner, runner), [np.zeros((40, 80, 3), np.uint8)])
    assert reading.text == "AB1230"
    assert reading.chars[2][:3] == ("1", pytest.approx(0.9), "I")
    assert reading.score == pytest.approx(0.9)
    (empty,) = read_plates(
        cast(OpenVinoRunner, FakeRecogniser("")), [np.zeros((9, 9, 3), np.uint8)]
    )
    assert empty.text == ""


def test_read_plates_batches_in_powers_of_two() -> None:
    runner = FakeRecogniser("ABC1234")
    crops = [np.zeros((30, 90, 3), np.uint8)] * 7
    readings = read_plates(cast(OpenVinoRunner, runner), crops)
    assert [r.text for r in readings] == ["ABC1234"] * 7
    assert [b[0] for b in runner.batches] == [4, 2, 1]


def test_merged_ranks_a_requested_format_first_then_by_score() -> None:
    ppocr = [("ESVITORIA", 0.9)]
    ours = [("JPQ9870", 0.7), ("JPQ987O", 0.2)]
    assert plate_text.merged([ppocr, ours])[0] == ("ESVITORIA", 0.9)
    formats = region_formats(("br",))
    assert plate_text.merged([ppocr, ours], formats)[0] == ("JPQ9870", 0.7)
    # a text both readers propose keeps its best score, once
    assert plate_text.merged([[("AB12", 0.5)], [("AB12", 0.6)]]) == [("AB12", 0.6)]


def test_second_opinion_keeps_chinese_readings_and_merges_the_rest() -> None:
    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.plate_rec = cast(OpenVinoRunner, FakeRecogniser("RKO82AL"))
    image = np.zeros((60, 200, 3), np.uint8)
    quads = [np.array([[10, 10], [100, 10], [100, 40], [10, 40]], np.float64)] * 2
    chinese = [("\u4eacA12345", 0.5)]
    misread = [("SKRK082A1", 0.4)]
    out = detector.second_opinion(image, quads, [chinese, misread], ())
    assert out[0] == chinese
    assert out[1][0][0] == "RKO82AL"
    detector.plate_rec = None
    assert detector.second_opinion(image, quads, [chinese, misread], ()) == [chinese, misread]


def test_plate_reader_setting_is_validated() -> None:
    assert load_settings(env={}).plate_reader == "both"
    assert load_settings(env={"PLATE_READER": "ppocr"}).plate_reader == "ppocr"
    with pytest.raises(ConfigError, match="PLATE_READER"):
        load_settings(env={"PLATE_READER": "tesseract"})


def weak_hit(box: tuple[float, float, float, float]) -> Any:
    from blur_sdk.core.find.base import PlateDetection
    from blur_sdk.core.geometry import as_quad

    x1, y1, x2, y2 = box
    quad = as_quad([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
    return PlateDetection(quad, box, "", 0.3, 0.0, source="platedet", evidence_only=True)


@pytest.mark.parametrize(("reading", "promoted"), [("ABC1234", True), ("XQ", False)])
@pytest.mark.parametrize("ours", [True, False])
def test_a_weak_hit_read_clearly_in_a_plate_format_becomes_a_plate(
    reading: str, promoted: bool, ours: bool
) -> None:
    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.rec = cast(OpenVinoRunner, FakeRecogniser(reading))  # PP-OCR, as one line
    detector.charset = list(ALPHABET)
    detector.plate_rec = cast(OpenVinoRunner, FakeRecogniser(reading)) if ours else None
    image = np.zeros((120, 200, 3), np.uint8)
    (out,) = detector.promote(image, [weak_hit((20, 20, 120, 50))], ())
    assert out.evidence_only is not promoted
    assert (out.text == reading) is promoted


@pytest.mark.parametrize(
    ("reading", "promoted"),
    [("IR760", True), ("JDS191", True), ("BALA1", False), ("DEFEN0", False), ("A1B2C3D4E", False)],
)
def test_a_weak_hit_read_faintly_becomes_a_plate_where_it_looks_like_a_registration(
    reading: str, promoted: bool
) -> None:
    """Read at a score under PROMOTE_SCORE but at LIKE_SCORE or more, a hit is a plate where
    its reading has 5-8 characters, two digits or more and a letter (a blurred plate read in
    part: IR760 of IBR1760), not where it reads like a sign ("BALA1", "DEFEN0": one digit)."""
    from blur_sdk.core.find.plate_rereads import LIKE_SCORE, PROMOTE_SCORE

    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.rec = cast(OpenVinoRunner, FakeRecogniser(reading, confidence=0.8))
    detector.charset = list(ALPHABET)
    detector.plate_rec = None
    image = np.zeros((120, 200, 3), np.uint8)
    (out,) = detector.promote(image, [weak_hit((20, 20, 120, 50))], ())
    chars = decode_ctc(sequence(reading, 0.8), list(ALPHABET)).chars
    assert LIKE_SCORE <= plate_text.candidates(chars)[0][1] < PROMOTE_SCORE
    assert out.evidence_only is not promoted


@pytest.mark.parametrize(
    ("ours", "read_by_ppocr"), [("AB1", True), ("24", True), ("D", False), ("", False)]
)
@pytest.mark.parametrize("hint", [(), ("br",)])
def test_ppocr_reads_only_the_weak_hits_our_recogniser_reads_two_characters_in(
    ours: str, read_by_ppocr: bool, hint: tuple[str, ...]
) -> None:
    """Our recogniser (cheap) reads every weak hit once; PP-OCR only those where it read
    WEAK_HIT_CHARS or more (no promoted hit had fewer than 2 on the dev sets: one large
    plate ours read as "24", the others 4 or more)."""
    from blur_sdk.core.find.plate_rereads import WEAK_HIT_CHARS

    assert WEAK_HIT_CHARS == 2
    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    ppocr, plate_rec = FakeRecogniser("ABC1234"), FakeRecogniser(ours)
    detector.rec, detector.plate_rec = cast(OpenVinoRunner, ppocr), cast(OpenVinoRunner, plate_rec)
    detector.charset = list(ALPHABET)
    image = np.zeros((120, 200, 3), np.uint8)
    hits = [weak_hit((20, 20, 120, 50)), weak_hit((20, 70, 120, 100))]
    out = detector.promote(image, hits, region_formats(hint))
    assert [b[0] for b in plate_rec.batches] == [2]  # both hits, once, whatever the hint
    assert [b[0] for b in ppocr.batches] == ([2] if read_by_ppocr else [])
    assert [(p.evidence_only, p.text) for p in out] == (
        [(False, "ABC1234")] * 2 if read_by_ppocr else [(True, "")] * 2
    )


def test_a_cjk_character_inside_a_latin_reading_is_dropped() -> None:
    def chars(text: str) -> list[tuple[str, float, str, float]]:
        return [(c, 0.95, "", 0.0) for c in text]

    assert plate_text.candidates(chars("FR\u53701SFK"))[0][0] == "FR1SFK"  # an Austrian crest
    assert plate_text.candidates(chars("\u4eacA12345"))[0][0] == "\u4eacA12345"  # a province


@pytest.mark.parametrize("hint", [(), ("br",)])
def test_a_weak_hit_in_another_regions_format_is_a_plate_whatever_the_hint(
    hint: tuple[str, ...],
) -> None:
    """A foreign car's plate is a plate: a region hint ranks readings, it does not unfind one."""
    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.rec = cast(OpenVinoRunner, FakeRecogniser("AU7020"))  # fits no Brazilian format
    detector.charset = list(ALPHABET)
    detector.plate_rec = None
    image = np.zeros((120, 200, 3), np.uint8)
    (out,) = detector.promote(image, [weak_hit((20, 20, 120, 50))], region_formats(hint))
    assert not out.evidence_only and out.text == "AU7020"


@pytest.mark.parametrize(("wider", "expected"), [("ABB4730", "ABB4730"), ("XQ", "BB4730")])
def test_a_line_that_fits_no_format_is_read_again_wider(wider: str, expected: str) -> None:
    from blur_sdk.core.find.plate_lines import TextLine, line_geometry
    from blur_sdk.core.models.ppocr import TextReading

    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.rec = cast(OpenVinoRunner, FakeRecogniser(wider))  # the wider crop's reading
    detector.charset = list(ALPHABET)
    quad = np.array([[40, 20], [120, 20], [120, 40], [40, 40]], np.float64)
    width, height, _ = line_geometry(quad)
    chars = tuple((c, 0.9, "", 0.0) for c in "BB4730")
    line = TextLine(quad, 0.9, TextReading("BB4730", 0.9, chars), width, height, quad.mean(0))
    ranked = plate_text.candidates(chars, region_formats(["br"]))
    image = np.zeros((60, 200, 3), np.uint8)
    out = detector.reread_wider(image, line, ranked, region_formats(["br"]))
    assert out[0][0] == expected


class RowsRecogniser(FakeRecogniser):
    """Answers the given readings in turn, one per crop."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__("")
        self.queue = list(texts)

    def infer(self, batch: Any) -> list[Any]:
        texts = [self.queue.pop(0) for _ in range(batch.shape[0])]
        return [np.stack([sequence(t, 0.9) for t in texts])]


def text_line(quad_box: tuple[float, float, float, float], text: str) -> Any:
    from blur_sdk.core.find.plate_lines import TextLine, line_geometry
    from blur_sdk.core.models.ppocr import TextReading

    x1, y1, x2, y2 = quad_box
    quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)
    width, height, _ = line_geometry(quad)
    chars = tuple((c, 0.9, "", 0.0) for c in text)
    return TextLine(quad, 0.9, TextReading(text, 0.9, chars), width, height, quad.mean(0))


def rows_reader(texts: list[str]) -> OcrPlateDetector:
    detector = OcrPlateDetector.__new__(OcrPlateDetector)
    detector.rec = cast(OpenVinoRunner, RowsRecogniser(texts))
    detector.charset = list(ALPHABET)
    return detector


CONTENT = (32.0, 32.0, 256.0, 192.0)  # the plate inside read_crop's padded, grown image


@pytest.mark.parametrize(
    ("answers", "expected"),
    [(["KA", "1403"], "KA1403"), (["XQ", "ZZZZZZZZZ"], "A1403")],
)
def test_a_two_row_plates_rows_are_read_across_the_whole_plate(
    answers: list[str], expected: str
) -> None:
    """Text detection found only "A" of the top row "K A": the rows read again across the
    plate; a wider reading that fits no format leaves the first reading."""
    rows = [text_line((150, 40, 190, 100), "A"), text_line((60, 110, 230, 180), "1403")]
    formats = region_formats(["by"]) + region_formats(["bg"])
    ranked = plate_text.candidates(tuple(c for r in rows for c in r.reading.chars))
    big = np.zeros((224, 288, 3), np.uint8)
    out = rows_reader(answers).rows_across(big, rows, CONTENT, ranked, formats)
    assert out[0][0] == expected


@pytest.mark.parametrize(
    ("above", "region", "expected"),
    [("I", "at", "I510AG"), ("I", "", "I510AG"), ("BASALVADOR", "", "510AG")],
)
def test_a_missing_top_row_is_read_above_a_single_row(
    above: str, region: str, expected: str
) -> None:
    """A one-row reading with a row's room above it: the strip above read as a top row of 1-4
    characters (an Austrian "I" beside its crest); a city line's long text is not one."""
    rows = [text_line((60, 120, 230, 180), "510AG")]
    formats = region_formats([region] if region else [])
    ranked = plate_text.candidates(rows[0].reading.chars, formats)
    big = np.zeros((224, 288, 3), np.uint8)
    out = rows_reader([above, "510AG"]).rows_across(big, rows, CONTENT, ranked, formats)
    assert out[0][0] == expected


@pytest.mark.parametrize(
    ("region", "text"),
    [("it", "AY73888"), ("it", "VI868807"), ("gr", "XTX582"), ("pl", "BIAKY73"),
     ("pl", "KNS1H98"), ("pl", "CIN78A6"), ("me", "PG11259")],
)  # fmt: skip
def test_older_and_motorcycle_formats_keep_confident_digits(region: str, text: str) -> None:
    """Italian motorcycles (AB12345) and pre-1985 plates, Greek motorcycles (ABC123), Polish
    three-letter districts' 1A23 / 12A3 / AB12 series, Yugoslav-era Montenegrin plates: a
    region hint no longer forces letters onto confident digits."""
    chars = tuple((c, 0.95, "", 0.0) for c in text)
    assert plate_text.candidates(chars, region_formats([region]))[0][0] == text


def test_a_one_row_plate_is_read_with_a_row_above_it() -> None:
    """The hinted re-read of a plate that fits no format looks a text row above a one-row
    plate (a two-row plate whose top row text detection missed); two rows stay as they are."""
    quad = np.array([[10, 50], [110, 50], [110, 80], [10, 80]], np.float64)
    one = [text_line((20, 55, 100, 75), "510AG")]
    grown = OcrPlateDetector.with_row_above(quad, one)
    assert grown[0][1] == pytest.approx(50 - 1.2 * 20) and grown[3][1] == pytest.approx(80)
    two = [text_line((40, 20, 80, 40), "KA"), text_line((20, 55, 100, 75), "1403")]
    assert np.array_equal(OcrPlateDetector.with_row_above(quad, two), quad)
