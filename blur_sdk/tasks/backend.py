"""huey itself: the queue storage of a TaskConfig and consumers for threads or worker processes."""

from __future__ import annotations

from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from blur_sdk.errors import ConfigError
from blur_sdk.tasks.config import TaskConfig

QUEUE_NAME = "blur_sdk"  # one name: every server on one Redis (or one folder) shares the queue


def make_huey(config: TaskConfig, poll: float = 0.5) -> Huey:
    """huey over SQLite in the tasks folder, or over the Redis at REDIS_URL (no huey results:
    task state lives in the TaskStore); Redis consumers block up to `poll` s per read."""
    if config.storage == "sqlite":
        filename = str(config.folder / "queue.sqlite")
        return SqliteHuey(QUEUE_NAME, filename=filename, results=False, strict_fifo=True)
    if config.storage == "redis":
        if not config.redis_url:
            raise ConfigError("REDIS_URL: TASK_QUEUE=redis needs a redis:// URL")
        return RedisHuey(
            QUEUE_NAME, url=config.redis_url, results=False, blocking=True, read_timeout=poll
        )
    raise ConfigError(f"TASK_QUEUE: unknown storage {config.storage!r} (sqlite or redis)")


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer inside a web server process: its threads only, no signal handlers.

    start() runs the scheduler and worker threads and returns; stop(graceful=True) sets the
    stop flag and joins them (within shutdown_timeout). No health check loop: run() is not used.
    """

    def _set_signal_handlers(self) -> None:
        """Leave the host process's (gunicorn's) signal handling alone."""


def consumer_options(workers: int, poll: float, shutdown_timeout: float) -> dict[str, Any]:
    """Consumer keyword arguments: thread workers polling every `poll` s, no periodic tasks."""
    return {
        "workers": workers,
        "worker_type": "thread",
        "periodic": False,
        "initial_delay": poll,
        "max_delay": poll,
        "backoff": 1.0,
        "shutdown_timeout": shutdown_timeout,
    }


def close_storage(huey: Huey) -> None:
    """Release the storage's connections (Redis pool, SQLite connection)."""
    pool = getattr(huey.storage, "pool", None)
    if pool is not None:
        pool.disconnect()
    else:
        huey.storage.close()
