"""Detectors looked up by name: each module registers a factory that takes the Settings."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from blur_sdk.errors import ConfigError
from blur_sdk.settings import Settings

Factory = Callable[[Settings], Any]
_FACTORIES: dict[tuple[str, str], Factory] = {}
_MODULES = {
    ("face", "centerface"): "faces",
    ("plate", "ocr"): "text_plates",
    ("plate", "platedet"): "object_plates",
}


def register(kind: str, name: str) -> Callable[[Factory], Factory]:
    """Class decorator / function decorator registering a detector factory under kind/name."""

    def wrap(factory: Factory) -> Factory:
        _FACTORIES[(kind, name)] = factory
        return factory

    return wrap


def create(kind: str, name: str, settings: Settings) -> Any:
    """Build the detector registered as kind/name (importing its module on first use)."""
    module = _MODULES.get((kind, name))
    if module:
        importlib.import_module(f"{__name__}.{module}")
    try:
        factory = _FACTORIES[(kind, name)]
    except KeyError as e:
        known = sorted(n for k, n in _FACTORIES if k == kind) or sorted(
            n for k, n in _MODULES if k == kind
        )
        raise ConfigError(f"unknown {kind} detector {name!r} (known: {', '.join(known)})") from e
    return factory(settings)
