"""Kaze's envelope: {"code": 0, "message": "success", "data": {...}}, HTTP 200 for every answer.

Their codes: 1000 parameter error (missing, both or undecodable image or smear, a smear of
another size, an unknown task id), 1001 invalid HTTP method, 1002 authentication error, 1003
quota used up. Ours, in their 11xx "server error" range: 1100 internal error, 1101 busy (the
task queue is full, or too many requests in progress), 1102 licence refused, 1103 timed out.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flask import Response, jsonify

from blur_sdk.errors import (
    BlurSdkError,
    BusyError,
    InputError,
    LicenseError,
    ProcessingTimeoutError,
)
from blur_sdk.server.auth import AuthForbiddenError, AuthRequiredError

log = logging.getLogger(__name__)

SUCCESS = 0
PARAMETER_ERROR = 1000
METHOD_ERROR = 1001
AUTH_ERROR = 1002
QUOTA_ERROR = 1003
INTERNAL_ERROR = 1100
BUSY = 1101
LICENCE_ERROR = 1102
TIMEOUT = 1103

CODE_OF_STATUS = {400: PARAMETER_ERROR, 401: AUTH_ERROR, 403: AUTH_ERROR, 404: PARAMETER_ERROR,
                  405: METHOD_ERROR, 413: PARAMETER_ERROR, 429: BUSY}  # fmt: skip


class QuotaError(BlurSdkError):
    """Code 1003: the key's KAZE_QUOTAS quota is used up."""

    code: ClassVar[int] = QUOTA_ERROR


def envelope(code: int, message: str, data: Any = None) -> Response:
    """One Kaze answer, always HTTP 200 (the outcome is in `code`)."""
    return jsonify({"code": code, "message": message, "data": data})


def success(data: dict[str, Any]) -> Response:
    """A successful answer."""
    return envelope(SUCCESS, "success", data)


def code_of(error: BlurSdkError) -> int:
    """The Kaze code of one of the project's exceptions."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    for cls, value in (
        (AuthRequiredError | AuthForbiddenError, AUTH_ERROR),
        (LicenseError, LICENCE_ERROR),
        (BusyError, BUSY),
        (ProcessingTimeoutError, TIMEOUT),
        (InputError, PARAMETER_ERROR),
    ):
        if isinstance(error, cls):
            return value
    return INTERNAL_ERROR


def handle_error(error: BlurSdkError) -> Response:
    """The blueprint's handler of the project's exceptions."""
    code = code_of(error)
    if code == INTERNAL_ERROR:
        log.error("request failed: %s", error)
    return envelope(code, str(error))


def error_body(message: str, status: int) -> Response:
    """Api.error_body for errors known by status only (Werkzeug's, unexpected ones)."""
    return envelope(CODE_OF_STATUS.get(status, INTERNAL_ERROR), message)
