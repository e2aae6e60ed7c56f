"""Smear masks: any colour but black or white marks a pixel, JPEG noise tolerated."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic import encode
from blur_sdk.core.watermark.smear import smear_mask
from blur_sdk.errors import InputError


def _smear(background: int) -> np.ndarray:
    smear = np.full((120, 160, 3), background, np.uint8)
    smear[40:80, 50:110] = (200, 60, 60)  # the brush stroke
    smear[5:15, 5:40] = 255 - background  # the other neutral colour: not a stroke
    return smear


@pytest.mark.parametrize("background", [0, 255])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_the_coloured_strokes_are_the_mask(background: int, fmt: str) -> None:
    data = encode(_smear(background), fmt, **({"quality": 70} if fmt == "JPEG" else {}))
    mask = smear_mask(data, 160, 120)
    stroke = np.zeros((120, 160), bool)
    stroke[40:80, 50:110] = True
    assert (mask[stroke] > 0).mean() > 0.97
    assert (mask[~stroke] > 0).mean() < 0.01  # JPEG ringing around edges is not a stroke


def test_transparent_pixels_of_a_png_mark_nothing() -> None:
    rgba = np.zeros((50, 60, 4), np.uint8)
    rgba[..., :3] = (200, 60, 60)
    rgba[10:20, 10:20, 3] = 255
    mask = smear_mask(encode(rgba, "PNG"), 60, 50)
    assert int((mask > 0).sum()) == 100


def test_a_smear_of_another_size_is_refused_naming_both_sizes() -> None:
    with pytest.raises(InputError, match="160x120, the image 161x120"):
        smear_mask(encode(_smear(0), "PNG"), 161, 120)
