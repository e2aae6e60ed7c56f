"""Task records, inputs and results as files in one folder (a volume), each written atomically."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blur_sdk.errors import BlurSdkError, InputError

log = logging.getLogger(__name__)

STATUSES = ("queued", "processing", "success", "failed", "timeout")
FINISHED = frozenset({"success", "failed", "timeout"})
RESULT_TYPES = {  # result file extension -> its Content-Type
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "json": "application/json",
    "mp4": "video/mp4",
    "webm": "video/webm",
}
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # secrets.token_urlsafe's alphabet: no "/" nor "."
_INPUT = re.compile(r"[A-Za-z0-9_]{1,40}")
_RESULT = re.compile(r"([A-Za-z0-9_-]{20,64})\.([a-z][a-z0-9]{2,3})")  # mp4 too
RECORD = "task.json"


class TaskNotFoundError(InputError):
    """No task has this id: unknown, malformed, or deleted after the retention."""

    def __init__(self, task_id: str) -> None:
        shown = task_id if len(task_id) <= 64 else task_id[:64] + "..."
        super().__init__(f"task_id: no task {shown!r} (unknown or expired)", field="task_id")
        self.task_id = task_id


class TaskStoreError(BlurSdkError):
    """A task record on disk cannot be read (a server-side fault)."""


@dataclass
class TaskRecord:
    """The state of one task, as stored in <folder>/tasks/<id>/task.json."""

    id: str
    kind: str
    status: str  # one of STATUSES
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    error: str = ""
    result_name: str = ""  # "<random>.<ext>" in <folder>/results/, "" until done (or no image)
    params: dict[str, Any] = field(default_factory=dict)  # JSON-able request parameters
    info: dict[str, Any] = field(default_factory=dict)  # JSON-able output data of the processor
    owner: str = ""  # "hostname:pid" of the process processing it

    @property
    def finished(self) -> bool:
        """Success, failed or timeout: nothing more will happen to it."""
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-able mapping."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> TaskRecord:
        """A record from to_json()'s mapping (ValueError when it is not one)."""
        if not isinstance(data, dict):
            raise ValueError("a task record must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ValueError(f"task record fields differ: {sorted(set(data) ^ names)}")
        record = cls(**data)
        if record.status not in STATUSES or not _ID.fullmatch(str(record.id)):
            raise ValueError(f"bad task record status {record.status!r} or id")
        return record


def atomic_write(path: Path, data: bytes) -> None:
    """Write path as a whole or not at all: a temporary file beside it, then os.replace."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class TaskStore:
    """Records, inputs and results of tasks under one folder, shared by every process using it."""

    def __init__(self, folder: Path, retention: float = 86400.0) -> None:
        self.folder = folder
        self.retention = retention  # result_path() refuses results older than this (s)
        self.tasks_dir = folder / "tasks"
        self.results_dir = folder / "results"
        self.open_dir = folder / "open"  # an empty file per unfinished task: recovery reads these
        for path in (self.tasks_dir, self.results_dir, self.open_dir):
            path.mkdir(parents=True, exist_ok=True)

    def _dir(self, task_id: str) -> Path:
        if not isinstance(task_id, str) or not _ID.fullmatch(task_id):
            raise TaskNotFoundError(str(task_id))
        return self.tasks_dir / task_id

    def create(self, kind: str, inputs: dict[str, bytes], params: dict[str, Any]) -> TaskRecord:
        """A new queued task with these input files and parameters (an unguessable id)."""
        for name in inputs:
            if not _INPUT.fullmatch(name):
                raise ValueError(f"input name {name!r} must match {_INPUT.pattern}")
        record = TaskRecord(
            id=secrets.token_urlsafe(24), kind=kind, status="queued", created_at=time.time()
        )
        record.params = json.loads(json.dumps(params))  # JSON-able, and a copy
        folder = self._dir(record.id)
        folder.mkdir()
        for name, data in inputs.items():
            atomic_write(folder / f"{name}.bin", data)
        self.save(record)  # last: a folder without task.json is an unfinished create()
        return record

    def get(self, task_id: str) -> TaskRecord:
        """The record of this task (TaskNotFoundError when there is none)."""
        path = self._dir(task_id) / RECORD
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise TaskNotFoundError(task_id) from e
        try:
            return TaskRecord.from_json(json.loads(raw))
        except (ValueError, TypeError) as e:
            raise TaskStoreError(f"task {task_id}: unreadable record {path}: {e}") from e

    def input(self, task_id: str, name: str) -> bytes:
        """The input file `name` given to create()."""
        if not _INPUT.fullmatch(name):
            raise ValueError(f"input name {name!r} must match {_INPUT.pattern}")
        try:
            return (self._dir(task_id) / f"{name}.bin").read_bytes()
        except FileNotFoundError as e:
            raise TaskNotFoundError(task_id) from e

    def save(self, record: TaskRecord) -> None:
        """Replace the stored record (TaskNotFoundError when its folder was deleted)."""
        folder = self._dir(record.id)
        data = json.dumps(record.to_json(), separators=(",", ":")).encode()
        marker = self.open_dir / record.id
        if not record.finished:
            marker.touch()  # before the record: an unfinished task always has its marker
        try:
            atomic_write(folder / RECORD, data)
        except FileNotFoundError as e:
            raise TaskNotFoundError(record.id) from e
        if record.finished:
            marker.unlink(missing_ok=True)

    def claim(self, task_id: str, attempt: int) -> bool:
        """Take attempt number `attempt` of this task: True for exactly one caller, ever."""
        path = self._dir(task_id) / f"attempt-{attempt}.claim"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError as e:
            raise TaskNotFoundError(task_id) from e
        os.close(fd)
        return True

    def write_result(self, record: TaskRecord, data: bytes, ext: str) -> TaskRecord:
        """Store a result file under a new unguessable name; the record with it (not saved)."""
        ext = ext.lower().lstrip(".")
        if ext not in RESULT_TYPES:
            raise ValueError(f"result extension {ext!r} is not one of {', '.join(RESULT_TYPES)}")
        name = f"{secrets.token_urlsafe(24)}.{ext}"
        atomic_write(self.results_dir / name, data)
        return dataclasses.replace(record, result_name=name)

    def result_path(self, name: str) -> Path | None:
        """The result file of this name; None when the name is bad, missing or expired."""
        match = _RESULT.fullmatch(name)
        if match is None or match.group(2) not in RESULT_TYPES:
            return None
        path = self.results_dir / name
        try:
            written = path.stat().st_mtime
        except FileNotFoundError:
            return None
        return path if time.time() - written <= self.retention else None

    def unfinished(self) -> list[TaskRecord]:
        """The queued and processing tasks, oldest first (read through their open/ markers)."""
        records = []
        for marker in self.open_dir.iterdir():
            try:
                record = self.get(marker.name)
            except TaskNotFoundError:
                continue  # being created, or deleted: sweep() removes orphan markers
            except TaskStoreError as e:
                log.warning("%s", e)
                continue
            if not record.finished:
                records.append(record)
        return sorted(records, key=lambda r: r.created_at)

    def sweep(self, retention: float, now: float | None = None) -> int:
        """Delete finished tasks, results and leftovers older than retention; how many (tasks and
        result files)."""
        cutoff = (time.time() if now is None else now) - retention
        deleted = 0
        for folder in self.tasks_dir.iterdir():
            deleted += self._sweep_task(folder, cutoff)
        for path in self.results_dir.iterdir():
            deleted += _unlink_if_older(path, cutoff)
        for marker in self.open_dir.iterdir():
            if not (self.tasks_dir / marker.name).exists():
                _unlink_if_older(marker, cutoff)  # its task's create() died, or it was swept
        return deleted

    def _sweep_task(self, folder: Path, cutoff: float) -> int:
        """Files deleted: a task finished before cutoff (and its result), or an old leftover."""
        if not _ID.fullmatch(folder.name) or not folder.is_dir():
            return 0
        try:
            record = self.get(folder.name) if (folder / RECORD).exists() else None
        except TaskNotFoundError:
            return 0
        except TaskStoreError as e:
            log.warning("%s", e)
            record = None
        try:
            if record is None:
                old = folder.stat().st_mtime < cutoff  # an interrupted create() or junk
            else:
                old = record.finished and (record.finished_at or record.created_at) < cutoff
            if not old:
                return 0
            shutil.rmtree(folder)
        except FileNotFoundError:
            return 0
        (self.open_dir / folder.name).unlink(missing_ok=True)
        if record is not None and record.result_name:
            try:
                (self.results_dir / record.result_name).unlink()
                return 2
            except FileNotFoundError:
                pass  # swept by age already
        return 1


def _unlink_if_older(path: Path, cutoff: float) -> int:
    """1 when path was deleted for being last modified before cutoff."""
    try:
        if path.stat().st_mtime >= cutoff:
            return 0
        path.unlink()
    except FileNotFoundError:
        return 0  # deleted by another process meanwhile
    return 1
