"""A text-found plate read again (OcrPlateDetector.read_whole): when a Chinese plate's line,
read without a region hint, misses a character, or when the plate has two rows, the plate is
read on its own (fakes stand in for the models and for read_crop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.text_plates import OcrPlateDetector
from blur_sdk.core.plates import text as plate_text
from tests.core.test_find import line


class CropReader(OcrPlateDetector):
    """read_whole's detector with read_crop answering a fixed reading (calls counted)."""

    def __init__(self, answer: list[tuple[str, float]]) -> None:  # (no models loaded)
        self.answer, self.crops = answer, 0

    def read_crop(self, crop: Any, options: PlateOptions) -> list[tuple[str, float]]:
        self.crops += 1
        return self.answer


def read_whole(detector: CropReader, text: str, options: PlateOptions) -> list[tuple[str, float]]:
    group = [line(100, 100, 260, 140, text)]
    quad = group[0].quad
    ranked = plate_text.candidates(group[0].reading.chars)
    return detector.read_whole(np.zeros((300, 400, 3), np.uint8), group, quad, ranked, options)


def test_a_chinese_line_missing_a_character_is_read_on_its_own() -> None:
    detector = CropReader([("\u7696A999J3", 0.85)])
    out = read_whole(detector, "\u7696A9993", PlateOptions())
    assert detector.crops == 1 and out[0][0] == "\u7696A999J3"


@pytest.mark.parametrize(
    ("text", "answer", "options"),
    [
        ("\u7696A999J3", [("\u7696A999J3", 0.9)], PlateOptions()),  # a whole Chinese plate
        ("ABC1234", [("ABC1234", 0.9)], PlateOptions()),  # no province character
    ],
)
def test_other_lines_are_not_read_again(text: str, answer: Any, options: PlateOptions) -> None:
    detector = CropReader(answer)
    out = read_whole(detector, text, options)
    assert detector.crops == 0 and out[0][0] == text


def test_a_crop_reading_that_is_no_chinese_plate_keeps_the_line() -> None:
    detector = CropReader([("A9993", 0.9)])
    out = read_whole(detector, "\u7696A9993", PlateOptions())
    assert detector.crops == 1
    assert out == plate_text.candidates(line(0, 0, 1, 1, "\u7696A9993").reading.chars)


def test_a_two_row_plate_is_read_on_its_own_without_a_hint_too() -> None:
    # an Austrian district over its number ("IL" / "3UYB"): the rows' text lines miss part of
    # it; read on its own (larger), the better of the readings wins, with or without a hint
    group = [line(140, 100, 200, 130, "IL"), line(100, 136, 240, 166, "3UYB")]
    quad = np.array([[100, 100], [240, 100], [240, 166], [100, 166]], np.float64)
    for options in (PlateOptions(), PlateOptions(regions=("at",))):
        detector = CropReader([("IL3UYB", 0.95)])
        ranked = plate_text.candidates([c for ln in group for c in ln.reading.chars])
        image = np.zeros((300, 400, 3), np.uint8)
        out = detector.read_whole(image, group, quad, ranked, options)
        assert detector.crops == 1 and out[0][0] == "IL3UYB"
