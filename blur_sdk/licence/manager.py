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
- Several processes (gunicorn workers) may share LICENSE_DIR: every read-modify-write of the state
  holds an flock on licence-state.lock and merges with the file (calls add up, the newest check
  wins); a check holds licence-check.lock, so calls are reported once. Calls are written at most
  every FLUSH_INTERVAL seconds, and at each check, stop() and interpreter exit.
- Without LICENSE_KEY and TOKEN the server runs in community mode: always valid, nothing sent.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import requests

from blur_sdk.errors import ConfigError, LicenseError
from blur_sdk.licence.policy import community_status, licensed_status, refusal
from blur_sdk.licence.protocol import TIMEOUT, CheckFailedError, request_check
from blur_sdk.licence.state import (
    Change,
    LicenceState,
    LockBusyError,
    StateFile,
    file_lock,
    state_key,
)
from blur_sdk.settings import Settings

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds between writes of recorded calls to the state file
CHECK_LOCK_WAIT = sum(TIMEOUT) + 5.0  # seconds to wait for another process's check to end


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
            raise ConfigError(
                "LICENSE_SERVER_URL is empty but LICENSE_KEY is set: point it at your licence "
                "server, or unset LICENSE_KEY and TOKEN to run in community mode"
            )
        self._settings = settings
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards _state
        self._check_lock = threading.Lock()  # one check at a time, so usage is reported once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file = StateFile(
            settings.license_dir, state_key(settings.license_key, settings.token)
        )
        self._state = LicenceState()  # pending_calls: the file's count at the last read/write
        self._delta = 0  # calls recorded (+) and reported (-) but not yet applied to the file
        self._flushed_at = float("-inf")  # time.monotonic() of the last write
        if not self.community:
            try:
                settings.license_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigError(f"LICENSE_DIR {settings.license_dir}: cannot create: {e}") from e
            self._state = self._file.load()
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
        with self._check_lock, ExitStack() as held:
            try:  # one check at a time across processes too, so that calls are reported once
                held.enter_context(file_lock(self._file.check_lock, CHECK_LOCK_WAIT))
            except LicenseError as e:
                log.warning("%s; checking without it", e)
            self._check()

    def _check(self) -> None:
        with self._lock:
            self._sync()  # write this process's calls first: the report covers every worker's
            calls = self._pending()
        try:
            answer, accepted = request_check(self._session, self._settings, calls)
        except CheckFailedError as e:
            log.warning("licence check failed: %s", e)
            error = str(e)
            with self._lock:
                now = self._now()
                self._sync(lambda state: state.note_failure(now, error))
            return
        with self._lock:
            # The server vouched for this moment: re-anchor time on the wall clock so that a
            # past forward jump of the clock does not keep the licence expired for good.
            wall = self._wall_base = self._clock()
            self._mono_base = self._monotonic()
            if accepted:
                self._delta -= calls  # calls recorded meanwhile (any process) stay pending
            self._sync(lambda state: state.note_success(wall, answer))
            reason = self._refusal(wall)
        if reason:
            log.error("licence refused: %s", reason)

    def _pending(self) -> int:
        """Calls not reported yet, by every process as far as known here (lock held)."""
        return max(0, self._state.pending_calls + self._delta)

    def _sync(self, change: Change | None = None, *, wait: bool = True) -> None:
        """Merge with the state file and write it, applying `change` (lock held). A write that
        fails is logged and `change` applies in memory; wait=False skips a write when busy."""
        try:
            state = self._file.sync(self._state, self._delta, change, wait=wait)
        except LicenseError as e:
            if isinstance(e, LockBusyError) and not wait:
                return  # another process is writing: these calls go with the next write
            log.error("%s; licence state kept in memory only", e)
            if change is not None:
                change(self._state)
            if self._delta:
                _UNWRITTEN.add(self)
            return
        self._state, self._delta, self._flushed_at = state, 0, time.monotonic()
        _UNWRITTEN.discard(self)

    def flush(self) -> None:
        """Write the calls recorded since the last write to the state file (when any)."""
        if not self.community:
            with self._lock:
                if self._delta:
                    self._sync()

    # -- decisions --------------------------------------------------------------------------

    def _refusal(self, now: float) -> str | None:
        """Why requests are refused at `now`, or None when they may be processed (lock held)."""
        return refusal(self._state, self._pending(), self._settings, now)

    def status(self) -> dict[str, Any]:
        """The licence state for /info/, JSON-serialisable."""
        with self._lock:
            if self.community:
                return community_status(self._state.pending_calls)
            reason = self._refusal(self._now())
            return licensed_status(self._state, reason, self._pending(), self._settings)

    def require_valid(self) -> None:
        """Raise LicenseError with the reason when processing requests is not allowed."""
        if self.community:
            return
        with self._lock:
            reason = self._refusal(self._now())
        if reason is not None:
            raise LicenseError(reason)

    def record_call(self) -> None:
        """Count one processed request for the next usage report (written when licensed: at most
        once per FLUSH_INTERVAL and never waiting for the lock, else by the thread or stop())."""
        with self._lock:
            if self.community:
                self._state.pending_calls += 1
                return
            self._delta += 1
            self._now()
            _UNWRITTEN.add(self)
            if time.monotonic() - self._flushed_at >= FLUSH_INTERVAL:
                self._sync(wait=False)

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
        interval = self._settings.license_check_interval
        next_check = time.monotonic() + interval
        while not self._stop.wait(min(FLUSH_INTERVAL, max(0.0, next_check - time.monotonic()))):
            if time.monotonic() >= next_check:
                self.check_now()
                next_check = time.monotonic() + interval
            else:
                self.flush()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the thread promptly (waits for a check in flight up to `timeout`); write calls."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()


# Managers holding calls not written yet: kept alive (even if dropped) until written, at exit.
_UNWRITTEN: set[LicenceManager] = set()


@atexit.register
def _flush_at_exit() -> None:
    """Write the calls still in memory when the process ends without stop() (a worker exits)."""
    for manager in list(_UNWRITTEN):
        manager.flush()
