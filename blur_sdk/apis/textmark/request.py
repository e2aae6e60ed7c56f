"""Turn a text-watermark request's fields into checked parameters and image bytes.

Names are the vendor's (camelCase); their snake_case spellings are accepted too. The image
comes from `image_file` > `image_url` > `image_base64` (that priority when several are given);
PNG, BMP and JPEG only, at most TEXTMARK_MAX_IMAGE_BYTES.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from flask import Request

from blur_sdk.apis.textmark.matching import Keyword, parse_keywords
from blur_sdk.core.image.decode import sniff_format
from blur_sdk.errors import InputError, PayloadTooLargeError
from blur_sdk.server.upload import decode_base64
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.server.url_rules import parse_url
from blur_sdk.settings import Settings

FORMATS = ("PNG", "BMP", "JPEG")
MAX_RECTANGLES = 100
MAX_FIELD = 64 * 1024
Rect = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True)
class Params:
    """The checked fields (the image apart); `cache_params()` is what the 304 cache keys on."""

    rectangles: tuple[Rect, ...] = ()
    names: tuple[Keyword, ...] = ()
    excluded: tuple[Keyword, ...] = ()
    offset: Rect | None = None
    is_async: bool = False  # their `sync=true`
    callback: str = ""
    ocr_only: bool = False
    show: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-able, for a task's parameters."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        """The inverse of to_json."""
        return cls(
            rectangles=tuple(tuple(r) for r in data["rectangles"]),  # type: ignore[misc]
            names=tuple(Keyword(**k) for k in data["names"]),
            excluded=tuple(Keyword(**k) for k in data["excluded"]),
            offset=tuple(data["offset"]) if data["offset"] else None,  # type: ignore[arg-type]
            is_async=data["is_async"],
            callback=data["callback"],
            ocr_only=data["ocr_only"],
            show=data["show"],
        )

    def cache_params(self) -> dict[str, Any]:
        """The parameters that change the result (the callback does not)."""
        fields = dataclasses.asdict(self)
        fields.pop("callback")
        fields.pop("is_async")
        return fields


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def field(values: Any, name: str) -> str:
    """A field by its vendor name or snake_case spelling ('' when absent)."""
    for key in (name, _snake(name)):
        value = values.get(key)
        if value is not None:
            text = str(value).strip()
            if len(text) > MAX_FIELD:
                raise InputError(f"{name}: longer than {MAX_FIELD} characters", name)
            return text
    return ""


def _flag(values: Any, name: str) -> bool:
    raw = field(values, name).lower()
    if raw in ("", "false", "0", "no", "off"):
        return False
    if raw in ("true", "1", "yes", "on"):
        return True
    raise InputError(f"{name}: expected true or false, got {raw[:20]!r}", name)


def _json(values: Any, name: str) -> Any:
    raw = field(values, name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not valid JSON ({e.msg})", name) from e


def _ints(item: Any, name: str, keys: tuple[str, ...], signed: bool) -> Rect:
    if isinstance(item, dict):
        raw: list[Any] = [item.get(k, 0 if signed else None) for k in keys]
    elif isinstance(item, list) and len(item) == 4:
        raw = item
    else:
        raise InputError(f'{name}: expected {{"x", "y", "w", "h"}} or [x, y, w, h]', name)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        raise InputError(f"{name}: x, y, w and h must be numbers", name)
    x, y, w, h = (round(float(v)) for v in raw)
    if not signed and (x < 0 or y < 0 or w <= 0 or h <= 0):
        raise InputError(f"{name}: x and y must be >= 0, w and h > 0", name)
    return x, y, w, h


def parse_params(values: Any) -> Params:
    """Every field checked; a refusal names it."""
    rectangles: tuple[Rect, ...] = ()
    raw_rects = _json(values, "rectangles")
    if raw_rects is not None:
        if not isinstance(raw_rects, list) or len(raw_rects) > MAX_RECTANGLES:
            raise InputError(f"rectangles: expected a JSON list of at most {MAX_RECTANGLES}",
                             "rectangles")  # fmt: skip
        keys = ("x", "y", "w", "h")
        rectangles = tuple(
            _ints(r, f"rectangles[{i}]", keys, False) for i, r in enumerate(raw_rects)
        )
    names_raw, excluded_raw = field(values, "watermarkNames"), field(values, "excludeKeywords")
    if names_raw and excluded_raw:
        raise InputError("watermarkNames, excludeKeywords: give only one of the two lists",
                         "watermarkNames")  # fmt: skip
    raw_offset = _json(values, "offset")
    offset = None if raw_offset is None else _ints(raw_offset, "offset", ("x", "y", "w", "h"), True)
    is_async = _flag(values, "sync")
    callback = field(values, "callback")
    if is_async and not callback:
        raise InputError("callback: required when sync is true", "callback")
    if callback:
        parse_url(callback, "callback")
    return Params(
        rectangles=rectangles,
        names=parse_keywords(names_raw, "watermarkNames") if names_raw else (),
        excluded=parse_keywords(excluded_raw, "excludeKeywords") if excluded_raw else (),
        offset=offset,
        is_async=is_async,
        callback=callback,
        ocr_only=_flag(values, "ocrOnly"),
        show=_flag(values, "show"),
    )


def read_image(request: Request, settings: Settings) -> bytes:
    """The image bytes from image_file > image_url > image_base64, format and size checked."""
    limit = settings.textmark_max_image_bytes
    file = request.files.get("image_file")
    url, b64 = field(request.values, "image_url"), request.values.get("image_base64", "")
    if file is not None and file.filename is not None:
        data, name = file.stream.read(limit + 1), "image_file"
    elif url:
        fetch = dataclasses.replace(settings, max_upload_bytes=limit)
        try:
            data, name = fetch_image_bytes(url, fetch, field="image_url")[0], "image_url"
        except PayloadTooLargeError as e:
            raise PayloadTooLargeError(f"image_url: larger than {limit} bytes", "image_url") from e
    elif b64.strip():
        data, name = decode_base64(b64, "image_base64", limit=limit), "image_base64"
    else:
        raise InputError("image_file, image_url or image_base64: required", "image_file")
    if len(data) > limit:
        raise PayloadTooLargeError(f"{name}: larger than {limit} bytes (at most 4 MB)", name)
    fmt = sniff_format(data)
    if fmt not in FORMATS:
        shown = fmt or "not an image"
        raise InputError(f"{name}: {shown}: only PNG, BMP and JPEG images are accepted", name)
    return data
