"""Watermarkly's Blur API: GET /blur/?url=<image URL> or POST /blur/ with the raw image bytes.

200 answers the image itself (its Content-Type); errors are {"message": ...}: 400 a bad
parameter or image, 403 the x-api-key or the licence, 413 too large, 429 busy, 500 a fault.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, request

from blur_sdk.apis.watermarkly.errors import check_api_key, error_body
from blur_sdk.apis.watermarkly.request import Params, build_job, fetch_logo, parse_params
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.image.output import OutputOptions, encode_output
from blur_sdk.core.pipeline import Job, Result, anonymize
from blur_sdk.errors import InputError, PayloadTooLargeError
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.form import Form
from blur_sdk.server.metrics import note_regions
from blur_sdk.server.service import note_timings
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings

PATH = "/blur/"
NEEDS_FACES = True  # Watermarkly hides faces and plates
BODY_TYPES = ("application/octet-stream",)


def _posted_image(settings: Settings) -> bytes:
    limit = settings.watermarkly_max_post_bytes
    mimetype = request.mimetype
    if mimetype and mimetype not in BODY_TYPES and not mimetype.startswith("image/"):
        raise InputError(
            f"Content-Type: {mimetype[:60]!r} is not accepted: send the image bytes as "
            "application/octet-stream or image/*",
            "Content-Type",
        )
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(
            f"body: {request.content_length} bytes, more than the limit of {limit} bytes"
        )
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"body: larger than the limit of {limit} bytes")
    if not data:
        raise InputError("body: empty: POST the image bytes (or GET /blur/?url=...)", "body")
    return data


def _image(params: Params, settings: Settings, fetch_settings: Settings) -> bytes:
    if request.method == "GET":
        if not params.url:
            raise InputError("url: required (the image to blur), or POST the image bytes", "url")
        try:
            return fetch_image_bytes(params.url, fetch_settings, field="url")[0]
        except PayloadTooLargeError as e:  # url_fetch names MAX_UPLOAD_BYTES, our limit is this
            limit = fetch_settings.max_upload_bytes
            raise PayloadTooLargeError(
                f"url: the image is larger than WATERMARKLY_MAX_GET_BYTES={limit} bytes", "url"
            ) from e
    if params.url:
        raise InputError(
            "url: give either url (GET) or the image as the POST body, not both", "url"
        )
    return _posted_image(settings)


def _naming_image(error: InputError) -> InputError:
    """Core image errors name no field: they are about the image."""
    if error.field is not None:
        return error
    return type(error)(f"image: {error}", "image")


def _unchanged(data: bytes, job: Job, quality: int) -> Result:
    """Nothing to hide (blur_intensity 0, no logo): the image only resized / re-encoded."""
    decoded = decode_image(data, job.limits)
    output = job.output or OutputOptions()
    image, content_type, fmt = encode_output(decoded, decoded.rgb, output, quality=quality)
    return Result(decoded.width, decoded.height, image=image, content_type=content_type, format=fmt)


def build(context: ServerContext) -> Api:
    """Watermarkly's Blur API over the server's engine."""
    settings, engine = context.settings, context.engine
    fetch_settings = dataclasses.replace(
        settings, max_upload_bytes=settings.watermarkly_max_get_bytes
    )
    routes = Blueprint("watermarkly", __name__)

    def blur() -> Response:
        params = parse_params(Form(request.args, settings))  # all checked before any fetch
        logo = fetch_logo(params.logo_url, settings) if params.logo_url else None
        data = _image(params, settings, fetch_settings)
        job = build_job(params, settings, data, logo)
        try:
            if job.redact:
                result = anonymize(engine, data, job)
            else:
                result = _unchanged(data, job, settings.jpeg_quality)
        except InputError as e:
            raise _naming_image(e) from e
        context.service.count_call()
        note_timings(result.timings)
        note_regions(result.regions)
        return Response(result.image or b"", status=200, mimetype=result.content_type)

    def info() -> dict[str, Any]:
        return {
            "watermarkly": {
                "path": PATH,
                "max_get_bytes": settings.watermarkly_max_get_bytes,
                "max_post_bytes": settings.watermarkly_max_post_bytes,
                "max_side": settings.watermarkly_max_side,
            }
        }

    routes.add_url_rule(PATH, "blur", blur, methods=["GET", "POST"], strict_slashes=False)
    return Api(
        "watermarkly",
        routes,
        error_body,
        info,
        authorize=lambda: check_api_key(settings),
        processing_methods=("GET", "POST"),
    )
