"""Shared fixtures: settings, fake detectors (fast unit tier), real engine (models tier)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from blur_sdk.core.find.base import (
    FaceDetection,
    FaceOptions,
    PlateDetection,
    PlateFinder,
    PlateOptions,
    RGBImage,
)
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.geometry import as_quad, box_of
from blur_sdk.core.models.store import load_manifest, verify_model
from blur_sdk.errors import ModelError
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings, load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


class FakeFaceDetector:
    """Returns the boxes it was given, clipped to the image; records the options it saw."""

    name = "fake-faces"

    def __init__(self, boxes: list[tuple[float, float, float, float]]) -> None:
        self.boxes = boxes
        self.calls: list[FaceOptions] = []

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        self.calls.append(options)
        h, w = image.shape[:2]
        out = []
        for x1, y1, x2, y2 in self.boxes:
            box = (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
            if box[2] > box[0] and box[3] > box[1]:
                out.append(FaceDetection(box=box, region=box, score=0.9))
        return out


class FakePlateDetector(PlateFinder):
    """Returns fixed plates (quad, text) that lie inside the image it is given."""

    name = "fake-plates"

    def __init__(self, plates: list[tuple[list[tuple[float, float]], str]]) -> None:
        self.plates = plates
        self.calls: list[PlateOptions] = []

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        self.calls.append(options)
        h, w = image.shape[:2]
        out = []
        for quad, text in self.plates:
            box = box_of(quad)
            if box[0] >= 0 and box[1] >= 0 and box[2] <= w and box[3] <= h:
                out.append(
                    PlateDetection(
                        polygon=as_quad(quad), box=box, text=text, dscore=0.9, oscore=0.8,
                        candidates=((text, 0.8),), source=self.name,
                    )
                )  # fmt: skip
        return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings, isolated from the environment and the repo's config folder."""
    base = load_settings(env={}, config_dir=tmp_path / "no-config")
    return dataclasses.replace(base, license_dir=tmp_path / "license")


def models_available(settings: Settings) -> bool:
    """Whether `make models` has put verified models in place."""
    try:
        for spec in load_manifest().values():
            verify_model(settings.models_dir, spec)
    except ModelError:
        return False
    return True


@pytest.fixture(scope="session")
def real_engine() -> Iterator[Engine]:
    """The real engine (CenterFace + PP-OCR plates), loaded once per test session."""
    settings = load_settings(env={})
    if not models_available(settings):
        pytest.skip("models missing: run `make models`")
    yield Engine.build(finder_config(settings))


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the project; tests that need it skip cleanly without it."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present")
    return SHARED
