"""Shared fixtures: isolated settings, the real models and engine (models tier), ../shared.

Fakes are in tests/fakes.py, apps, clients and request helpers in tests/clients.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from blur_sdk.core.find.engine import Engine
from blur_sdk.core.models.store import load_manifest, verify_model
from blur_sdk.errors import ModelError
from blur_sdk.options import finder_config
from blur_sdk.settings import Settings, load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings, isolated from the environment and the repo's config folder."""
    base = load_settings(env={}, config_dir=tmp_path / "no-config")
    return dataclasses.replace(
        base, license_dir=tmp_path / "license", tasks_dir=tmp_path / "tasks", task_workers=0
    )


@pytest.fixture(scope="session")
def models_installed() -> Settings:
    """The repo's default settings, once `make models` has put verified models in place; tests
    that need them (the real engine, server processes) skip without them."""
    settings = load_settings(env={})
    try:
        for spec in load_manifest().values():
            verify_model(settings.models_dir, spec)
    except ModelError:
        pytest.skip("models missing: run `make models`")
    return settings


@pytest.fixture(scope="session")
def real_engine(models_installed: Settings) -> Iterator[Engine]:
    """The real engine (CenterFace + PP-OCR plates), loaded once per test session."""
    yield Engine.build(finder_config(models_installed))


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the project; tests that need it skip cleanly without it."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present")
    return SHARED
