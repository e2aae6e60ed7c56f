"""Watermarkly over the real engine (models tier): the synthetic scene's plate is hidden."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk.core.find.engine import Engine
from blur_sdk.settings import Settings
from tests.apis.watermarkly.helpers import client, post, rgb_of

pytestmark = pytest.mark.models


def test_real_engine_hides_the_plate(settings: Settings, real_engine: Engine) -> None:
    scene = scene_with_plate()
    out = rgb_of(post(client(settings, real_engine), encode(scene, "PNG"), blur_intensity="1"))
    x0, y0 = PLATE_QUAD.min(axis=0).astype(int) + 10
    x1, y1 = PLATE_QUAD.max(axis=0).astype(int) - 10
    plate_diff = np.abs(out[y0:y1, x0:x1].astype(int) - scene[y0:y1, x0:x1].astype(int))
    assert (plate_diff.max(axis=2) > 0).mean() > 0.5
    far = np.abs(out[470:, :100].astype(int) - scene[470:, :100].astype(int))
    assert far.max() == 0
