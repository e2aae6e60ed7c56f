"""When a licence refuses requests (validity, expiry, quota, offline grace); its /info/ status."""

from __future__ import annotations

from typing import Any

from blur_sdk.licence.protocol import iso
from blur_sdk.licence.state import LicenceState
from blur_sdk.settings import Settings

STALE_SLACK = 60.0  # seconds a periodic check may run late before the state counts as stale


def refusal(state: LicenceState, pending: int, settings: Settings, now: float) -> str | None:
    """Why requests are refused at `now`, or None when they may be processed."""
    if state.last_success is None or state.answer is None:
        if state.unreachable_since is not None:
            return (
                f"licence server unreachable since {iso(state.unreachable_since)} "
                f"({state.last_error}) and no successful licence check on record"
            )
        return "licence not validated yet: no successful check against the licence server"
    answer = state.answer
    if not answer.valid:
        return f"licence refused by the licence server: {answer.message or 'no reason given'}"
    if answer.expires_at is not None and now >= answer.expires_at:
        return f"licence expired at {iso(answer.expires_at)}"
    used = answer.quota_used + pending
    if answer.quota_calls is not None and used >= answer.quota_calls:
        return f"licence quota exceeded: {used} of {answer.quota_calls} calls used"
    grace = settings.license_grace_hours * 3600.0
    deadline = state.last_success + grace
    stale = state.last_success + max(grace, settings.license_check_interval + STALE_SLACK)
    if (state.unreachable_since is not None and now > deadline) or now > stale:
        since = state.last_success
        if state.unreachable_since is not None:
            since = state.unreachable_since
        detail = f" ({state.last_error})" if state.last_error else ""
        return (
            f"licence server unreachable since {iso(since)}{detail}: the offline grace of "
            f"{settings.license_grace_hours:g} h after the last successful check "
            f"({iso(state.last_success)}) ended {iso(deadline)}"
        )
    return None


def community_status(pending_calls: int) -> dict[str, Any]:
    """The /info/ licence status in community mode (no LICENSE_KEY/TOKEN)."""
    return {
        "mode": "community",
        "valid": True,
        "reason": "community mode: no LICENSE_KEY/TOKEN configured",
        "expires_at": None,
        "last_success": None,
        "grace_until": None,
        "quota": None,
        "calls_since_report": pending_calls,
        "last_error": None,
    }


def licensed_status(
    state: LicenceState, reason: str | None, pending: int, settings: Settings
) -> dict[str, Any]:
    """The /info/ licence status when licensed; `reason`: why requests are refused, if so."""
    answer = state.answer
    grace_until = None
    if state.last_success is not None:
        grace_until = state.last_success + settings.license_grace_hours * 3600.0
    return {
        "mode": "licensed",
        "valid": reason is None,
        "reason": reason or "licence valid",
        "expires_at": None if answer is None else iso(answer.expires_at),
        "last_success": iso(state.last_success),
        "grace_until": iso(grace_until),
        "quota": None
        if answer is None
        else {"calls": answer.quota_calls, "used": answer.quota_used},
        "calls_since_report": pending,
        "last_error": state.last_error or None,
    }
