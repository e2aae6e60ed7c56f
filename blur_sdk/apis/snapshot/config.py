"""Snapshot's `config` JSON (mode, thresholds, text formats): one validation for both services."""

from __future__ import annotations

import math
from typing import Any

from blur_sdk.errors import InputError
from blur_sdk.server.form import compile_regexes

MODES = ("redaction", "fast")
DEFAULT_MODE = "redaction"  # what Blur asks Snapshot for: more plates, lower floors


def unit_number(config: dict[str, Any], key: str, field: str = "config") -> float | None:
    """config[key] as a number in 0..1, or None when absent."""
    if key not in config or config[key] is None:
        return None
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{field}.{key}: expected a number, got {type(value).__name__}", field)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InputError(f"{field}.{key}: {value} is outside the range 0..1", field)
    return float(value)


def choice(
    config: dict[str, Any], key: str, options: tuple[str, ...], default: str, field: str = "config"
) -> str:
    """config[key] as one of options (case-insensitive), or default when absent."""
    if key not in config or config[key] is None:
        return default
    value = config[key]
    if not isinstance(value, str):
        raise InputError(f"{field}.{key}: expected a string, got {type(value).__name__}", field)
    text = value.strip().lower()
    if text not in options:
        shown = ", ".join(repr(o) for o in options if o)
        raise InputError(f"{field}.{key}: {value[:40]!r} is not one of {shown}", field)
    return text


def text_formats(config: dict[str, Any], limit: int, field: str = "config") -> tuple[str, ...]:
    """config["text_formats"]: a list of at most `limit` regexes, each checked for cost."""
    value = config.get("text_formats")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{field}.text_formats: expected a list of regex strings", field)
    if len(value) > limit:
        raise InputError(
            f"{field}.text_formats: {len(value)} patterns, at most {limit} allowed", field
        )
    patterns = [v.strip() for v in value if v.strip()]
    compile_regexes(patterns, f"{field}.text_formats")
    return tuple(patterns)


def plate_config(config: dict[str, Any], limit: int, field: str = "config") -> dict[str, Any]:
    """The PlateOptions fields that Snapshot's config carries: mode, thresholds, text formats."""
    return {
        "mode": choice(config, "mode", MODES, DEFAULT_MODE, field),
        "threshold_d": unit_number(config, "threshold_d", field),
        "threshold_o": unit_number(config, "threshold_o", field),
        "text_formats": text_formats(config, limit, field),
    }
