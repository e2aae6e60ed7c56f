"""Faint text found on a contrast-equalised copy of the frame (core.find.faint_text): fakes for
the detector, then the real models on a washed-out plate (models tier)."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest

from bench.synthetic import astronaut, plate_image, warp_onto
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.config import FAINT_SIDE
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.faint_text import equalised, faint_text
from blur_sdk.core.geometry import box_of, iou
from blur_sdk.core.models.ppocr import TextBox
from blur_sdk.errors import ConfigError
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings, load_settings

FAINT_QUAD = np.array([[180, 300], [420, 296], [421, 376], [181, 380]], np.float64)


def washed_out_scene() -> npt.NDArray[np.uint8]:
    """The photo with a large washed-out plate "AB 123": grey glyphs 12 levels below its grey."""
    plate = plate_image("AB 123", 480, 160).astype(np.float32)
    faint = np.clip(170 + (plate - 170) * 0.05, 0, 255).astype(np.uint8)
    return warp_onto(astronaut(), faint, FAINT_QUAD)


class OneLineDetector:
    """A text detector's runner whose probability map holds one text line at a fixed place of
    its input (rows 40-60, columns 100-300); records the input shapes and dynamic flags."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], bool]] = []

    def infer(self, batch: npt.NDArray[np.uint8], dynamic: bool = False) -> list[np.ndarray]:
        self.calls.append((batch.shape, dynamic))
        prob = np.zeros((1, 1, batch.shape[1], batch.shape[2]), np.float32)
        prob[0, 0, 40:60, 100:300] = 0.9
        return [prob]


def test_the_copy_is_shrunk_to_the_long_side_and_equalised() -> None:
    scene = washed_out_scene()  # 512 x 512
    copy, scale = equalised(scene, 480)
    assert copy.shape == (480, 480, 3) and scale == pytest.approx(480 / 512)
    plate = scene[310:370, 200:400, 1].astype(float)
    rows, cols = slice(round(310 * scale), round(370 * scale)), slice(round(200 * scale), 375)
    assert copy[rows, cols, 1].std() > 2.5 * plate.std()  # the glyphs stand out
    assert equalised(scene, 600)[0].shape == scene.shape  # never enlarged


def test_lines_found_on_the_copy_come_back_in_image_pixels_where_none_was_found() -> None:
    det = OneLineDetector()
    image = np.zeros((600, 800, 3), np.uint8)
    new = faint_text(det, image, 0.5, 400, [])  # type: ignore[arg-type]
    assert det.calls == [((1, 320, 416, 3), True)]  # 400 x 300, padded: the dynamic model
    assert len(new) == 1
    x0, y0, x1, y1 = box_of(new[0].quad)  # the line at x 200-600, y 80-120 (DB's unclip around)
    assert (x0 + x1) / 2 == pytest.approx(400, abs=3) and (y0 + y1) / 2 == pytest.approx(100, abs=3)
    assert 160 <= x0 <= 200 and 600 <= x1 <= 640 and 40 <= y0 <= 80 and 120 <= y1 <= 160


def test_a_line_the_frame_already_found_is_not_added_again() -> None:
    image = np.zeros((600, 800, 3), np.uint8)
    known = TextBox(quad=np.array([[190, 78], [610, 78], [610, 122], [190, 122]], float), score=1)
    assert faint_text(OneLineDetector(), image, 0.5, 400, [known]) == []  # type: ignore[arg-type]
    elsewhere = TextBox(quad=np.array([[0, 0], [50, 0], [50, 20], [0, 20]], float), score=1)
    assert len(faint_text(OneLineDetector(), image, 0.5, 400, [elsewhere])) == 1  # type: ignore[arg-type]


def test_the_setting_is_validated_and_reaches_the_finder(settings: Settings) -> None:
    assert finder_config(settings).plate_faint_resolution == FAINT_SIDE
    assert load_settings({"PLATE_FAINT_RESOLUTION": "0"}).plate_faint_resolution == 0
    with pytest.raises(ConfigError, match="PLATE_FAINT_RESOLUTION"):
        load_settings({"PLATE_FAINT_RESOLUTION": "100"})


@pytest.mark.models
def test_a_washed_out_plate_is_found_only_with_the_faint_text_pass(
    models_installed: Settings,
) -> None:
    scene = washed_out_scene()
    found = {}
    for side in (FAINT_SIDE, 0):
        settings = dataclasses.replace(models_installed, plate_faint_resolution=side)
        engine = Engine.build(finder_config(settings), faces=False)
        found[side] = engine.detect(scene, plate_options=PlateOptions()).plates
    assert found[0] == []  # the frame's own text detection sees no text there
    assert [p.text for p in found[FAINT_SIDE]] == ["AB123"]
    assert iou(found[FAINT_SIDE][0].box, box_of(FAINT_QUAD)) > 0.5
