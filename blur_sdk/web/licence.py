"""Licence-key/token validation against the licence server, with usage reports and offline grace.

Protocol (one JSON call per check, at start-up and every LICENSE_CHECK_INTERVAL seconds)::

    POST {LICENSE_SERVER_URL}/
    Authorization: Token <TOKEN>
    {"license_key": "<LICENSE_KEY>", "version": "<blur-sdk version>",
     "usage": {"calls": <processed calls since the last accepted report>}}

    200 {"valid": true|false, "expires_at": "<ISO-8601>"|null,
         "quota": {"calls": <allowed calls>|null, "used": <calls used>}, "message": "<text>"}

- Any answer of that shape (HTTP 2xx or 4xx) is a successful check; the usage it reported is
  cleared only on a 2xx. HTTP 401/403 without that shape counts as an invalid licence.
- Timeouts, connection errors, 5xx, non-JSON bodies and JSON of another shape are "unreachable":
  serving goes on for LICENSE_GRACE_HOURS after the last successful check, then is refused.
- Refused as well: valid=false, expires_at in the past, quota.used + unreported calls >= calls.
- The state (last successful check, its answer, unreported calls, highest wall time seen) is kept
  in LICENSE_DIR, HMAC-signed with a key derived from LICENSE_KEY and TOKEN: an edited or unsigned
  file is ignored (no grace). Time never runs backwards for the grace: "now" is the highest of the
  wall clock, the highest wall time ever seen, and start-up wall time + monotonic time elapsed
  (re-anchored to the wall clock at each successful check).
- Without LICENSE_KEY and TOKEN the server runs in community mode: always valid, nothing sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from blur_sdk import __version__
from blur_sdk.config import Settings
from blur_sdk.errors import ConfigError, LicenseError
from blur_sdk.web.licence_state import (
    STATE_FILE,
    Answer,
    LicenceState,
    iso,
    load_state,
    parse_answer,
    save_state,
    state_key,
)

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
STALE_SLACK = 60.0  # seconds a periodic check may run late before the state counts as stale


class _CheckFailed(Exception):
    """The licence server could not be reached or gave no usable answer."""


class LicenceManager:
    """Validates the licence, counts calls, and decides whether requests may be processed."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.license_key and not settings.token:
            raise ConfigError("LICENSE_KEY is set but TOKEN is empty: set both, or neither")
        self.community = not settings.license_key
        if not self.community and not settings.license_server_url:
            raise ConfigError("LICENSE_SERVER_URL is empty but LICENSE_KEY is set")
        self._settings = settings
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards _state
        self._check_lock = threading.Lock()  # one check at a time, so usage is reported once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._path = settings.license_dir / STATE_FILE
        self._key = state_key(settings.license_key, settings.token)
        self._state = LicenceState()
        if not self.community:
            try:
                settings.license_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigError(f"LICENSE_DIR {settings.license_dir}: cannot create: {e}") from e
            self._state = load_state(self._path, self._key)
        self._wall_base = max(self._clock(), self._state.last_seen)
        self._mono_base = self._monotonic()

    # -- time -------------------------------------------------------------------------------

    def _now(self) -> float:
        """Wall time that never goes back (call with the lock held); records the highest seen."""
        elapsed = self._monotonic() - self._mono_base
        now = max(self._clock(), self._state.last_seen, self._wall_base + elapsed)
        self._state.last_seen = now
        return now

    # -- checking ---------------------------------------------------------------------------

    def check_now(self) -> None:
        """Validate against the licence server once; never raises for network problems."""
        if self.community:
            return
        with self._check_lock:
            with self._lock:
                calls = self._state.pending_calls
            try:
                answer, accepted = self._request(calls)
            except _CheckFailed as e:
                log.warning("licence check failed: %s", e)
                with self._lock:
                    now = self._now()
                    if self._state.unreachable_since is None:
                        self._state.unreachable_since = now
                    self._state.last_error = str(e)
                    self._persist()
                return
            with self._lock:
                # The server vouched for this moment: re-anchor time on the wall clock so that a
                # past forward jump of the clock does not keep the licence expired for good.
                state = self._state
                state.last_success = state.last_seen = self._wall_base = self._clock()
                self._mono_base = self._monotonic()
                state.answer = answer
                state.unreachable_since = None
                state.last_error = ""
                if accepted:
                    state.pending_calls = max(0, state.pending_calls - calls)
                self._persist()
                reason = self._refusal(state.last_success)
        if reason:
            log.error("licence refused: %s", reason)

    def _request(self, calls: int) -> tuple[Answer, bool]:
        """POST one check; (answer, usage accepted) or _CheckFailed."""
        payload = {
            "license_key": self._settings.license_key,
            "version": __version__,
            "usage": {"calls": calls},
        }
        try:
            response = self._session.post(
                self._settings.license_server_url + "/",
                json=payload,
                headers={"Authorization": f"Token {self._settings.token}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as e:
            raise _CheckFailed(f"licence server unreachable: {e}") from e
        code = response.status_code
        if code >= 500:
            raise _CheckFailed(f"licence server error: HTTP {code}")
        try:
            return parse_answer(response.json()), 200 <= code < 300
        except ValueError as e:  # includes requests' JSONDecodeError
            if code in (401, 403):
                message = f"licence server refused the licence key or token (HTTP {code})"
                return Answer(False, None, None, 0, message), False
            raise _CheckFailed(f"licence server sent an unusable answer (HTTP {code}): {e}") from e

    def _persist(self) -> None:
        """Save the state (lock held); a write failure is logged, the in-memory state goes on."""
        try:
            save_state(self._path, self._state, self._key)
        except LicenseError as e:
            log.error("%s; licence state kept in memory only", e)

    # -- decisions --------------------------------------------------------------------------

    def _refusal(self, now: float) -> str | None:
        """Why requests are refused at `now`, or None when they may be processed (lock held)."""
        state = self._state
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
        used = answer.quota_used + state.pending_calls
        if answer.quota_calls is not None and used >= answer.quota_calls:
            return f"licence quota exceeded: {used} of {answer.quota_calls} calls used"
        grace = self._settings.license_grace_hours * 3600.0
        deadline = state.last_success + grace
        stale = state.last_success + max(grace, self._settings.license_check_interval + STALE_SLACK)
        if (state.unreachable_since is not None and now > deadline) or now > stale:
            since = state.last_success
            if state.unreachable_since is not None:
                since = state.unreachable_since
            detail = f" ({state.last_error})" if state.last_error else ""
            return (
                f"licence server unreachable since {iso(since)}{detail}: the offline grace of "
                f"{self._settings.license_grace_hours:g} h after the last successful check "
                f"({iso(state.last_success)}) ended {iso(deadline)}"
            )
        return None

    def status(self) -> dict[str, Any]:
        """The licence state for /info/, JSON-serialisable."""
        with self._lock:
            if self.community:
                return {
                    "mode": "community",
                    "valid": True,
                    "reason": "community mode: no LICENSE_KEY/TOKEN configured",
                    "expires_at": None,
                    "last_success": None,
                    "grace_until": None,
                    "quota": None,
                    "calls_since_report": self._state.pending_calls,
                    "last_error": None,
                }
            state = self._state
            reason = self._refusal(self._now())
            answer = state.answer
            grace_until = None
            if state.last_success is not None:
                grace_until = state.last_success + self._settings.license_grace_hours * 3600.0
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
                "calls_since_report": state.pending_calls,
                "last_error": state.last_error or None,
            }

    def require_valid(self) -> None:
        """Raise LicenseError with the reason when processing requests is not allowed."""
        if self.community:
            return
        with self._lock:
            reason = self._refusal(self._now())
        if reason is not None:
            raise LicenseError(reason)

    def record_call(self) -> None:
        """Count one processed request for the next usage report (persisted when licensed)."""
        with self._lock:
            self._state.pending_calls += 1
            if not self.community:
                self._now()
                self._persist()

    # -- background thread ------------------------------------------------------------------

    def start(self, *, check_first: bool = True) -> None:
        """Check now (unless check_first=False), then re-check in a daemon thread."""
        if self.community or self._thread is not None:
            return
        if check_first:
            self.check_now()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="licence-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._settings.license_check_interval):
            self.check_now()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the background thread promptly (waits for a check in flight up to `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
