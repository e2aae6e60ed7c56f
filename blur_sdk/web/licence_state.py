"""The licence server's answer and the HMAC-signed state file that keeps it across restarts."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blur_sdk.errors import LicenseError

log = logging.getLogger(__name__)

STATE_FILE = "licence-state.json"
_FORMAT = 1


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


def _int_or_none(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Answer:
    """One answer of the licence server (see the protocol in blur_sdk.web.licence)."""

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
        quota_calls=_int_or_none(quota.get("calls"), "quota.calls"),
        quota_used=_int_or_none(quota.get("used", 0), "quota.used") or 0,
        message=message,
    )


def _number_or_none(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    return float(value)


@dataclass
class LicenceState:
    """What survives a restart: the last successful check, pending usage and the clock guard."""

    last_success: float | None = None
    answer: Answer | None = None
    pending_calls: int = 0
    last_seen: float = 0.0
    unreachable_since: float | None = None
    last_error: str = ""

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON object."""
        return {
            "format": _FORMAT,
            "last_success": self.last_success,
            "answer": None if self.answer is None else self.answer.to_json(),
            "pending_calls": self.pending_calls,
            "last_seen": self.last_seen,
            "unreachable_since": self.unreachable_since,
            "last_error": self.last_error,
        }

    @classmethod
    def from_json(cls, data: object) -> LicenceState:
        """Rebuild the state; ValueError when it has the wrong shape or format."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError("not a licence state of this format")
        answer = data.get("answer")
        last_error = data.get("last_error", "")
        if not isinstance(last_error, str):
            raise ValueError(f"last_error: expected a string, got {last_error!r}")
        return cls(
            last_success=_number_or_none(data.get("last_success"), "last_success"),
            answer=None if answer is None else parse_answer(answer),
            pending_calls=_int_or_none(data.get("pending_calls", 0), "pending_calls") or 0,
            last_seen=_number_or_none(data.get("last_seen"), "last_seen") or 0.0,
            unreachable_since=_number_or_none(data.get("unreachable_since"), "unreachable_since"),
            last_error=last_error,
        )


def state_key(license_key: str, token: str) -> bytes:
    """The HMAC key of the state file, derived from the licence key and token."""
    material = f"blur-sdk licence state v{_FORMAT}\0{license_key}\0{token}".encode()
    return hashlib.sha256(material).digest()


def _sign(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def load_state(path: Path, key: bytes) -> LicenceState:
    """Read the state; a missing, unsigned, tampered or corrupt file gives a blank state."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LicenceState()
    except (OSError, UnicodeDecodeError) as e:
        log.warning("licence state %s is unreadable (%s): no offline grace until a check", path, e)
        return LicenceState()
    try:
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        body, signature = document.get("state"), document.get("hmac")
        if not isinstance(body, str) or not isinstance(signature, str):
            raise ValueError("unsigned")
        if not hmac.compare_digest(signature, _sign(body, key)):
            raise ValueError("bad signature (edited, or written for another key/token)")
        return LicenceState.from_json(json.loads(body))
    except ValueError as e:
        log.warning(
            "licence state %s ignored: %s; no offline grace until a successful check", path, e
        )
        return LicenceState()


def save_state(path: Path, state: LicenceState, key: bytes) -> None:
    """Write the signed state atomically; LicenseError when the folder is not writable."""
    body = json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"))
    document = json.dumps({"state": body, "hmac": _sign(body, key)})
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(document, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as e:
        raise LicenseError(f"cannot write licence state {path}: {e}") from e
