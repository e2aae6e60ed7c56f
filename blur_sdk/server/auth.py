"""Optional API-key access control: `Authorization: Token <key>` when API_KEYS is set."""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from blur_sdk.errors import BlurSdkError
from blur_sdk.settings import Settings

SCHEMES = ("token", "bearer")


class AuthRequiredError(BlurSdkError):
    """The request carries no usable Authorization header (HTTP 401)."""

    status_code: ClassVar[int] = 401


class AuthForbiddenError(BlurSdkError):
    """The request's API key is not one of API_KEYS (HTTP 403)."""

    status_code: ClassVar[int] = 403


def check_authorization(header: str | None, settings: Settings) -> None:
    """Raise unless auth is off (no API_KEYS) or header holds one of the configured keys."""
    if not settings.api_keys:
        return
    parts = (header or "").split()
    if not parts:
        raise AuthRequiredError("authentication required: send 'Authorization: Token <key>'")
    if len(parts) != 2 or parts[0].lower() not in SCHEMES:
        raise AuthRequiredError(
            "malformed Authorization header: expected 'Token <key>' or 'Bearer <key>'"
        )
    if not matches_any(parts[1], settings.api_keys):
        raise AuthForbiddenError("invalid API key")


def matches_any(given: str, keys: tuple[str, ...]) -> bool:
    """Compare against every key in constant time; digests hide the keys' lengths."""
    given_digest = hashlib.sha256(given.encode("utf-8")).digest()
    matched = False
    for key in keys:
        key_digest = hashlib.sha256(key.encode("utf-8")).digest()
        matched |= hmac.compare_digest(given_digest, key_digest)
    return matched
