"""What the task queue needs from the settings: folder, storage, workers, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # settings import the engine's modules: a worker needs only these fields
    from blur_sdk.settings import Settings


@dataclass(frozen=True)
class TaskConfig:
    """Where task state lives and how the queue behaves."""

    folder: Path  # TASKS_DIR: records, inputs, results, the SQLite queue (a volume)
    storage: str = "sqlite"  # TASK_QUEUE: "sqlite" (in folder) or "redis" (REDIS_URL)
    redis_url: str = ""
    workers: int = 1  # consumer threads of a server process (0: separate worker processes)
    max_queued: int = 100  # waiting tasks at most; more are refused busy
    timeout: float = 120.0  # a task processing longer is reported "timeout" (s)
    retention: float = 86400.0  # task records and results are deleted after this (s)
    max_attempts: int = 2  # runs of a task whose worker died while processing it


def task_config(settings: Settings) -> TaskConfig:
    """The TaskConfig of these settings."""
    return TaskConfig(
        folder=settings.tasks_dir,
        storage=settings.task_queue,
        redis_url=settings.redis_url,
        workers=settings.task_workers,
        max_queued=settings.task_max_queued,
        timeout=settings.task_timeout,
        retention=settings.result_retention,
    )
