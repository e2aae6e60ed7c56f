"""A worker process killed with -9 mid-task loses nothing: the task is re-run after a restart,
or failed with a reason once its attempts are spent; SIGTERM lets the running task finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from blur_sdk.tasks import TaskOutput, TaskQueue
from tests.tasks.conftest import QueueFactory, wait_status

pytestmark = pytest.mark.process
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(queue: TaskQueue, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    """python -m tests.tasks.worker_proc on the queue's folder and storage; killed at the end."""
    config = queue.config
    cmd = [sys.executable, "-m", "tests.tasks.worker_proc", str(config.folder)]
    cmd += [config.storage, config.redis_url, str(seconds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _kill_while_processing(queue: TaskQueue) -> str:
    """Submit a task, let a worker process start it, kill -9 that process: the task's id."""
    record = queue.submit("sleep", {}, {})
    with worker_process(queue, seconds=30) as process:
        processing = wait_status(queue, record.id, "processing", timeout=15)
        assert processing.owner.endswith(f":{process.pid}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert queue.get(record.id).status == "processing"  # as the dead worker left it
    return record.id


def test_kill_9_then_restart_reruns_the_task(make_queue: QueueFactory) -> None:
    web = make_queue(workers=0)
    task_id = _kill_while_processing(web)
    restarted = make_queue(workers=1)  # the restarted worker: recover(), then consume
    restarted.register("sleep", lambda r, s: TaskOutput(b"{}", "json", {"rerun": True}))
    restarted.start()
    done = wait_status(web, task_id, "success")
    assert done.attempts == 2 and done.info == {"rerun": True}
    assert done.result_name.endswith(".json")


def test_kill_9_with_attempts_spent_fails_with_a_reason(make_queue: QueueFactory) -> None:
    web = make_queue(workers=0, max_attempts=1)
    task_id = _kill_while_processing(web)
    restarted = make_queue(workers=1, max_attempts=1)
    restarted.start()
    done = web.get(task_id)
    assert done.status == "failed"
    assert done.error == "the worker stopped while processing this task (1 attempt)"


def test_sigterm_lets_the_running_task_finish(make_queue: QueueFactory) -> None:
    web = make_queue(workers=0)
    record = web.submit("sleep", {}, {})
    with worker_process(web, seconds=0.5) as process:
        wait_status(web, record.id, "processing", timeout=15)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    done = web.get(record.id)
    assert done.status == "success" and done.info == {"pid": "worker"}
    assert not list((web.config.folder / "workers").iterdir())  # its heartbeat is gone
