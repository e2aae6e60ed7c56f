"""The request's image: upload_url, a file or base64 `upload`, within the body limits."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Request

from blur_sdk.errors import InputError, PayloadTooLargeError
from blur_sdk.server.form import Form
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings


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


def decode_base64(
    text: str, field: str, what: str = "not valid base64", limit: int | None = None
) -> bytes:
    """Standard base64 (whitespace and a data: header tolerated); InputError naming field, and
    PayloadTooLargeError when it holds more than `limit` bytes (refused before decoding when the
    text alone says so)."""
    too_large = PayloadTooLargeError(f"{field}: larger than {limit} bytes", field)
    if limit is not None and len(text) > limit * 4 // 3 + 4:
        raise too_large
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        data = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(f"{field}: {what}", field) from e
    if limit is not None and len(data) > limit:
        raise too_large
    return data


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
        data = decode_base64(
            form.text("upload"), "upload", "not a file, and not valid base64 either"
        )
        if len(data) > settings.max_upload_bytes:
            raise PayloadTooLargeError(f"upload: larger than {settings.max_upload_bytes} bytes")
        return data, "image.jpg"
    raise InputError("upload: required (a file, a base64 string, or upload_url)", "upload")


FORM_OVERHEAD = 256 * 1024  # multipart boundaries, headers and the other fields


def body_limit(settings: Settings) -> int:
    """The largest request body: an image of MAX_UPLOAD_BYTES, base64-encoded, plus the form."""
    return settings.max_upload_bytes * 4 // 3 + FORM_OVERHEAD


def check_content_length(
    request: Request, settings: Settings, own: tuple[int, str] | None = None
) -> None:
    """Refuse a declared oversize body before reading it; `own`: an API's own limit (bytes, the
    setting), which the request is then held to instead of MAX_UPLOAD_BYTES'."""
    length = request.content_length
    if own is not None:
        request.max_content_length = own[0]
        if length is not None and length > own[0]:
            raise PayloadTooLargeError(
                f"request body of {length} bytes is larger than the limit of {own[0]} bytes "
                f"({own[1]})"
            )
        return
    if length is not None and length > body_limit(settings):
        raise PayloadTooLargeError(
            f"request body of {length} bytes is larger than the limit of "
            f"{settings.max_upload_bytes} bytes (MAX_UPLOAD_BYTES)"
        )
