"""One vocabulary of value checks for settings, form fields and JSON config: each refusal names
the value, and the caller chooses the error (ConfigError at start-up, InputError per request)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

Invalid = Callable[[str], Exception]  # message -> the exception to raise

INTEGER = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
MAX_NUMBER_TEXT = 40


def parse_int(raw: str, name: str, lo: int | None, hi: int | None, invalid: Invalid) -> int:
    """An integer (ASCII digits, optional sign) within lo..hi (None: unbounded)."""
    text = raw.strip()
    if not INTEGER.fullmatch(text) or len(text) > MAX_NUMBER_TEXT:
        raise invalid(f"{name}: expected an integer, got {text[:40]!r}")
    value = int(text)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise invalid(f"{name}: {value} is outside the range {lo}..{hi}")
    return value


def parse_float(raw: str, name: str, lo: float, hi: float, invalid: Invalid) -> float:
    """A finite decimal number (ASCII, no nan/inf/hex/underscores) within lo..hi."""
    text = raw.strip()
    if not DECIMAL.fullmatch(text) or len(text) > MAX_NUMBER_TEXT:
        raise invalid(f"{name}: expected a number, got {text[:40]!r}")
    return check_range(float(text), name, lo, hi, invalid)


def check_range(value: float, name: str, lo: float, hi: float, invalid: Invalid) -> float:
    """A finite number within lo..hi."""
    if not math.isfinite(value) or not lo <= value <= hi:
        raise invalid(f"{name}: {value:g} is outside the range {lo:g}..{hi:g}")
    return value


def parse_bool(raw: str, name: str, invalid: Invalid) -> bool:
    """true/false, 1/0, yes/no, on/off (any case); empty is false."""
    text = raw.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise invalid(f"{name}: expected a boolean (true/false/1/0), got {raw[:40]!r}")


def parse_choice(raw: str, name: str, options: tuple[str, ...], invalid: Invalid) -> str:
    """One of the options, case-insensitive; the answer is lower-cased."""
    text = raw.strip().lower()
    if text not in options:
        shown = ", ".join(o for o in options if o)
        raise invalid(f"{name}: {raw[:40]!r} is not one of {shown}")
    return text
