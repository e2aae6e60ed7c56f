"""The text-watermark API with the real PP-OCRv4 models on rendered Chinese and Latin
watermarks at known places: each is covered by a processLocation block and read."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from blur_sdk.apis.textmark.matching import normalise, similarity
from blur_sdk.core.find.engine import Engine, watermark_finder
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings
from tests.apis.textmark.helpers import image_field, post, render, textmark_client

pytestmark = pytest.mark.models

MARKS = [
    ("SAMPLE PHOTO", (30, 30, 300, 40)),
    ("@studio_pics", (360, 250, 260, 34)),
    ("抖音号 12345678", (40, 330, 320, 40)),
    ("版权所有", (420, 60, 180, 44)),
]
MIN_READ = 0.8  # mean character accuracy over the marks


@functools.cache
def _engine(models_dir: Path) -> Engine:
    config = finder_config(dataclasses.replace(Settings(), models_dir=models_dir))
    return Engine(None, [], watermark_finder(config))


def _covered(truth: np.ndarray, block: dict[str, int]) -> float:
    """The share of the rendered text's pixels inside the block's rectangle."""
    inside = np.zeros(truth.shape, bool)
    inside[block["y"] : block["y"] + block["h"], block["x"] : block["x"] + block["w"]] = True
    return float((truth & inside).sum() / max(1, truth.sum()))


def test_rendered_watermarks_are_found_and_read(
    settings: Settings, models_installed: Settings
) -> None:
    marked, clean = render(MARKS, size=(680, 420), alpha=190)
    drawn = np.abs(marked.astype(int) - clean).max(axis=2) > 20
    with textmark_client(settings, _engine(models_installed.models_dir)) as c:  # type: ignore[arg-type]
        body = post(c, {**image_field(marked), "ocrOnly": "true"})
    blocks = body["data"]["processLocation"]
    accuracies = []
    for text, (x, y, w, h) in MARKS:
        truth = np.zeros(drawn.shape, bool)
        truth[y : y + h, x : x + w] = drawn[y : y + h, x : x + w]
        covering = [b for b in blocks if _covered(truth, b) >= 0.5]
        assert covering and sum(_covered(truth, b) for b in covering) >= 0.95, (text, blocks)
        accuracies.append(max(similarity(normalise(text), normalise(b["word"])) for b in covering))
    assert sum(accuracies) / len(accuracies) >= MIN_READ, list(zip(MARKS, accuracies, strict=True))
