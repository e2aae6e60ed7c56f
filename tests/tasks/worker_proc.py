"""A worker process for the crash tests: `python -m tests.tasks.worker_proc FOLDER STORAGE URL S`
consumes the queue, its "sleep" tasks sleeping S seconds each."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from blur_sdk.tasks import TaskConfig, TaskOutput, TaskQueue, TaskRecord, TaskStore

FAST = {"grace": 0.5, "heartbeat": 0.1, "poll": 0.02, "shutdown_timeout": 5.0}


def main(argv: list[str]) -> None:
    """Run the worker until a signal."""
    folder, storage, redis_url, seconds = argv
    queue = TaskQueue(
        TaskConfig(folder=Path(folder), storage=storage, redis_url=redis_url, workers=1), **FAST
    )

    def sleep(record: TaskRecord, store: TaskStore) -> TaskOutput:
        time.sleep(float(seconds))
        return TaskOutput(b'{"slept": true}', "json", {"pid": "worker"})

    queue.register("sleep", sleep)
    queue.run_worker()


if __name__ == "__main__":
    main(sys.argv[1:])
