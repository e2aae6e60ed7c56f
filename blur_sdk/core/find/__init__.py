"""Finders looked up by kind and name: each module registers a factory of a FinderConfig."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from blur_sdk.core.find.config import FinderConfig
from blur_sdk.errors import ConfigError

Factory = Callable[[FinderConfig], Any]
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


def create(kind: str, name: str, config: FinderConfig) -> Any:
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
    return factory(config)
