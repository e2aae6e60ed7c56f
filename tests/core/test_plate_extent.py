"""Tests for blur_sdk.core.plates.extent: a partial text quad grows to the whole plate."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from blur_sdk.core.find.text_plates import TextLine, plate_quad
from blur_sdk.core.geometry import box_of
from blur_sdk.core.models.ppocr import TextReading
from blur_sdk.core.plates.extent import Extension, extend_quad, extend_to_plate, glyphs_above

PLATE = (100, 80, 332, 140)  # x0, y0, x1, y1 of the rendered plate
TEXT_TOP, TEXT_BOTTOM = 92, 128
FONT, SCALE, THICK = cv2.FONT_HERSHEY_DUPLEX, 1.3, 3
FIRST_END = 112 + cv2.getTextSize("V345", FONT, SCALE, THICK)[0][0]  # where "V345" ends
SECOND_START = FIRST_END + 24  # a gap of about 0.7 character heights, as on UK plates


def yellow_plate_scene(
    body: tuple[int, int, int] = (25, 28, 35), second: str = "EBY"
) -> npt.NDArray[np.uint8]:
    """A dark car body with a yellow plate reading "V345 EBY" (two character groups)."""
    img = np.zeros((240, 480, 3), np.uint8)
    img[:] = body
    x0, y0, x1, y1 = PLATE
    img[y0:y1, x0:x1] = (235, 200, 30)
    for text, x in (("V345", 112), (second, SECOND_START)):
        cv2.putText(img, text, (x, TEXT_BOTTOM - 2), FONT, SCALE, (20, 20, 20), THICK, cv2.LINE_AA)
    return img


def box_quad(x0: float, y0: float, x1: float, y1: float) -> npt.NDArray[np.float64]:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def covered(quad: npt.NDArray[np.float64], box: tuple[float, float, float, float]) -> float:
    """Share of the box inside the quad."""
    mask = np.zeros((300, 600), np.uint8)
    cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    x0, y0, x1, y1 = (round(v) for v in box)
    return float(mask[y0:y1, x0:x1].mean())


def test_a_partial_reading_grows_over_the_second_character_group() -> None:
    img = yellow_plate_scene()
    first_group = box_quad(108, TEXT_TOP, FIRST_END + 3, TEXT_BOTTOM)  # "V345" only
    grown = extend_to_plate(img, first_group)
    assert covered(grown, (110, TEXT_TOP, 318, TEXT_BOTTOM)) >= 0.97  # "EBY" is inside
    x0, _, x1, _ = box_of(grown)
    assert x1 <= PLATE[2] + 6  # ... and it stops at the plate's edge, not the car's
    assert x0 >= PLATE[0] - 6


def test_the_plate_quad_of_a_partial_line_covers_the_whole_plate() -> None:
    img = yellow_plate_scene()
    quad = box_quad(108, TEXT_TOP, FIRST_END + 3, TEXT_BOTTOM)
    line = TextLine(quad, 0.9, TextReading("V345", 0.95, ()), 90.0, 38.0, quad.mean(axis=0))
    assert covered(plate_quad([line], img), PLATE) >= 0.95
    assert covered(plate_quad([line]), PLATE) < 0.6  # without the image: the text prior only


@pytest.mark.parametrize("angle", [-12.0, 8.0])
def test_tilted_plates_grow_along_their_own_axis(angle: float) -> None:
    img = yellow_plate_scene()
    centre = ((PLATE[0] + PLATE[2]) / 2, (PLATE[1] + PLATE[3]) / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    rotated = cv2.warpAffine(img, matrix, (480, 240), borderMode=cv2.BORDER_REPLICATE)
    quad = box_quad(108, TEXT_TOP, FIRST_END + 3, TEXT_BOTTOM)
    turned = cv2.transform(quad.reshape(-1, 1, 2), matrix).reshape(4, 2)
    plate = cv2.transform(box_quad(*PLATE).reshape(-1, 1, 2), matrix).reshape(4, 2)
    grown = extend_to_plate(rotated, turned)
    mask = np.zeros((240, 480), np.uint8)
    cv2.fillPoly(mask, [np.round(plate).astype(np.int32)], 1)
    inside = np.zeros_like(mask)
    cv2.fillPoly(inside, [np.round(grown).astype(np.int32)], 1)
    text_band = cv2.fillPoly(
        np.zeros_like(mask),
        [np.round(cv2.transform(box_quad(110, TEXT_TOP, 318, TEXT_BOTTOM).reshape(-1, 1, 2),
                                matrix).reshape(4, 2)).astype(np.int32)], 1,
    )  # fmt: skip
    assert (inside & text_band).sum() >= 0.95 * text_band.sum()


def test_no_extension_without_a_clear_plate_or_further_characters() -> None:
    flat = np.full((240, 480, 3), 128, np.uint8)  # no contrast: nothing to follow
    quad = box_quad(108, TEXT_TOP, FIRST_END + 3, TEXT_BOTTOM)
    np.testing.assert_allclose(extend_to_plate(flat, quad), quad)
    # A car painted like the plate, the whole registration read: the quad stays on the text.
    same = yellow_plate_scene(body=(235, 200, 30), second="")
    grown = extend_to_plate(same, quad)
    assert FIRST_END + 3 - 1 <= box_of(grown)[2] <= FIRST_END + 4
    assert box_of(grown)[0] >= 107


def test_extend_quad_moves_each_side_along_the_axes() -> None:
    quad = box_quad(10, 20, 110, 40)
    out = extend_quad(quad, Extension(left=5, right=7, top=2, bottom=3))
    np.testing.assert_allclose(out, box_quad(5, 18, 117, 43))


def two_row_scene(
    top: str, top_scale: float
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """A white plate on a dark car: a top row (at top_scale of the bottom row's size) a third
    of a row's height over "361DH"; the bottom row's text quad."""
    img = np.zeros((260, 420, 3), np.uint8)
    img[:] = (40, 42, 48)
    img[40:200, 100:320] = (240, 240, 240)
    (bw, bh), _ = cv2.getTextSize("361DH", FONT, SCALE, THICK)
    cv2.putText(img, "361DH", (210 - bw // 2, 180), FONT, SCALE, (20, 20, 20), THICK)
    (tw, _), _ = cv2.getTextSize(top, FONT, SCALE * top_scale, THICK)
    baseline = 180 - bh - bh // 3
    cv2.putText(img, top, (210 - tw // 2, baseline), FONT, SCALE * top_scale, (20, 20, 20), THICK)
    return img, box_quad(210 - bw / 2 - 3, 180 - bh - 3, 210 + bw / 2 + 3, 183)


def test_a_missed_top_row_shows_as_glyphs_above_the_line() -> None:
    img, line = two_row_scene("KI", 1.0)
    assert glyphs_above(img, line) >= 1


def test_a_small_city_line_or_a_bare_plate_above_is_no_top_row() -> None:
    img, line = two_row_scene("BA SALVADOR", 0.35)
    assert glyphs_above(img, line) == 0
    img, line = two_row_scene("", 1.0)
    assert glyphs_above(img, line) == 0
