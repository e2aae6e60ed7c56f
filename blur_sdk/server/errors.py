"""Map the project's exceptions to HTTP statuses, answered in the envelope of the API asked.

Each mounted API registers its own error body (blur_sdk.server.api.Api.error_body); a request
that reaches no API (an unknown path) gets Plate Recognizer's `{"error": ...}`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from blur_sdk.errors import (
    BlurSdkError,
    BusyError,
    InputError,
    LicenseError,
    PayloadTooLargeError,
    ProcessingTimeoutError,
    QueueUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from blur_sdk.server.auth import AuthForbiddenError, AuthRequiredError

log = logging.getLogger(__name__)

# Most specific first: the first class an exception is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[BlurSdkError], int], ...] = (
    (PayloadTooLargeError, 413),
    (InputError, 400),
    (AuthRequiredError, 401),
    (AuthForbiddenError, 403),
    (LicenseError, 403),
    (BusyError, 429),
    (UpstreamTimeoutError, 504),
    (UpstreamError, 502),
    (ProcessingTimeoutError, 503),
    (QueueUnavailableError, 503),
)


def status_of(error: BlurSdkError) -> int:
    """The HTTP status for one of our exceptions (500 for a server-side fault)."""
    return next((status for cls, status in STATUS_BY_ERROR if isinstance(error, cls)), 500)


def error_response(message: str, status: int) -> tuple[Response, int]:
    """The error body of the API this request was routed to."""
    bodies = current_app.extensions.get("blur_sdk.error_bodies", {})
    body = bodies.get(request.blueprint) if request.blueprint else None
    if body is None:
        return jsonify({"error": message}), status
    response = body(message, status)
    return response, response.status_code


def _apis() -> list[Any]:
    """The Api mounted for the current request's blueprint (none for app-level routes)."""
    api = current_app.extensions.get("blur_sdk.apis", {}).get(request.blueprint)
    return [api] if api is not None else []


def register_error_handlers(app: Flask) -> None:
    """JSON errors for our exceptions, Werkzeug's, and anything unexpected (no stack traces)."""

    @app.errorhandler(BlurSdkError)
    def _ours(error: BlurSdkError) -> tuple[Response, int]:
        status = status_of(error)
        if status >= 500:
            log.error("request failed: %s", error)
        headers = {"WWW-Authenticate": "Token"} if status == 401 else {}
        response, status = error_response(str(error), status)
        response.headers.update(headers)
        return response, status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
        limit = request.max_content_length
        length = request.content_length
        if length is not None and limit is not None and length <= limit:  # Werkzeug's form limits
            parts = app.config.get("MAX_FORM_PARTS")
            return error_response(
                f"form: too many fields or parts (at most {parts}, from MAX_REPEATED_FIELDS), "
                "or a field too large",
                413,
            )
        source = "from MAX_UPLOAD_BYTES"
        if limit != app.config.get("MAX_CONTENT_LENGTH"):  # an API's own (Api.body_limit)
            source = next((a.body_limit[1] for a in _apis() if a.body_limit), "its API's")
        return error_response(
            f"request body is larger than the limit of {limit} bytes ({source})", 413
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response, int]:
        return error_response(f"{error.name}: {error.description}", error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(f"internal error ({type(error).__name__})", 500)
