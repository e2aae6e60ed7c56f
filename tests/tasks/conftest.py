"""Task-queue fixtures: fast queue settings, a real redis-server, and a wait helper."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.procutil import free_port
from blur_sdk.tasks import TaskConfig, TaskQueue, TaskRecord
from tests.tasks.worker_proc import FAST


def wait_for(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll check() until it is true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def wait_status(queue: TaskQueue, task_id: str, *statuses: str, timeout: float = 5.0) -> TaskRecord:
    """The task's record once its status is one of statuses."""
    wait_for(lambda: queue.get(task_id).status in statuses, timeout, f"status in {statuses}")
    return queue.get(task_id)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real redis-server on a free 127.0.0.1 port, no persistence (skipped without one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH")
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The test redis-server, emptied before each test."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


@pytest.fixture(params=["sqlite", "redis"])
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    """TaskConfig fields of each queue storage: the embedded default and a real Redis."""
    if request.param == "sqlite":
        return {"storage": "sqlite"}
    return {"storage": "redis", "redis_url": request.getfixturevalue("redis_url")}


QueueFactory = Callable[..., TaskQueue]


@pytest.fixture
def make_queue(tmp_path: Path, storage: dict[str, Any]) -> Iterator[QueueFactory]:
    """TaskQueue(TaskConfig(tmp_path/tasks, <storage>, **changes)), fast timings; closed after."""
    queues: list[TaskQueue] = []

    def make(**changes: Any) -> TaskQueue:
        fields = {f.name for f in dataclasses.fields(TaskConfig)}
        ours = {k: v for k, v in changes.items() if k in fields}
        config = dataclasses.replace(TaskConfig(folder=tmp_path / "tasks"), **storage, **ours)
        options = {**FAST, **{k: v for k, v in changes.items() if k not in fields}}
        queue = TaskQueue(config, **options)
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.close()
