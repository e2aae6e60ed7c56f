"""FaceBlurest's Face Blur API: POST /faceblurest.aspx and /faceblurest (JSON in and out).

Errors raised anywhere for these routes (the app-wide gate included) are answered as
FaceBlurest's error array: the project's exceptions by this blueprint's handler (the code from
the exception), Werkzeug's and unexpected ones through error_body (the code from the status).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from blur_sdk.apis.faceblurest.answer import created_now, faceblurest_answer
from blur_sdk.apis.faceblurest.auth import check_basic, credential_digests
from blur_sdk.apis.faceblurest.errors import (
    INVALID_IMAGE,
    FaceBlurestError,
    FaceBlurestTooLong,
    handle_error,
    make_error_body,
)
from blur_sdk.apis.faceblurest.request import URL_FIELD, face_job, parse_request
from blur_sdk.core.pipeline import anonymize
from blur_sdk.errors import BlurSdkError, InputError
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.metrics import note_regions
from blur_sdk.server.service import note_timings
from blur_sdk.server.url_fetch import fetch_image_bytes

FACEBLUREST_PATHS = ("/faceblurest.aspx", "/faceblurest")
NEEDS_FACES = True


def build(context: ServerContext) -> Api:
    """The FaceBlurest API over the server's engine (credentials validated here, once)."""
    settings, engine = context.settings, context.engine
    digests = credential_digests(settings.faceblurest_users)
    http_errors = settings.faceblurest_http_errors
    job = face_job(settings)
    routes = Blueprint("faceblurest", __name__)

    def authorize() -> None:
        check_basic(request.headers.get("Authorization"), digests, settings.api_keys)

    def blur() -> Response:
        created = created_now()
        limit = settings.faceblurest_max_request_bytes
        if (request.content_length or 0) > limit:  # refused before the body is read
            raise FaceBlurestTooLong(f"request is longer than {limit} bytes")
        source = parse_request(request.get_data(cache=False), limit)
        try:
            if source.url is not None:
                data, _ = fetch_image_bytes(source.url, settings, field=URL_FIELD)
            else:
                data = source.data or b""  # parse_request refuses an empty photo
            result = anonymize(engine, data, job)
        except InputError as e:  # undecodable, corrupt or oversized image; photo_url refused
            raise FaceBlurestError(INVALID_IMAGE, f"invalid image: {e}") from e
        context.service.count_call()
        note_timings(result.timings)
        note_regions(result.regions)
        return jsonify(faceblurest_answer(result, created))

    @routes.errorhandler(BlurSdkError)
    def _ours(error: BlurSdkError) -> Response:
        return handle_error(error, http_errors)

    def info() -> dict[str, Any]:
        return {"faceblurest": {"paths": list(FACEBLUREST_PATHS), "auth": bool(digests)}}

    for path in FACEBLUREST_PATHS:
        endpoint = "faceblurest:" + path.strip("/").replace(".", "_")
        routes.add_url_rule(path, endpoint, blur, methods=["POST"], strict_slashes=False)
    return Api("faceblurest", routes, make_error_body(http_errors), info, authorize=authorize)
