"""FaceBlurest's access control: `Authorization: Basic base64(user:password)`, code 1001."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from blur_sdk.apis.faceblurest.errors import FaceBlurestAuthError
from blur_sdk.errors import ConfigError
from blur_sdk.server.auth import matches_any


def credential_digests(users: tuple[str, ...]) -> tuple[bytes, ...]:
    """SHA-256 of each configured "user:password" (FACEBLUREST_USERS), validated once."""
    for entry in users:
        user, sep, _ = entry.partition(":")
        if not sep or not user:
            raise ConfigError("FACEBLUREST_USERS: each entry must be user:password")
    return tuple(hashlib.sha256(entry.encode("utf-8")).digest() for entry in users)


def check_basic(
    header: str | None, digests: tuple[bytes, ...], api_keys: tuple[str, ...] = ()
) -> None:
    """Raise FaceBlurestAuthError unless header holds one of the configured credentials.

    With FACEBLUREST_USERS, one of them; without them but with API_KEYS (auth on for the other
    APIs), any user name with one of the keys as its password; with neither, open. Every
    credential is compared, in constant time, on digests (no length leak).
    """
    if not digests and not api_keys:
        return
    parts = (header or "").split()
    if not parts:
        raise FaceBlurestAuthError("authorization required: send 'Authorization: Basic ...'")
    if len(parts) != 2 or parts[0].lower() != "basic":
        raise FaceBlurestAuthError("authorization must be 'Basic base64(user:password)'")
    try:
        given = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise FaceBlurestAuthError("authorization: Basic credentials are not base64") from e
    if digests:
        given_digest = hashlib.sha256(given).digest()
        matched = False
        for digest in digests:
            matched |= hmac.compare_digest(given_digest, digest)
    else:
        password = given.decode("utf-8", "replace").partition(":")[2]
        matched = matches_any(password, api_keys)
    if not matched:
        raise FaceBlurestAuthError("authorization: wrong user name or password")
