"""TaskQueue over real huey consumer threads, on SQLite in tmp_path and on a real redis-server."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time

import pytest

from blur_sdk.errors import BusyError, InputError
from blur_sdk.tasks import TaskOutput, TaskRecord, TaskStore
from blur_sdk.tasks.owners import current_owner
from tests.tasks.conftest import QueueFactory, wait_for, wait_status


def _echo(record: TaskRecord, store: TaskStore) -> TaskOutput:
    image = store.input(record.id, "image")
    return TaskOutput(image[::-1], "png", {"size": len(image), **record.params})


def test_submit_then_success_with_result_and_info(make_queue: QueueFactory) -> None:
    queue = make_queue()
    queue.register("echo", _echo)
    queue.start()
    record = queue.submit("echo", {"image": b"abc"}, {"faces": 3})
    done = wait_status(queue, record.id, "success")
    assert done.attempts == 1 and done.error == "" and done.owner == current_owner()
    assert done.info == {"size": 3, "faces": 3}
    assert done.started_at is not None and done.finished_at is not None
    path = queue.store.result_path(done.result_name)
    assert path is not None and path.read_bytes() == b"cba"


def test_no_image_means_no_result_file(make_queue: QueueFactory) -> None:
    queue = make_queue()
    queue.register("count", lambda r, s: TaskOutput(b"", "png", {"faces": 0}))
    queue.start()
    done = wait_status(queue, queue.submit("count", {}, {}).id, "success")
    assert done.result_name == "" and done.info == {"faces": 0}
    assert list(queue.store.results_dir.iterdir()) == []


def _raise(error: Exception) -> TaskOutput:
    raise error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (InputError("upload: not an image", "upload"), "upload: not an image"),
        (KeyError("secret detail"), "internal error (KeyError)"),
    ],
)
def test_processor_errors_fail_the_task_with_a_reason(
    make_queue: QueueFactory, error: Exception, reason: str
) -> None:
    queue = make_queue()
    queue.register("bad", lambda r, s: _raise(error))
    queue.start()
    done = wait_status(queue, queue.submit("bad", {}, {}).id, "failed")
    assert done.error == reason and done.result_name == "" and done.finished_at is not None


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (TaskOutput(b"x", "exe"), "internal error (ValueError)"),
        (TaskOutput(b"", "png", {"bad": object()}), "internal error (TypeError)"),
    ],
)
def test_unstorable_outputs_fail_the_task(
    make_queue: QueueFactory, output: TaskOutput, reason: str
) -> None:
    queue = make_queue()
    queue.register("odd", lambda r, s: output)
    queue.start()
    assert wait_status(queue, queue.submit("odd", {}, {}).id, "failed").error == reason


def test_unregistered_kind_fails(make_queue: QueueFactory) -> None:
    queue = make_queue()
    queue.start()
    done = wait_status(queue, queue.submit("nobody", {}, {}).id, "failed")
    assert "no processor for tasks of kind 'nobody'" in done.error


def test_timeout_is_reported_and_kept(make_queue: QueueFactory) -> None:
    queue = make_queue(timeout=0.2)
    release = threading.Event()

    def slow(record: TaskRecord, store: TaskStore) -> TaskOutput:
        release.wait(5)
        return TaskOutput(b"late", "png")

    queue.register("slow", slow)
    queue.start()
    record = queue.submit("slow", {}, {})
    wait_status(queue, record.id, "processing")
    done = wait_status(queue, record.id, "timeout")  # get() decides, and persists it
    assert "TASK_TIMEOUT=0.2" in done.error
    assert queue.store.get(record.id).status == "timeout"
    release.set()
    time.sleep(0.2)
    assert queue.get(record.id).status == "timeout"  # the late outcome is dropped
    assert list(queue.store.results_dir.iterdir()) == []


def test_finishing_after_the_timeout_is_timeout(make_queue: QueueFactory) -> None:
    queue = make_queue(timeout=0.1)

    def slow(record: TaskRecord, store: TaskStore) -> TaskOutput:
        time.sleep(0.3)
        return TaskOutput(b"x", "png")

    queue.register("slow", slow)
    queue.start()
    record = queue.submit("slow", {}, {})
    wait_for(lambda: queue.store.get(record.id).finished, what="the worker to finish")
    done = queue.store.get(record.id)  # not through get(): the worker's own verdict
    assert done.status == "timeout" and "more than TASK_TIMEOUT=0.1" in done.error


def test_full_queue_is_busy(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=0, max_queued=2)
    queue.start()
    first = queue.submit("echo", {}, {})
    queue.submit("echo", {}, {})
    with pytest.raises(BusyError, match="TASK_MAX_QUEUED=2"):
        queue.submit("echo", {}, {})
    assert queue.get(first.id).status == "queued"
    assert len(list(queue.store.tasks_dir.iterdir())) == 2  # the refused one left nothing


def test_web_process_submits_a_worker_process_consumes(make_queue: QueueFactory) -> None:
    web = make_queue(workers=0)
    web.start()
    record = web.submit("echo", {"image": b"xy"}, {})
    worker = make_queue(workers=2)
    worker.register("echo", _echo)
    worker.start()
    assert wait_status(web, record.id, "success").info == {"size": 2}


def test_duplicate_messages_run_a_task_once(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=2)
    calls: list[str] = []

    def once(record: TaskRecord, store: TaskStore) -> TaskOutput:
        calls.append(record.id)
        return TaskOutput(b"", "png")

    queue.register("once", once)
    record = queue.submit("once", {}, {})
    queue._enqueue(record.id)
    queue._enqueue(record.id)
    queue.start()
    wait_status(queue, record.id, "success")
    wait_for(lambda: queue.huey.pending_count() == 0, what="the duplicates to be consumed")
    time.sleep(0.1)
    assert calls == [record.id] and queue.get(record.id).attempts == 1


def test_recover_requeues_a_lost_message(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=0)
    lost = queue.store.create("echo", {"image": b"q"}, {})  # a record whose enqueue never happened
    fresh = queue.store.create("echo", {"image": b"q"}, {})  # being submitted right now
    queue.store.save(dataclasses.replace(lost, created_at=time.time() - 5))
    assert queue.recover() == 1
    assert queue.huey.pending_count() == 1 and queue.get(fresh.id).status == "queued"
    assert queue.recover() == 0  # pending now: left alone
    worker = make_queue()
    worker.register("echo", _echo)
    worker.start()
    assert wait_status(worker, lost.id, "success").attempts == 1


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_recover_reruns_or_fails_tasks_of_dead_workers(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=0, max_attempts=2)
    host = current_owner().rpartition(":")[0]
    started = time.time() - 1
    again, spent, remote = (queue.store.create("echo", {"image": b"r"}, {}) for _ in range(3))
    for record, attempts, owner in (
        (again, 1, f"{host}:{_dead_pid()}"),
        (spent, 2, f"{host}:{_dead_pid()}"),
        (remote, 1, "other-host:1"),  # no heartbeat: gone
    ):
        queue.store.save(
            dataclasses.replace(
                record, status="processing", attempts=attempts, owner=owner, started_at=started
            )
        )
    assert queue.recover() == 3
    failed = queue.get(spent.id)
    assert failed.status == "failed"
    assert failed.error == "the worker stopped while processing this task (2 attempts)"
    assert queue.get(again.id).status == "queued" and queue.get(again.id).attempts == 1
    worker = make_queue()
    worker.register("echo", _echo)
    worker.start()
    assert wait_status(worker, again.id, "success").attempts == 2
    assert wait_status(worker, remote.id, "success").attempts == 2


def test_recover_leaves_live_workers_tasks_alone(make_queue: QueueFactory) -> None:
    worker = make_queue(timeout=60)
    release = threading.Event()

    def slow(record: TaskRecord, store: TaskStore) -> TaskOutput:
        release.wait(5)
        return TaskOutput(b"", "png")

    worker.register("slow", slow)
    worker.start()
    record = worker.submit("slow", {}, {})
    wait_status(worker, record.id, "processing")
    other = make_queue(workers=0)  # another process sharing the queue, recovering
    assert other.recover() == 0
    assert other.recover(now=time.time() + 0.3) == 0  # heartbeats keep it alive
    assert other.get(record.id).status == "processing"
    release.set()
    assert wait_status(other, record.id, "success").attempts == 1


def test_start_twice_is_an_error(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=0)
    queue.start()
    with pytest.raises(RuntimeError, match="already started"):
        queue.start()
    queue.stop()
    queue.start()  # after stop(): again


def test_sweep_runs_at_start_and_then_when_due(make_queue: QueueFactory) -> None:
    queue = make_queue(workers=0, retention=60.0)
    old = queue.store.create("k", {}, {})
    queue.store.save(dataclasses.replace(old, status="failed", finished_at=time.time() - 120))
    queue.start()
    assert not (queue.store.tasks_dir / old.id).exists()
    assert not queue._sweep_due()  # swept just now, by this process or another
    assert queue.sweep() == 0
