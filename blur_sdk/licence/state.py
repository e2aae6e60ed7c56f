"""The licence server's answer and the HMAC-signed state file that keeps it across restarts."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blur_sdk.errors import LicenseError
from blur_sdk.licence.protocol import Answer, int_or_none, parse_answer

log = logging.getLogger(__name__)

STATE_FILE = "licence-state.json"
STATE_LOCK_FILE = "licence-state.lock"  # flock'd around every read-modify-write of STATE_FILE
CHECK_LOCK_FILE = "licence-check.lock"  # flock'd around a check: usage is reported once
STATE_LOCK_WAIT = 10.0  # seconds to wait for the state lock (held for one read and one write)
_FORMAT = 1


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

    def note_failure(self, now: float, error: str) -> None:
        """A check failed at `now`: the outage began then unless it already had."""
        if self.unreachable_since is None:
            self.unreachable_since = now
        self.last_error = error

    def note_success(self, now: float, answer: Answer) -> None:
        """A check succeeded at `now`, which becomes the highest wall time seen (re-anchored)."""
        self.last_success = self.last_seen = now
        self.answer, self.unreachable_since, self.last_error = answer, None, ""

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
            pending_calls=int_or_none(data.get("pending_calls", 0), "pending_calls") or 0,
            last_seen=_number_or_none(data.get("last_seen"), "last_seen") or 0.0,
            unreachable_since=_number_or_none(data.get("unreachable_since"), "unreachable_since"),
            last_error=last_error,
        )


Change = Callable[[LicenceState], None]  # an event (a check's outcome) applied to a state


def state_key(license_key: str, token: str) -> bytes:
    """The HMAC key of the state file, derived from the licence key and token."""
    material = f"blur-sdk licence state v{_FORMAT}\0{license_key}\0{token}".encode()
    return hashlib.sha256(material).digest()


def _sign(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


class LockBusyError(LicenseError):
    """Another process or thread holds a licence lock file and the wait allowed is over."""


@contextmanager
def file_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created when missing) for the block.

    LockBusyError when it stays held for `timeout` s (0: one try), LicenseError when it cannot
    be opened. Opened at each use: a descriptor inherited across fork() would share the lock.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise LicenseError(f"cannot open licence lock {path}: {e}") from e
    try:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusyError(f"licence lock {path} busy for {timeout:g} s") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            except OSError as e:
                raise LicenseError(f"cannot lock {path}: {e}") from e
        yield  # closing the descriptor releases the lock
    finally:
        os.close(fd)


def read_state(path: Path, key: bytes) -> LicenceState | None:
    """The signed state in `path`; None when missing, unreadable, unsigned, tampered or corrupt."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        log.warning("licence state %s is unreadable (%s): no offline grace until a check", path, e)
        return None
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
        return None


def load_state(path: Path, key: bytes) -> LicenceState:
    """Read the state; a missing, unsigned, tampered or corrupt file gives a blank state."""
    state = read_state(path, key)
    return LicenceState() if state is None else state


def merge_states(disk: LicenceState, mine: LicenceState) -> LicenceState:
    """Combine the file's state (other workers' news) with this process's copy.

    The newer successful check wins, with its answer, outage and highest wall time seen (it
    re-anchored the time); for the same check, the highest wall time and earliest outage win.
    The pending calls are the file's: the caller adds its own.
    """
    if disk.last_success == mine.last_success:
        merged = dataclasses.replace(disk, last_seen=max(disk.last_seen, mine.last_seen))
        if mine.unreachable_since is not None and (
            disk.unreachable_since is None or mine.unreachable_since < disk.unreachable_since
        ):
            merged.unreachable_since = mine.unreachable_since
            merged.last_error = mine.last_error
    elif mine.last_success is None or (
        disk.last_success is not None and disk.last_success > mine.last_success
    ):
        merged = dataclasses.replace(disk)
    else:
        merged = dataclasses.replace(mine)
    merged.pending_calls = disk.pending_calls
    return merged


def save_state(path: Path, state: LicenceState, key: bytes) -> None:
    """Write the signed state atomically; LicenseError when the folder is not writable."""
    body = json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"))
    document = json.dumps({"state": body, "hmac": _sign(body, key)})
    # A name of its own per process and thread: concurrent writers never share a temporary file.
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temporary.write_text(document, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as e:
        with suppress(OSError):
            temporary.unlink()
        raise LicenseError(f"cannot write licence state {path}: {e}") from e


class StateFile:
    """The state file of one LICENSE_DIR, shared by every process (worker) using that folder."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.path = folder / STATE_FILE
        self.check_lock = folder / CHECK_LOCK_FILE
        self._lock = folder / STATE_LOCK_FILE
        self._key = key

    def load(self) -> LicenceState:
        """The state on disk, or a blank one (see load_state)."""
        return load_state(self.path, self._key)

    def sync(
        self, mine: LicenceState, delta: int, change: Change | None = None, *, wait: bool = True
    ) -> LicenceState:
        """Read-merge-write under the state lock; the state written.

        `mine` is merged with the file, `change` applied, and `delta` (calls recorded minus calls
        reported since the last write) added to the file's pending calls. LockBusyError when the
        lock stays held (wait=False: one try), LicenseError when the file cannot be written.
        """
        with file_lock(self._lock, STATE_LOCK_WAIT if wait else 0.0):
            disk = read_state(self.path, self._key) or mine  # unusable file: keep our copy
            state = merge_states(disk, mine)
            if change is not None:
                change(state)
            state.pending_calls = max(0, disk.pending_calls + delta)
            save_state(self.path, state, self._key)
        return state
