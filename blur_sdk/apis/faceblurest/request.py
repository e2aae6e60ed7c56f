"""Parse a FaceBlurest request: a JSON body naming one image, base64 or by URL."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from blur_sdk.apis.faceblurest.errors import INVALID_DATA, FaceBlurestError, FaceBlurestTooLong
from blur_sdk.core.pipeline import Job, intensity_job
from blur_sdk.options import face_options, image_limits
from blur_sdk.settings import Settings

PHOTO_FIELD = "base64_Photo_String"
URL_FIELD = "photo_url"
ABSENT = "NO"  # their placeholder for the source not used
FACE_INTENSITY = 10
FACE_SHAPE = "ellipse"


@dataclass(frozen=True)
class Source:
    """The one image of a request: its bytes (base64_Photo_String) or its URL (photo_url)."""

    data: bytes | None = None
    url: str | None = None


def _given(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name, ABSENT)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FaceBlurestError(INVALID_DATA, f"{name}: must be a string")
    text = value.strip()
    return None if not text or text.upper() == ABSENT else text


def _decode_base64(text: str) -> bytes:
    if text.startswith("data:"):  # a data URL: the base64 after the comma
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError) as e:
        raise FaceBlurestError(INVALID_DATA, f"{PHOTO_FIELD}: not valid base64") from e


def parse_request(body: bytes, max_bytes: int) -> Source:
    """The image source of a request body (1013 too long or empty, 1014 invalid)."""
    if len(body) > max_bytes:
        raise FaceBlurestTooLong(f"request is longer than {max_bytes} bytes")
    if not body.strip():
        raise FaceBlurestTooLong("nothing to upload: the request body is empty")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise FaceBlurestError(INVALID_DATA, "request is not valid JSON") from e
    if not isinstance(parsed, dict):
        raise FaceBlurestError(INVALID_DATA, "request must be a JSON object")
    photo, url = _given(parsed, PHOTO_FIELD), _given(parsed, URL_FIELD)
    if photo is not None and url is not None:
        raise FaceBlurestError(
            INVALID_DATA, f'give one of {PHOTO_FIELD} and {URL_FIELD}, the other "{ABSENT}"'
        )
    if url is not None:
        return Source(url=url)
    if photo is None:
        raise FaceBlurestError(INVALID_DATA, f"no image: give {PHOTO_FIELD} or {URL_FIELD}")
    data = _decode_base64(photo)
    if not data:
        raise FaceBlurestError(INVALID_DATA, f"{PHOTO_FIELD}: empty image")
    return Source(data=data)


def face_job(settings: Settings) -> Job:
    """Faces only (plates not searched), blurred at intensity 10 in ellipses."""
    return intensity_job(
        FACE_INTENSITY,
        -1,
        face_options=face_options(settings),
        style="blur",
        face_shape=FACE_SHAPE,
        jpeg_quality=settings.jpeg_quality,
        limits=image_limits(settings),
        timeout=settings.request_timeout,
    )
