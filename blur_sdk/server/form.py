"""Read and validate request fields shared by both services; every refusal names the field."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from re import _parser as sre  # type: ignore[attr-defined]  # the stdlib's own regex parser
from typing import Any

from flask import Request
from werkzeug.datastructures import MultiDict

from blur_sdk.core.plates.text import MAX_MATCH_CHARS
from blur_sdk.errors import ConfigError, InputError, PayloadTooLargeError
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings, parse_bool

REGEX_MAX_LENGTH = 200
# User regexes only run on texts of at most MATCH_TEXT_CHARS; a regex may take at most
# REGEX_MAX_PATHS backtracking paths per start position on such a text.
MATCH_TEXT_CHARS = MAX_MATCH_CHARS
REGEX_MAX_PATHS = 10_000
MAX_JSON_DEPTH = 32
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
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
        raw = self.text(name)
        if not _INTEGER.fullmatch(raw) or len(raw) > 40:
            raise InputError(f"{name}: expected an integer, got {raw[:40]!r}", name)
        value = int(raw)
        if not lo <= value <= hi:
            raise InputError(f"{name}: {value} is outside the range {lo}..{hi}", name)
        return value

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
        try:
            return parse_bool(self.text(name), name)
        except ConfigError as e:
            raise InputError(str(e), name) from e

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
    """A finite decimal number (ASCII, no nan/inf/hex/underscores) within lo..hi."""
    if not _DECIMAL.fullmatch(raw) or len(raw) > 40:
        raise InputError(f"{name}: expected a number, got {raw[:40]!r}", name)
    value = float(raw)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InputError(f"{name}: {raw} is outside the range {lo:g}..{hi:g}", name)
    return value


def _json_depth(text: str) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings ignored)."""
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _regex_paths(items: Any) -> int:
    """An upper bound of the backtracking paths of a parsed regex on a short plate text.

    A repeat of a body with b paths runs 0..n times (n bounded by the text length): up to
    b**0 + ... + b**n paths; a sequence multiplies, an alternation adds. Nested quantifiers
    and overlapping alternatives under a quantifier therefore blow the bound up, while
    plate formats like [A-Z]{1,3}-?[0-9]{1,4} stay in the hundreds.
    """
    cap, paths = REGEX_MAX_PATHS + 1, 1
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return cap  # backreferences: matching is not bounded by this analysis
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = arg
            inner = _regex_paths(body)
            most = min(hi, MATCH_TEXT_CHARS // max(body.getwidth()[0], 1))
            if lo == hi:
                count = inner ** min(lo, most) if inner > 1 else 1
            else:
                count = most + 1 if inner == 1 else sum(inner**k for k in range(most + 1))
        elif name == "BRANCH":
            count = sum(_regex_paths(alt) for alt in arg[1])
        elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
            count = _regex_paths(arg[-1])
        elif name == "ATOMIC_GROUP":
            count = _regex_paths(arg)
        else:
            count = 1
        paths = min(paths * count, cap)
    return paths


@contextmanager
def naming_image_field(form: Form) -> Iterator[None]:
    """Image errors (they name no field) are re-raised naming upload or upload_url."""
    try:
        yield
    except InputError as e:
        if e.field is not None:
            raise
        field = "upload_url" if form.text("upload_url") else "upload"
        raise type(e)(f"{field}: {e}", field) from e


def compile_regexes(patterns: list[str], field: str) -> list[re.Pattern[str]]:
    """Compile user regexes, refusing invalid ones and shapes prone to catastrophic backtracking.

    Cost stays bounded: a pattern may take at most REGEX_MAX_PATHS backtracking paths on a
    MATCH_TEXT_CHARS-long text, and matching only ever runs on texts that short.
    """
    compiled = []
    for pattern in patterns:
        if len(pattern) > REGEX_MAX_LENGTH:
            raise InputError(f"{field}: regex longer than {REGEX_MAX_LENGTH} characters", field)
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
            paths = _regex_paths(sre.parse(pattern, re.IGNORECASE))
        except (re.error, OverflowError, RecursionError) as e:
            raise InputError(f"{field}: invalid regex {pattern[:60]!r}: {e}", field) from e
        if paths > REGEX_MAX_PATHS:
            raise InputError(
                f"{field}: regex {pattern[:60]!r} has nested quantifiers, repeated "
                "alternatives or backreferences (catastrophic backtracking); simplify it",
                field,
            )
    return compiled


def _decode_base64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError("upload: not a file, and not valid base64 either", "upload") from e


def read_upload(request: Request, form: Form, settings: Settings) -> tuple[bytes, str]:
    """The image bytes and filename: upload_url wins, else a file or base64 `upload`."""
    url = form.text("upload_url")
    if url:
        return fetch_image_bytes(url, settings, field="upload_url")
    file = request.files.get("upload")
    if file is not None:
        data = file.stream.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise PayloadTooLargeError(f"upload: larger than {settings.max_upload_bytes} bytes")
        return data, file.filename or "image.jpg"
    if form.text("upload"):
        data = _decode_base64(form.text("upload"))
        if len(data) > settings.max_upload_bytes:
            raise PayloadTooLargeError(f"upload: larger than {settings.max_upload_bytes} bytes")
        return data, "image.jpg"
    raise InputError("upload: required (a file, a base64 string, or upload_url)", "upload")


FORM_OVERHEAD = 256 * 1024  # multipart boundaries, headers and the other fields


def body_limit(settings: Settings) -> int:
    """The largest request body: an image of MAX_UPLOAD_BYTES, base64-encoded, plus the form."""
    return settings.max_upload_bytes * 4 // 3 + FORM_OVERHEAD


def check_content_length(request: Request, settings: Settings) -> None:
    """Refuse a declared oversize body before reading it."""
    length = request.content_length
    if length is not None and length > body_limit(settings):
        raise PayloadTooLargeError(
            f"request body of {length} bytes is larger than the limit of "
            f"{settings.max_upload_bytes} bytes (MAX_UPLOAD_BYTES)"
        )
