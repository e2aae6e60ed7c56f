"""The licence server's protocol: one check request and its answer, validated field by field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from blur_sdk import __version__
from blur_sdk.settings import Settings

TIMEOUT = (5.0, 10.0)  # connect, read (seconds)


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as an ISO-8601 UTC string (None stays None)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _parse_time(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expires_at: expected an ISO-8601 string or null, got {value!r}")
    moment = datetime.fromisoformat(value)  # ValueError on garbage
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def int_or_none(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Answer:
    """One answer of the licence server (see the protocol in blur_sdk.licence.manager)."""

    valid: bool
    expires_at: float | None
    quota_calls: int | None
    quota_used: int
    message: str

    def to_json(self) -> dict[str, Any]:
        """The answer in the wire format."""
        return {
            "valid": self.valid,
            "expires_at": iso(self.expires_at),
            "quota": {"calls": self.quota_calls, "used": self.quota_used},
            "message": self.message,
        }


def parse_answer(data: object) -> Answer:
    """Validate a decoded answer; ValueError names the first field of the wrong shape."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    valid = data.get("valid")
    if not isinstance(valid, bool):
        raise ValueError(f"valid: expected a boolean, got {valid!r}")
    quota = data.get("quota", {})
    if not isinstance(quota, dict):
        raise ValueError(f"quota: expected an object, got {quota!r}")
    message = data.get("message", "")
    if not isinstance(message, str):
        raise ValueError(f"message: expected a string, got {message!r}")
    return Answer(
        valid=valid,
        expires_at=_parse_time(data.get("expires_at")),
        quota_calls=int_or_none(quota.get("calls"), "quota.calls"),
        quota_used=int_or_none(quota.get("used", 0), "quota.used") or 0,
        message=message,
    )


class CheckFailedError(Exception):
    """The licence server could not be reached or gave no usable answer."""


def request_check(session: requests.Session, settings: Settings, calls: int) -> tuple[Answer, bool]:
    """POST one check reporting `calls`; (answer, usage accepted) or CheckFailedError."""
    payload = {
        "license_key": settings.license_key,
        "version": __version__,
        "usage": {"calls": calls},
    }
    try:
        response = session.post(
            settings.license_server_url + "/",
            json=payload,
            headers={"Authorization": f"Token {settings.token}"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as e:
        raise CheckFailedError(f"licence server unreachable: {e}") from e
    code = response.status_code
    if code >= 500:
        raise CheckFailedError(f"licence server error: HTTP {code}")
    try:
        return parse_answer(response.json()), 200 <= code < 300
    except ValueError as e:  # includes requests' JSONDecodeError
        if code in (401, 403):
            message = f"licence server refused the licence key or token (HTTP {code})"
            return Answer(False, None, None, 0, message), False
        raise CheckFailedError(f"licence server sent an unusable answer (HTTP {code}): {e}") from e
