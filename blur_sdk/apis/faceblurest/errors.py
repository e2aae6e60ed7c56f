"""FaceBlurest's error envelope: a JSON array [{"cd": "<code>", "description": "<text>"}].

Their sample client reads that array from a successful answer, so errors are HTTP 200 by
default; FACEBLUREST_HTTP_ERRORS=True answers them with the matching status instead. Server
faults (5xx) keep their status either way.

Codes: 1001 authorization missing, not Basic, or wrong; 1013 request too long or empty
(nothing to upload); 1014 invalid request data (bad JSON, both or neither source, bad base64);
2001 invalid image (undecodable, corrupt or oversized, or a photo_url that could not be fetched
or was refused); 1004 licence refused; 4290 busy (ours: theirs has none); 5000 server fault
(ours).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

from flask import Response, jsonify

from blur_sdk.errors import (
    BlurSdkError,
    BusyError,
    InputError,
    LicenseError,
    PayloadTooLargeError,
)
from blur_sdk.server.auth import AuthForbiddenError, AuthRequiredError
from blur_sdk.server.errors import status_of

log = logging.getLogger(__name__)

UNAUTHORIZED = "1001"
LICENCE_REFUSED = "1004"
TOO_LONG = "1013"
INVALID_DATA = "1014"
INVALID_IMAGE = "2001"
BUSY = "4290"
SERVER_FAULT = "5000"

STATUS_OF_CODE = {
    UNAUTHORIZED: 401,
    LICENCE_REFUSED: 403,
    TOO_LONG: 413,
    INVALID_DATA: 400,
    INVALID_IMAGE: 400,
    BUSY: 429,
}

# For errors that reach error_body as (message, status) only: Werkzeug's, unexpected ones.
CODE_OF_STATUS = {401: UNAUTHORIZED, 403: UNAUTHORIZED, 413: TOO_LONG, 429: BUSY}


class FaceBlurestError(InputError):
    """A refused request with its FaceBlurest code (HTTP 400 unless a subclass says)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FaceBlurestTooLong(PayloadTooLargeError):
    """Code 1013: the request is longer than FACEBLUREST_MAX_REQUEST_BYTES, or empty (413)."""

    code: ClassVar[str] = TOO_LONG


class FaceBlurestAuthError(AuthRequiredError):
    """Code 1001: Basic authorization missing, malformed or wrong (401)."""

    code: ClassVar[str] = UNAUTHORIZED


def code_of(error: BlurSdkError) -> str:
    """The FaceBlurest code of one of the project's exceptions."""
    code = getattr(error, "code", None)
    if isinstance(code, str):
        return code
    if isinstance(error, LicenseError):
        return LICENCE_REFUSED
    if isinstance(error, BusyError):
        return BUSY
    if isinstance(error, AuthRequiredError | AuthForbiddenError):
        return UNAUTHORIZED
    if isinstance(error, PayloadTooLargeError):
        return TOO_LONG  # the gate's body limit (an oversized image is wrapped as 2001)
    if isinstance(error, InputError):
        return INVALID_DATA
    return SERVER_FAULT


def error_array(code: str, description: str, status: int, http_errors: bool) -> Response:
    """The array answer: HTTP 200 for a refusal unless http_errors; a fault keeps its 5xx."""
    response = jsonify([{"cd": code, "description": description}])
    response.status_code = status if (http_errors or status >= 500) else 200
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="FaceBlurest"'
    return response


def make_error_body(http_errors: bool) -> Callable[[str, int], Response]:
    """Api.error_body for errors known by status only (Werkzeug's, unexpected, the gate's)."""

    def error_body(message: str, status: int) -> Response:
        if status >= 500:
            return error_array(SERVER_FAULT, message, status, http_errors)
        code = CODE_OF_STATUS.get(status, INVALID_DATA)
        return error_array(code, message, STATUS_OF_CODE.get(code, status), http_errors)

    return error_body


def handle_error(error: BlurSdkError, http_errors: bool) -> Response:
    """The blueprint's handler of the project's exceptions: the code from the exception."""
    status = status_of(error)
    code = code_of(error)
    if status >= 500:
        log.error("request failed: %s", error)
        return error_array(SERVER_FAULT, str(error), status, http_errors)
    return error_array(code, str(error), STATUS_OF_CODE.get(code, status), http_errors)
