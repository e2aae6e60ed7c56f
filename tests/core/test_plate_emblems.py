"""Plate lines as read (blur_sdk.core.plates.emblems): a coloured seal between a plate's groups is
dropped from the reading; coloured glyphs and coloured plates keep every character; a glyph read
as a character no plate carries ("]" for J) is read as the plate's character."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.models.ppocr import TextReading, decode_ctc
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.emblems import as_plate_glyphs, without_emblems

Colour = tuple[int, int, int]
STEP = 28  # px between character centres in the 48 px high line crops below


def line_crop(
    text: str, glyph: Colour = (15, 15, 15), plate: Colour = (240, 240, 240), seal_at: int = -1
) -> tuple[npt.NDArray[np.uint8], TextReading]:
    """A 48 px high line of characters (a red and blue seal in place of character seal_at) and
    the reading PP-OCR would give, with each character's centre."""
    crop = np.full((48, STEP * len(text) + 8, 3), plate, np.uint8)
    xs = []
    for i, ch in enumerate(text):
        x = 4 + STEP * i + STEP // 2
        xs.append(float(x))
        if i == seal_at:
            cv2.circle(crop, (x, 24), 11, (210, 30, 30), -1)
            cv2.circle(crop, (x, 24), 5, (30, 60, 200), -1)
        else:
            cv2.putText(crop, ch, (x - 10, 36), cv2.FONT_HERSHEY_DUPLEX, 0.9, glyph, 2)
    chars = tuple((ch, 0.9, "", 0.0) for ch in text)
    return crop, TextReading(text, 0.9, chars, tuple(xs))


def test_a_seal_read_as_a_letter_is_dropped() -> None:
    crop, reading = line_crop("HHONR367", seal_at=2)
    out = without_emblems(crop, reading)
    assert out.text == "HHNR367"
    assert len(out.xs) == len(out.chars) == 7


def test_a_crest_beside_a_two_row_plates_district_is_dropped() -> None:
    """An Austrian two-row plate's top row: the district's letter and its crest, read "W4"."""
    crop, reading = line_crop("W4", seal_at=1)
    assert without_emblems(crop, reading).text == "W"
    crop, reading = line_crop("W")  # one character: nothing to compare it with
    assert without_emblems(crop, reading) == reading


def test_plain_lines_coloured_glyphs_and_coloured_plates_keep_every_character() -> None:
    crop, reading = line_crop("HHNR367")
    assert without_emblems(crop, reading) == reading
    crop, reading = line_crop("1MCK049", glyph=(150, 20, 30))  # Belgium: red characters
    assert without_emblems(crop, reading) == reading
    crop, reading = line_crop("AB12CDE", plate=(245, 200, 20))  # a yellow plate
    assert without_emblems(crop, reading) == reading


def test_a_line_that_is_the_eu_bands_country_code_reads_as_nothing() -> None:
    """ "LT" on the blue band beside a Lithuanian two-row plate's top row is no registration;
    a blue plate's long line (China), a diplomatic plate's blue "CD" row (no country's sign)
    and a country's letters on another colour keep their reading."""
    crop, reading = line_crop("LT", glyph=(250, 250, 250), plate=(20, 60, 170))
    out = without_emblems(crop, reading)
    assert out.text == "" and out.chars == () and out.xs == ()
    crop, reading = line_crop("D", glyph=(250, 250, 250), plate=(20, 60, 170))
    assert without_emblems(crop, reading).text == ""
    crop, reading = line_crop("A12345", glyph=(250, 250, 250), plate=(20, 60, 170))
    assert without_emblems(crop, reading) == reading
    crop, reading = line_crop("CD", glyph=(250, 250, 250), plate=(20, 60, 170))
    assert without_emblems(crop, reading) == reading
    crop, reading = line_crop("NL", plate=(245, 200, 20))  # a yellow plate's short row
    assert without_emblems(crop, reading) == reading


def test_a_first_digit_the_band_reaches_into_is_kept_a_band_letter_is_not() -> None:
    """The EU band's blue reaching into a Dutch 82-20's first character makes it no emblem (a
    digit); the band's own letter read at a line's start ("AWB84") is one."""
    for text, expected in (("8220AE", "8220AE"), ("AWB84", "WB84")):
        crop, reading = line_crop(text)
        crop[:, : round(reading.xs[0]) + 4] = (20, 60, 170)  # the band, over half the first
        assert without_emblems(crop, reading).text == expected


def test_a_reading_without_positions_is_left_as_it_is() -> None:
    crop, reading = line_crop("HHONR367", seal_at=2)
    bare = TextReading(reading.text, reading.score, reading.chars)
    assert without_emblems(crop, bare) == bare


def test_decoding_places_each_character_at_its_step() -> None:
    probs = np.zeros((4, 3), np.float32)
    probs[:, 0] = 1.0  # blanks
    probs[1] = (0.0, 1.0, 0.0)  # "a" at step 1
    probs[3] = (0.0, 0.0, 1.0)  # "b" at step 3
    reading = decode_ctc(probs, ["a", "b"], width=32)
    assert reading.text == "ab"
    assert reading.xs == (12.0, 28.0)
    assert decode_ctc(probs, ["a", "b"]).xs == ()


def test_a_j_read_as_a_bracket_is_a_j() -> None:
    """PP-OCR reads a plate font's J as "]": Poland's GD 9751J read GD9751], then GD9751."""
    chars = (
        *((ch, 0.95, "", 0.0) for ch in "GD9751"),
        ("]", 0.8, "1", 0.1),
    )
    reading = TextReading("GD9751]", 0.9, chars, tuple(float(10 * i) for i in range(7)))
    mapped = as_plate_glyphs(reading)
    assert mapped.text == "GD9751J"
    assert mapped.chars[-1] == ("J", 0.8, "1", 0.1)
    assert (mapped.score, mapped.xs) == (reading.score, reading.xs)
    assert plate_text.candidates(mapped.chars)[0][0] == "GD9751J"
    assert plate_text.candidates(reading.chars)[0][0] == "GD9751"  # (the bracket dropped)
    runner_up = TextReading(
        "AB1", 0.9, (("A", 0.9, "", 0.0), ("B", 0.9, "", 0.0), ("1", 0.6, "]", 0.3))
    )
    assert as_plate_glyphs(runner_up).chars[-1] == ("1", 0.6, "J", 0.3)
    plain = TextReading("AB123", 0.9, tuple((ch, 0.9, "", 0.0) for ch in "AB123"))
    assert as_plate_glyphs(plain) is plain
