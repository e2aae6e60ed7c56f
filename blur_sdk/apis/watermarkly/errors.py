"""Watermarkly's error envelope and API-key check."""

from __future__ import annotations

from flask import Response, jsonify, request

from blur_sdk.server.auth import AuthForbiddenError, matches_any
from blur_sdk.settings import Settings

API_KEY_HEADER = "x-api-key"


def error_body(message: str, status: int) -> Response:
    """Watermarkly's error answer: {"message": "<what is wrong>"} with the mapped status."""
    response = jsonify({"message": message})
    response.status_code = status
    return response


def check_api_key(settings: Settings) -> None:
    """Open when API_KEYS is empty; otherwise `x-api-key` must be one of them (constant time).

    A missing or wrong key is 403, as Watermarkly answers it.
    """
    if not settings.api_keys:
        return
    given = request.headers.get(API_KEY_HEADER)
    if not given:
        raise AuthForbiddenError(f"{API_KEY_HEADER}: header missing (send your API key)")
    if not matches_any(given.strip(), settings.api_keys):
        raise AuthForbiddenError(f"{API_KEY_HEADER}: invalid API key")
