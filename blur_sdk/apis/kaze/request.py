"""Turn a Kaze JSON body into checked image and smear bytes (fetched, decoded, sizes matched)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Request

from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.watermark.smear import smear_mask
from blur_sdk.errors import InputError
from blur_sdk.options import image_limits
from blur_sdk.server.upload import decode_base64
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings


@dataclass(frozen=True)
class Submission:
    """A checked submission: the image, the optional smear mask, the image's size."""

    image: bytes
    smear: bytes | None
    width: int
    height: int
    mask_pixels: int | None  # pixels the smear marks (None: no smear, find automatically)


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; InputError when the body is not one."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InputError("body: expected a JSON object (Content-Type: application/json)", "body")
    return body


def text_field(body: dict[str, Any], name: str) -> str:
    """A string field ('' when absent or null); InputError when of another type."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name}: expected a string, got {type(value).__name__}", name)
    return value.strip()


def _source(body: dict[str, Any], kind: str, settings: Settings) -> tuple[bytes | None, str]:
    """The bytes of `<kind>_url` or `<kind>_base64` (one of them, not both) and the field used."""
    url_field, b64_field = f"{kind}_url", f"{kind}_base64"
    url, b64 = text_field(body, url_field), text_field(body, b64_field)
    if url and b64:
        raise InputError(f"{url_field}, {b64_field}: give one of them, not both", url_field)
    if url:
        return fetch_image_bytes(url, settings, field=url_field)[0], url_field
    if not b64:
        return None, ""
    what = "not valid base64 (raw base64, no data: header)"
    return decode_base64(b64, b64_field, what, limit=settings.max_upload_bytes), b64_field


def _named(error: InputError, field: str) -> InputError:
    if error.field is not None:
        return error
    return type(error)(f"{field}: {error}", field)


def parse_submission(body: dict[str, Any], settings: Settings) -> Submission:
    """The image (required) and smear (optional), both decoded once to refuse bad ones now."""
    image, image_field = _source(body, "image", settings)
    if image is None:
        raise InputError("image_url or image_base64: required (the image to clean)", "image_url")
    limits = image_limits(settings)
    try:
        decoded = decode_image(image, limits)
    except InputError as e:
        raise _named(e, image_field) from e
    smear, smear_field = _source(body, "smear", settings)
    pixels = None
    if smear is not None:
        try:
            pixels = int((smear_mask(smear, decoded.width, decoded.height, limits) > 0).sum())
        except InputError as e:
            raise _named(e, smear_field) from e
    return Submission(image, smear, decoded.width, decoded.height, pixels)
