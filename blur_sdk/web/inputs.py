"""Read and validate request fields shared by both services; every refusal names the field."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from flask import Request
from werkzeug.datastructures import MultiDict

from blur_sdk.config import Settings, parse_bool
from blur_sdk.errors import ConfigError, InputError, PayloadTooLargeError
from blur_sdk.web.url_fetch import fetch_image_bytes

REGEX_MAX_LENGTH = 200
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")


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
        """An integer field within lo..hi."""
        if not self.has(name) or self.text(name) == "":
            return default
        raw = self.text(name)
        try:
            value = int(raw)
        except ValueError as e:
            raise InputError(f"{name}: expected an integer, got {raw[:40]!r}", name) from e
        if not lo <= value <= hi:
            raise InputError(f"{name}: {value} is outside the range {lo}..{hi}", name)
        return value

    def number(self, name: str, default: float, lo: float, hi: float) -> float:
        """A float field within lo..hi."""
        if not self.has(name) or self.text(name) == "":
            return default
        raw = self.text(name)
        try:
            value = float(raw)
        except ValueError as e:
            raise InputError(f"{name}: expected a number, got {raw[:40]!r}", name) from e
        if not lo <= value <= hi:  # also refuses nan
            raise InputError(f"{name}: {value} is outside the range {lo}..{hi}", name)
        return value

    def numbers(self, name: str, lo: float, hi: float) -> list[float]:
        """Every value of a repeatable numeric field, in order."""
        out = []
        for raw in self.values.getlist(name):
            try:
                value = float(raw)
            except ValueError as e:
                raise InputError(f"{name}: expected a number, got {raw[:40]!r}", name) from e
            if not lo <= value <= hi:
                raise InputError(f"{name}: {value} is outside the range {lo}..{hi}", name)
            out.append(value)
        return out

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
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"{name}: invalid JSON ({e.msg} at position {e.pos})", name) from e
        if not isinstance(value, dict):
            raise InputError(f"{name}: expected a JSON object, got {type(value).__name__}", name)
        return value


def compile_regexes(patterns: list[str], field: str) -> list[re.Pattern[str]]:
    """Compile user regexes, refusing invalid ones and shapes prone to catastrophic backtracking."""
    compiled = []
    for pattern in patterns:
        if len(pattern) > REGEX_MAX_LENGTH:
            raise InputError(f"{field}: regex longer than {REGEX_MAX_LENGTH} characters", field)
        if _NESTED_QUANTIFIER.search(pattern) or re.search(r"\\[1-9]", pattern):
            raise InputError(
                f"{field}: regex {pattern[:60]!r} has nested quantifiers or backreferences "
                "(catastrophic backtracking); simplify it",
                field,
            )
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as e:
            raise InputError(f"{field}: invalid regex {pattern[:60]!r}: {e}", field) from e
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


def check_content_length(request: Request, settings: Settings) -> None:
    """Refuse a declared oversize body before reading it."""
    length = request.content_length
    if length is not None and length > settings.max_upload_bytes * 4 // 3 + 256 * 1024:
        raise PayloadTooLargeError(
            f"request body of {length} bytes is larger than the limit of "
            f"{settings.max_upload_bytes} bytes (MAX_UPLOAD_BYTES)"
        )
