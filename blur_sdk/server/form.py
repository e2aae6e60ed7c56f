"""Typed, limited access to a request's form fields; every refusal names the field."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.datastructures import MultiDict

from blur_sdk import validators
from blur_sdk.errors import InputError
from blur_sdk.settings import Settings

MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class Form:
    """The request's form fields with typed, limited accessors."""

    def __init__(self, values: MultiDict[str, str], settings: Settings) -> None:
        self.values = values
        self.settings = settings
        for name in values:
            items = values.getlist(name)
            if len(items) > settings.max_repeated_fields:
                raise InputError(
                    f"{name}: {len(items)} values given, at most "
                    f"{settings.max_repeated_fields} allowed",
                    name,
                )
            if any(len(v) > settings.max_field_length for v in items if name != "upload"):
                raise InputError(
                    f"{name}: value longer than {settings.max_field_length} characters", name
                )

    def has(self, name: str) -> bool:
        """Whether the field was sent at all (even empty)."""
        return name in self.values

    def text(self, name: str, default: str = "") -> str:
        """A stripped string field."""
        return str(self.values.get(name, default)).strip()

    def texts(self, name: str) -> list[str]:
        """All non-empty values of a repeatable field (also comma-separated ones)."""
        return [p.strip() for v in self.values.getlist(name) for p in v.split(",") if p.strip()]

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        """An integer field within lo..hi (ASCII digits only)."""
        if not self.has(name) or self.text(name) == "":
            return default
        return validators.parse_int(self.text(name), name, lo, hi, _invalid(name))

    def number(self, name: str, default: float, lo: float, hi: float) -> float:
        """A float field within lo..hi."""
        if not self.has(name) or self.text(name) == "":
            return default
        return _decimal(name, self.text(name), lo, hi)

    def numbers(self, name: str, lo: float, hi: float) -> list[float]:
        """Every value of a repeatable numeric field, in order."""
        return [_decimal(name, raw.strip(), lo, hi) for raw in self.values.getlist(name)]

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean field (true/false/1/0/yes/no/on/off)."""
        if not self.has(name):
            return default
        return validators.parse_bool(self.text(name), name, _invalid(name))

    def json_object(self, name: str) -> dict[str, Any]:
        """A JSON object field; empty means {}."""
        raw = self.text(name)
        if not raw:
            return {}
        if _json_depth(raw) > MAX_JSON_DEPTH:
            raise InputError(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels", name)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"{name}: invalid JSON ({e.msg} at position {e.pos})", name) from e
        except (ValueError, RecursionError) as e:  # a number of > 4300 digits; deep nesting
            raise InputError(f"{name}: invalid JSON ({type(e).__name__})", name) from e
        if not isinstance(value, dict):
            raise InputError(f"{name}: expected a JSON object, got {type(value).__name__}", name)
        return value


def _decimal(name: str, raw: str, lo: float, hi: float) -> float:
    return validators.parse_float(raw, name, lo, hi, _invalid(name))


def _invalid(name: str) -> validators.Invalid:
    """Refusals of this field as InputError naming it."""
    return lambda message: InputError(message, name)


def _json_depth(text: str) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings ignored)."""
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest
