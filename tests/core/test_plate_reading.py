"""Plate reading: the registration line (not city lines, slogans or country bands), two rows in
order, and formats deciding ambiguous characters (rendered plates; real models where marked)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.synthetic import box_quad
from blur_sdk.core.find import text_plates
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.plate_lines import (
    TextLine,
    band_width,
    group_lines,
    line_geometry,
    registration_lines,
    subordinate,
)
from blur_sdk.core.find.text_plates import with_end_characters, with_top_row
from blur_sdk.core.models.platerec import read_plates
from blur_sdk.core.models.ppocr import TextBox, TextReading
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.formats import expand, fit, options_of
from blur_sdk.core.plates.regions import KNOWN_FORMATS, region_formats
from blur_sdk.core.plates.text import KNOWN_PRIOR


def line(x1: float, y1: float, x2: float, y2: float, text: str) -> TextLine:
    quad = box_quad(x1, y1, x2, y2)
    chars = tuple((ch, 0.9, "", 0.0) for ch in text)
    width, height, _ = line_geometry(quad)
    return TextLine(quad, 0.9, TextReading(text, 0.9, chars), width, height, quad.mean(axis=0))


def test_city_line_above_the_registration_is_not_a_plate() -> None:
    city, registration = line(40, 10, 160, 22, "BASALVADOR"), line(20, 30, 180, 70, "JPQ9870")
    groups = group_lines([city, registration])
    kept = [g for g in groups if not subordinate(g, groups)]
    assert [[ln.reading.text for ln in g] for g in kept] == [["JPQ9870"]]


def test_slogan_under_a_us_plate_is_dropped() -> None:
    plate, slogan = line(20, 20, 180, 60, "5LTA600"), line(30, 64, 170, 76, "GRANDCANYONSTATE")
    groups = group_lines([plate, slogan])
    kept = [registration_lines(g) for g in groups if not subordinate(g, groups)]
    assert [[ln.reading.text for ln in g] for g in kept] == [["5LTA600"]]


def test_two_row_plate_reads_top_then_bottom() -> None:
    groups = group_lines([line(10, 50, 70, 80, "1570"), line(12, 10, 68, 40, "PBEM")])
    assert [ln.reading.text for ln in registration_lines(groups[0])] == ["PBEM", "1570"]


def test_a_short_top_row_smaller_than_the_bottom_row_is_read() -> None:
    """A Dutch square plate's VF over XZ-15, an Italian motorcycle's AS over 48875: a top row of
    one or two characters at 0.5-0.6 of the bottom row's height is a row; a city name that
    size, or two characters that size under the registration, are not."""
    top, bottom = line(40, 10, 70, 32, "VF"), line(20, 36, 120, 76, "XZ-15")  # 22 / 40 px
    assert [ln.reading.text for ln in registration_lines([top, bottom])] == ["VF", "XZ-15"]
    city = line(20, 10, 120, 32, "KARACHI")
    assert [ln.reading.text for ln in registration_lines([city, bottom])] == ["XZ-15"]
    under = line(40, 80, 70, 102, "VF")
    assert [ln.reading.text for ln in registration_lines([bottom, under])] == ["XZ-15"]


def test_blue_country_band_is_measured() -> None:
    crop = np.full((48, 200, 3), 240, np.uint8)
    crop[:, :22] = (0, 51, 153)  # the EU strip
    assert 20 <= band_width(crop) <= 24
    assert band_width(np.full((48, 200, 3), 240, np.uint8)) == 0


def chars_of(text: str, weak: dict[int, tuple[str, float]]) -> list[tuple[str, float, str, float]]:
    """Confident characters, except at the weak positions: (second class, its probability)."""
    return [(ch, 0.55, *weak[i]) if i in weak else (ch, 0.97, "", 0.0) for i, ch in enumerate(text)]


def test_format_decides_o_and_0() -> None:
    chars = chars_of("BA3020Z", {5: ("D", 0.2)})  # Italy: AB123CD, a letter at the sixth place
    assert plate_text.candidates(chars, region_formats(["it"]))[0][0] == "BA302OZ"
    chars = chars_of("ABC1234", {})
    chars[2] = ("0", 0.9, "", 0.0)  # confident, but Brazil's formats want a letter there
    assert plate_text.candidates(chars, region_formats(["br"]))[0][0] == "AB" + "O1234"


def test_format_decides_i_1_b_8_without_a_region() -> None:
    chars = chars_of("LM298A1", {6: ("I", 0.3)})
    ranked = plate_text.candidates(chars, region_formats(["it"]))
    assert ranked[0][0] == "LM298AI"
    assert "LM298AI" in [t for t, _ in plate_text.candidates(chars)]


def test_a_lower_case_reading_fits_the_formats() -> None:
    # PP-OCR reads a round O as "o": before, no format fitted such a reading without a hint
    # (it ranked as a reading that fits none: 0.6, not 0.85, x its characters' confidence)
    chars = chars_of("AB1234", {})
    chars.insert(2, ("o", 0.75, "0", 0.1))
    expected = KNOWN_PRIOR * (0.97**6 * 0.75) ** (1 / 7)
    assert plate_text.candidates(chars)[0] == ("ABO1234", pytest.approx(expected, abs=1e-3))
    assert options_of(("o", 0.75, "O", 0.1))[0] == ("O", pytest.approx(0.85))


def test_a_strict_format_decides_over_one_that_allows_letters_and_digits_alike() -> None:
    """BA215A1 fits Yugoslav-era Montenegro's AB123(letter or digit)x2, BA215AI Slovakia's
    AB123CD: without a region, the format that decides the last character wins; with
    `regions=me` the hint alone decides."""
    chars = [(c, 0.95, "", 0.0) for c in "BA215A"] + [("1", 0.6, "I", 0.35)]
    assert plate_text.candidates(chars)[0][0] == "BA215AI"
    assert plate_text.candidates(chars, region_formats(("me",)))[0][0] == "BA215A1"
    # China's format lets five positions be letters or digits, but its province character
    # tells it apart: its O/0 decision still ranks above a reading that fits no format
    chars = [("皖", 0.99, "", 0.0), ("A", 0.99, "", 0.0), ("O", 0.75, "0", 0.2)]
    chars += [(c, 0.99, "", 0.0) for c in "N718"]
    assert plate_text.candidates(chars)[0][0] == "皖A0N718"


def test_polands_hinted_series_decide_letters_and_digits_with_the_hint_only() -> None:
    cases = {  # three-letter district + 5 digits; individual; reduced (motorcycle)
        "WCI02888": chars_of("WC702888", {2: ("I", 0.3)}),
        "L0RAFI": chars_of("LORAFI", {1: ("0", 0.3)}),
        "WD7592": chars_of("WD7S92", {3: ("5", 0.3)}),
    }
    for truth, chars in cases.items():
        assert plate_text.candidates(chars, region_formats(["pl"]))[0][0] == truth
    assert r"[A-Z][0-9][A-Z0-9]{3,5}" not in KNOWN_FORMATS  # (without a hint: too broad)


def test_country_letters_glued_on_are_cut() -> None:
    chars = chars_of("SKRK857AI", {})
    assert plate_text.candidates(chars, region_formats(["sk"]))[0][0] == "RK857AI"


def test_format_expansion() -> None:
    assert len(expand(r"[A-Z]{3}[0-9]{4}", 7)) == 1
    assert expand(r"[A-Z]{3}[0-9]{4}", 6) == ()
    assert len(expand(r"[0-9]{1,4}[A-Z]{1,3}(?:[0-9]{2,3}|2A|2B)", 6)) > 1
    options = [options_of(("8", 0.9, "", 0.0)), options_of(("A", 0.9, "", 0.0))]
    assert fit(options, (r"[A-Z]{2}",)) == {"BA": pytest.approx((0.05 * 0.9) ** 0.5)}


def render(rows: list[tuple[str, float]], band: bool = False) -> np.ndarray:
    """A white plate with rows of (text, relative size), the EU band at its left on request."""
    height = 60 + 70 * sum(size for _, size in rows)
    plate = np.full((int(height), 420, 3), 245, np.uint8)
    cv2.rectangle(plate, (2, 2), (417, int(height) - 3), (20, 20, 20), 3)
    x0, y = (60 if band else 20), 30
    if band:
        plate[4:-4, 4:48] = (0, 51, 153)
        cv2.putText(plate, "SK", (8, int(height) - 20), 0, 0.8, (240, 240, 240), 2)
    for text, size in rows:
        scale, thick = 2.2 * size, max(1, round(5 * size))
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thick)
        x = x0 + (420 - x0 - 20 - tw) // 2
        cv2.putText(plate, text, (x, y + th), cv2.FONT_HERSHEY_DUPLEX, scale, (15, 15, 15), thick)
        y += th + 25
    return plate


@pytest.fixture(scope="module")
def ocr(real_engine: Engine) -> object:
    return next(d for d in real_engine.plate_detectors if d.name == "ocr")


@pytest.mark.models
@pytest.mark.parametrize(
    ("rows", "band", "region", "expected"),
    [
        ([("BA SALVADOR", 0.4), ("JPQ9870", 1.0)], False, "br", "JPQ9870"),
        ([("BA SALVADOR", 0.4), ("JPQ9870", 1.0)], False, "", "JPQ9870"),
        ([("RK857AI", 1.0)], True, "sk", "RK857AI"),
        ([("PBEM", 1.0), ("1570", 1.0)], False, "bg", "PBEM1570"),
        ([("5LTA600", 1.0), ("GRAND CANYON STATE", 0.35)], False, "us", "5LTA600"),
    ],
)  # fmt: skip
def test_rendered_plates_read_the_registration(
    ocr: object, rows: list[tuple[str, float]], band: bool, region: str, expected: str
) -> None:
    options = PlateOptions(regions=(region,) if region else ())
    ranked = ocr.read_crop(render(rows, band), options)  # type: ignore[attr-defined]
    assert ranked[0][0] == expected


@pytest.mark.models
@pytest.mark.parametrize(
    ("rows", "band", "expected"),
    [
        ([("JPQ9870", 1.0)], False, "JPQ9870"),
        ([("RK857AI", 1.0)], True, "RK857AI"),
        ([("PBEM", 1.0), ("1570", 1.0)], False, "PBEM1570"),
    ],
)  # fmt: skip
def test_our_recogniser_reads_one_and_two_row_plates_without_the_band(
    ocr: object, rows: list[tuple[str, float]], band: bool, expected: str
) -> None:
    plate_rec = ocr.plate_rec  # type: ignore[attr-defined]
    assert plate_rec is not None  # (PLATE_READER=both, the default)
    (reading,) = read_plates(plate_rec, [render(rows, band)])
    assert reading.text == expected


def test_formats_with_unicode_escapes_survive_upper_casing() -> None:
    """CN's format names its province characters as \\u escapes: upper-casing the pattern must
    not turn them into \\U escapes (a crash on every regions=cn request)."""
    from blur_sdk.core.plates.regions import region_formats
    from blur_sdk.core.plates.text import candidates

    chars = [("皖", 0.9, "", 0.0)] + [(c, 0.9, "", 0.0) for c in "AYL375"]
    assert candidates(chars, region_formats(("cn",)))[0][0] == "皖AYL375"


def test_a_blue_plate_is_not_a_country_band() -> None:
    """A Chinese plate is blue from edge to edge: no EU band is cut off its first character."""
    from blur_sdk.core.find.plate_lines import band_width

    plate = np.zeros((40, 200, 3), np.uint8)
    plate[:] = (20, 60, 200)  # blue everywhere
    plate[8:32, 20:30] = 255  # a white stroke of the first character
    assert band_width(plate) == 0
    eu = np.full((40, 200, 3), 255, np.uint8)
    eu[:, :22] = (20, 60, 200)  # the blue band, white plate beyond
    assert band_width(eu) > 0


@pytest.mark.models
def test_a_first_character_text_detection_left_out_is_read(ocr: object) -> None:
    """Text detection's line starts after a faint first character (seen on blurred, washed-out
    Brazilian plates): the line, fitting no format, is read again wider (real PP-OCR)."""
    plate = render([("ABB4730", 1.0)])
    (tw, th), _ = cv2.getTextSize("ABB4730", cv2.FONT_HERSHEY_DUPLEX, 2.2, 5)
    (aw, _), _ = cv2.getTextSize("A", cv2.FONT_HERSHEY_DUPLEX, 2.2, 5)
    x = 20 + (420 - 20 - 20 - tw) // 2
    scene = np.full((240, 560, 3), 90, np.uint8)
    scene[40 : 40 + plate.shape[0], 70:490] = plate
    x1, x2, y1, y2 = 70 + x + aw + 4, 70 + x + tw + 6, 40 + 24, 40 + 36 + th
    quad = box_quad(x1, y1, x2, y2)
    width, height, _ = line_geometry(quad)
    chars = tuple((c, 0.9, "", 0.0) for c in "BB4730")
    cut = TextLine(quad, 0.9, TextReading("BB4730", 0.9, chars), width, height, quad.mean(0))
    formats = region_formats(["br"])
    ranked = plate_text.candidates(chars, formats)
    out = ocr.reread_wider(scene, cut, ranked, formats)  # type: ignore[attr-defined]
    assert out[0][0] == "ABB4730"


def test_a_reading_with_its_top_row_wins_only_where_it_is_the_whole() -> None:
    one_row = [("361DH", 0.84)]
    assert with_top_row(one_row, [("KI361DH", 0.8)], (), "361DH")[0][0] == "KI361DH"
    assert with_top_row(one_row, [("361DHX", 0.9)], (), "361DH")[0][0] == "361DH"  # (not above)
    assert with_top_row(one_row, [("KI", 0.9)], (), "361DH") == one_row  # fits no plate format
    assert with_top_row([("3", 0.5)], [("KI361DH", 0.8)], (), "3")[0][0] == "KI361DH"
    # a region's format made the row "G1DH" (3 cut, 6 as G): the row's own text decides
    at = region_formats(["at"])
    assert with_top_row([("G1DH", 0.25)], [("KI361DH", 0.96)], at, "361DH")[0][0] == "KI361DH"


@pytest.mark.models
def test_a_two_row_plate_whose_top_row_text_detection_missed_reads_both_rows(
    ocr: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A square plate with a short top row (two letters beside a crest, as on Austrian and
    German two-row plates) that the photo's text detection misses: the characters standing
    above the line found make the plate be read on its own, top row first, without a hint."""
    plate = render([("KI", 1.0), ("361DH", 1.0)])
    scene = np.full((480, 640, 3), 70, np.uint8)
    small = cv2.resize(plate, (plate.shape[1] // 3, plate.shape[0] // 3), cv2.INTER_AREA)
    top = 200
    scene[top : top + small.shape[0], 260 : 260 + small.shape[1]] = small
    real_detect = text_plates.detect_text

    def bottom_row_only(*args: object, **kwargs: object) -> list[TextBox]:
        boxes = real_detect(*args, **kwargs)  # type: ignore[arg-type]
        return [b for b in boxes if b.quad[:, 1].mean() > top + small.shape[0] / 2]

    monkeypatch.setattr(text_plates, "detect_text", bottom_row_only)
    plates = ocr.detect(scene, PlateOptions())  # type: ignore[attr-defined]
    assert [p.text for p in plates] == ["KI361DH"]


def test_a_wider_reading_wins_where_it_adds_characters_at_the_ends() -> None:
    line = [("BG8328", 0.83)]
    assert with_end_characters(line, [("ABG8328", 0.8)], "BG8328")[0][0] == "ABG8328"
    assert with_end_characters(line, [("BG83281", 0.8)], "BG8328")[0][0] == "BG83281"
    assert with_end_characters(line, [("8G8328", 0.9)], "BG8328") == line  # (not the same line)
    assert with_end_characters(line, [("XYBG8328ZZQ", 0.9)], "BG8328") == line  # fits no format
    assert with_end_characters(line, [], "BG8328") == line
    latin = [("ATG0363", 0.8)]
    assert with_end_characters(latin, [("皖ATG0363", 0.9)], "ATG0363") == latin  # (no CJK added)
