"""The text-watermark API's answer envelope, for results and for refusals alike.

HTTP status = httpCode, except a cached repeat: `"httpCode": 304` in an HTTP 200 answer.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask import Response, jsonify

from blur_sdk.apis.textmark.process import MESSAGES, NOT_PROCESSED, SERVER_ERROR, TIMED_OUT

HTTP_MESSAGES = {200: "OK", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
                 403: "Forbidden", 405: "Method Not Allowed", 413: "Payload Too Large",
                 429: "Too Many Requests", 500: "Internal Server Error"}  # fmt: skip
NO_USAGE = {"remainingUsage": -1, "allUsedCount": 0, "longTermUsageCount": -1,
            "limitedTermUsageCount": 0, "limitedTermExpireTimes": None}  # fmt: skip


def answer_sign(image_md5: str, status: int, secret: str) -> str:
    """encryptedInfo.sign: md5(imageMd5 + processStatus + appSecret), '' without an app."""
    if not secret:
        return ""
    return hashlib.md5(f"{image_md5}{status}{secret}".encode(), usedforsecurity=False).hexdigest()


def envelope(
    http_code: int,
    status: int,
    *,
    usage: dict[str, Any] | None = None,
    locations: list[dict[str, Any]] | None = None,
    url: str = "",
    image_md5: str = "",
    secret: str = "",
    message: str | None = None,
) -> dict[str, Any]:
    """The answer body (no failure fields)."""
    locations = locations or []
    return {
        "httpCode": http_code,
        "httpMsg": HTTP_MESSAGES.get(http_code, "Error"),
        "returnType": "json",
        **(usage or NO_USAGE),
        "data": {
            "processStatus": status,
            "processMsg": message or MESSAGES[status],
            "processCount": len(locations),
            "processLocation": locations,
            "url": url,
        },
        "encryptedInfo": {
            "sign": answer_sign(image_md5, status, secret),
            "imageUniqueIdentification": image_md5,
        },
    }


def failure(
    http_code: int,
    message: str,
    client_ip: str,
    *,
    usage: dict[str, Any] | None = None,
    image_md5: str = "",
    timed_out: bool = False,
) -> dict[str, Any]:
    """A refusal or fault: 52001 not processed (4xx), 52003 timed out or 52004 server error."""
    status = NOT_PROCESSED if http_code < 500 else SERVER_ERROR
    status = TIMED_OUT if timed_out else status
    body = envelope(http_code, status, usage=usage, image_md5=image_md5, message=message)
    body["msgInnerReferer"] = uuid.uuid4().hex  # quote it to find the request in the log
    body["location"] = client_ip
    return body


def respond(body: dict[str, Any]) -> Response:
    """The HTTP answer: status = httpCode (a 304 repeat is HTTP 200)."""
    response = jsonify(body)
    code = int(body["httpCode"])
    response.status_code = 200 if code == 304 else code
    return response
