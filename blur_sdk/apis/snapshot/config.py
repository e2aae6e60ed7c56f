"""Snapshot's `config` JSON (mode, thresholds, text formats): one validation for both services."""

from __future__ import annotations

from typing import Any

from blur_sdk import validators
from blur_sdk.core.regex_guard import compile_regexes
from blur_sdk.errors import InputError

MODES = ("redaction", "fast")
DEFAULT_MODE = "redaction"  # what Blur asks Snapshot for: more plates, lower floors


def unit_number(config: dict[str, Any], key: str, field: str = "config") -> float | None:
    """config[key] as a number in 0..1, or None when absent."""
    if key not in config or config[key] is None:
        return None
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{field}.{key}: expected a number, got {type(value).__name__}", field)
    return validators.check_range(float(value), f"{field}.{key}", 0.0, 1.0, _invalid(field))


def choice(
    config: dict[str, Any], key: str, options: tuple[str, ...], default: str, field: str = "config"
) -> str:
    """config[key] as one of options (case-insensitive), or default when absent."""
    if key not in config or config[key] is None:
        return default
    value = config[key]
    if not isinstance(value, str):
        raise InputError(f"{field}.{key}: expected a string, got {type(value).__name__}", field)
    return validators.parse_choice(value, f"{field}.{key}", options, _invalid(field))


def _invalid(field: str) -> validators.Invalid:
    return lambda message: InputError(message, field)


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
