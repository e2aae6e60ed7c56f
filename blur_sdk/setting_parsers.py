"""How each setting's text (env var or YAML value) becomes a typed value; a bad one is a
ConfigError naming the variable."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blur_sdk import PROJECT_ROOT, validators
from blur_sdk.core.find.config import PLATE_SOURCES
from blur_sdk.errors import ConfigError

# packages under blur_sdk/apis
API_NAMES = ("blur", "snapshot", "watermarkly", "faceblurest", "kaze", "textmark", "video")


def parse_bool(value: str, name: str) -> bool:
    """Parse a boolean the way env vars and form fields spell it."""
    return validators.parse_bool(str(value), name, ConfigError)


def int_in(lo: int | None, hi: int | None) -> Callable[[Any, str], int]:
    def parse(value: Any, name: str) -> int:
        return validators.parse_int(str(value), name, lo, hi, ConfigError)

    return parse


def off_or_int_in(lo: int, hi: int) -> Callable[[Any, str], int]:
    """0 (off), or an integer within lo..hi."""

    def parse(value: Any, name: str) -> int:
        number = validators.parse_int(str(value), name, 0, hi, ConfigError)
        if 0 < number < lo:
            raise ConfigError(f"{name}: {number} is neither 0 (off) nor in the range {lo}..{hi}")
        return number

    return parse


def float_in(lo: float, hi: float) -> Callable[[Any, str], float]:
    def parse(value: Any, name: str) -> float:
        return validators.parse_float(str(value), name, lo, hi, ConfigError)

    return parse


def choice(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(value: Any, name: str) -> str:
        return validators.parse_choice(str(value), name, options, ConfigError)

    return parse


def text(value: Any, name: str) -> str:
    return str(value).strip()


def boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    return parse_bool(str(value), name)


def str_list(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def regex_list(value: Any, name: str) -> tuple[str, ...]:
    """One regex, or a JSON list of regexes (regexes contain commas: no comma splitting)."""
    if isinstance(value, list | tuple):
        patterns = tuple(str(v) for v in value if str(v))
    elif str(value).strip().startswith("["):
        try:
            loaded = json.loads(str(value))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{name}: invalid JSON list of regexes: {e}") from e
        if not isinstance(loaded, list):
            raise ConfigError(f"{name}: expected a JSON list of regexes")
        patterns = tuple(str(v) for v in loaded if str(v))
    else:
        patterns = (str(value).strip(),) if str(value).strip() else ()
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(f"{name}: invalid regex {pattern!r}: {e}") from e
    return patterns


def sizes(value: Any, name: str) -> tuple[tuple[int, int], ...]:
    sizes = []
    for item in str_list(value, name):
        match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", item.lower())
        if not match or min(int(match[1]), int(match[2])) < 1:
            raise ConfigError(f"{name}: expected sizes like 1920x1080, got {item!r}")
        sizes.append((int(match[1]), int(match[2])))
    return tuple(sizes)


def plate_detectors(value: Any, name: str) -> tuple[str, ...]:
    names = str_list(value, name)
    for detector in names:
        if detector not in PLATE_SOURCES:
            raise ConfigError(f"{name}: unknown plate detector {detector!r}")
    return names


def api_names(value: Any, name: str) -> tuple[str, ...]:
    names = str_list(value, name)
    unknown = [n for n in names if n not in API_NAMES]
    if unknown or not names:
        raise ConfigError(f"{name}: unknown API(s) {unknown} (known: {', '.join(API_NAMES)})")
    return names


def json_object(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    text = str(value).strip()
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{name}: invalid JSON: {e}") from e
    if not isinstance(parsed, dict):
        raise ConfigError(f"{name}: expected a JSON object, got {type(parsed).__name__}")
    return parsed


def url(value: Any, name: str) -> str:
    text = str(value).strip().rstrip("/")
    if text and not re.match(r"^https?://[^\s/]+", text):
        raise ConfigError(f"{name}: expected an http(s):// URL, got {value!r}")
    return text


def path(value: Any, name: str) -> Path:
    path = Path(str(value).strip())
    return path if path.is_absolute() else PROJECT_ROOT / path


def _pairs(value: Any, name: str, sep: str) -> list[tuple[str, str]]:
    """name<sep>value items (comma-separated, or a YAML mapping), both sides non-empty."""
    items = [f"{k}{sep}{v}" for k, v in value.items()] if isinstance(value, dict) else [
        *str_list(value, name)]  # fmt: skip
    pairs = []
    for i, item in enumerate(items, 1):
        key, found, rest = item.rpartition(sep) if sep == "=" else item.partition(sep)
        if not found or not key.strip() or not rest.strip():  # (no echo: it may be a secret)
            raise ConfigError(f"{name}: item {i} is not a key{sep}value pair")
        pairs.append((key.strip(), rest.strip()))
    return pairs


def key_counts(value: Any, name: str) -> tuple[tuple[str, int], ...]:
    """key=count pairs: per-key quotas."""
    pairs = _pairs(value, name, "=")
    for key, count in pairs:
        if not count.isdigit():
            raise ConfigError(f"{name}: the count of {key[:20]!r} must be a whole number")
    return tuple((key, int(count)) for key, count in pairs)


def app_secrets(value: Any, name: str) -> tuple[tuple[str, str], ...]:
    """appId:value pairs (the value may hold more colons: IPv6 addresses), e.g. credentials."""
    return tuple(_pairs(value, name, ":"))
