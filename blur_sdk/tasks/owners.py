"""Who processes a task and whether it still lives (pid, heartbeat files): which tasks are lost."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from blur_sdk.tasks.store import TaskRecord, atomic_write


def current_owner() -> str:
    """This process as a task owner: "hostname:pid" (read each time: a fork changes the pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this pid runs on this host (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux) or it just exited: kill() said it exists
    fields = stat.rpartition(")")[2].split()
    return not fields or fields[0] not in ("Z", "X")


class Heartbeats:
    """<folder>/workers/: a file per consuming process, rewritten every few seconds by it."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder / "workers"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.since = time.time()  # this process's tasks all start after this

    def _path(self, owner: str) -> Path:
        return self.dir / (re.sub(r"[^A-Za-z0-9._:-]", "_", owner) + ".json")

    def beat(self) -> None:
        """Say that this process is alive (and consuming since self.since)."""
        owner = current_owner()
        entry = {"owner": owner, "since": self.since, "beat": time.time()}
        atomic_write(self._path(owner), json.dumps(entry).encode())

    def remove(self) -> None:
        """This process stops consuming: its tasks are no longer looked after."""
        self._path(current_owner()).unlink(missing_ok=True)

    def read(self, owner: str) -> dict[str, Any] | None:
        """The heartbeat of this owner; None when it has none (stopped, or never consumed)."""
        try:
            entry = json.loads(self._path(owner).read_bytes())
        except FileNotFoundError:
            return None
        if not isinstance(entry, dict) or not {"since", "beat"} <= set(entry):
            raise ValueError(f"{self._path(owner)}: not a heartbeat")
        return entry

    def alive(self, owner: str, started_at: float, grace: float, now: float) -> bool:
        """Whether `owner` is still processing a task it started at `started_at`.

        Alive: its heartbeat was renewed within `grace`, by the process that started the task
        (a process reusing the pid started consuming later), and on this host its pid runs.
        """
        host, _, pid = owner.rpartition(":")
        if not host or not pid.isdigit():
            return False
        if host == socket.gethostname() and not pid_alive(int(pid)):
            return False
        entry = self.read(owner)
        if entry is None or float(entry["since"]) > started_at:
            return False
        return now - float(entry["beat"]) <= grace

    def sweep(self, older_than: float, now: float) -> int:
        """Delete heartbeats not renewed for `older_than` seconds; how many."""
        deleted = 0
        for path in self.dir.glob("*.json"):
            try:
                if path.stat().st_mtime < now - older_than:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue  # removed by its process meanwhile
        return deleted


def why_lost(
    record: TaskRecord, pending: set[str], heartbeats: Heartbeats, grace: float, now: float
) -> str | None:
    """Why no live worker will finish this unfinished task; None when one will (or may).

    Queued: lost when huey no longer holds it (`pending`: the ids huey holds, read before the
    record) and it is older than `grace` (a newer one may be in the middle of being queued).
    Processing: lost when its owner is not alive (Heartbeats.alive).
    """
    if record.status == "queued":
        if record.id in pending or now - record.created_at < grace:
            return None
        return "its queue message was lost"
    if heartbeats.alive(record.owner, record.started_at or 0.0, grace, now):
        return None
    return "the worker stopped while processing this task"
