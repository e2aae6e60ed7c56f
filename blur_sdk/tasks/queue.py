"""The task queue on huey: submit, process by kind, recover after crashes, report, sweep."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

from huey.consumer import Consumer

from blur_sdk.errors import BlurSdkError, BusyError, ConfigError, QueueUnavailableError
from blur_sdk.tasks.backend import EmbeddedConsumer, close_storage, consumer_options, make_huey
from blur_sdk.tasks.config import TaskConfig
from blur_sdk.tasks.output import Processor, TaskOutput, check_output
from blur_sdk.tasks.owners import Heartbeats, current_owner, why_lost
from blur_sdk.tasks.store import TaskNotFoundError, TaskRecord, TaskStore

__all__ = ["Processor", "TaskOutput", "TaskQueue"]  # Processor, TaskOutput: from output.py

log = logging.getLogger(__name__)

TASK_NAME = "run_task"
SWEPT = ".swept"  # in the tasks folder: touched by each sweep, so one process sweeps at a time
SWEEP_EVERY = 600.0  # s


class TaskQueue:
    """Tasks of registered kinds over huey; their state and results in a TaskStore."""

    def __init__(
        self,
        config: TaskConfig,
        *,
        grace: float = 30.0,
        heartbeat: float = 5.0,
        poll: float = 0.5,
        shutdown_timeout: float = 30.0,
    ) -> None:
        if grace < 2 * heartbeat:
            raise ValueError("grace must be at least two heartbeat intervals")
        self.config = config
        self.grace = grace  # a silent worker is dead after this; a new record is left alone
        self.heartbeat = heartbeat  # heartbeat, and maintenance, period (s)
        self.poll = poll  # consumer threads look for work this often when idle (s)
        self.shutdown_timeout = shutdown_timeout  # stop() waits this long for running tasks
        self.store = TaskStore(config.folder, retention=config.retention)
        self.huey = make_huey(config, poll)
        self._task = self.huey.task(name=TASK_NAME)(self._execute)
        self._extra_stores: list[TaskStore] = []
        self._processors: dict[str, Processor] = {}
        self._heartbeats = Heartbeats(config.folder)
        self._consumer: Consumer | None = None
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None

    def sweep_also(self, store: TaskStore) -> None:
        """Sweep this store too (its own retention), e.g. an API's results kept for less."""
        self._extra_stores.append(store)

    def register(self, kind: str, processor: Processor) -> None:
        """Process tasks of this kind with `processor` in this process's consumers."""
        self._processors[kind] = processor

    # submitting and reporting

    def submit(self, kind: str, inputs: dict[str, bytes], params: dict[str, Any]) -> TaskRecord:
        """A new queued task; BusyError when TASK_MAX_QUEUED tasks are already waiting,
        QueueUnavailableError when the queue's storage (Redis, SQLite) cannot be reached."""
        try:
            waiting = self.huey.pending_count()
        except Exception as e:  # redis.ConnectionError, sqlite3.OperationalError, ...
            raise QueueUnavailableError(
                f"the task queue ({self.config.storage}) cannot be reached: {type(e).__name__}"
            ) from e
        if waiting >= self.config.max_queued:
            raise BusyError(
                f"the task queue is full ({waiting} tasks waiting, "
                f"TASK_MAX_QUEUED={self.config.max_queued}); retry later"
            )
        record = self.store.create(kind, inputs, params)
        try:
            self._enqueue(record.id)
        except Exception as e:
            error = f"the task could not be queued ({type(e).__name__})"
            self._close_record(record, "failed", error)
            raise QueueUnavailableError(f"{error}: the {self.config.storage} queue failed") from e
        return record

    def _enqueue(self, task_id: str) -> None:
        self.huey.enqueue(self._task.s(task_id, id=task_id))

    def get(self, task_id: str) -> TaskRecord:
        """The task's record; one processing longer than the timeout is now "timeout"."""
        return self._check_timeout(self.store.get(task_id), time.time())

    def _check_timeout(self, record: TaskRecord, now: float) -> TaskRecord:
        started = record.started_at
        if record.status != "processing" or started is None:
            return record
        if now - started <= self.config.timeout:
            return record
        error = f"still processing after TASK_TIMEOUT={self.config.timeout:g} s"
        return self._close_record(record, "timeout", error, now)

    def _close_record(
        self, record: TaskRecord, status: str, error: str, now: float | None = None
    ) -> TaskRecord:
        closed = dataclasses.replace(
            record, status=status, error=error, finished_at=time.time() if now is None else now
        )
        self.store.save(closed)
        return closed

    # processing (in consumer threads)

    def _execute(self, task_id: str) -> None:
        """The huey task: claim the next attempt of this task, run its processor, record it."""
        try:
            record = self._claim(self.store.get(task_id))
        except TaskNotFoundError:
            log.warning("task %s: no record (deleted), its queue message is dropped", task_id)
            return
        if record is not None:
            self._process(record)

    def _claim(self, record: TaskRecord) -> TaskRecord | None:
        """The record, now processing by this process; None when it is not queued any more or
        another worker claimed this attempt first (a duplicate message)."""
        attempt = record.attempts + 1
        if record.status != "queued" or not self.store.claim(record.id, attempt):
            log.info("task %s: %s, attempt %d taken: skipped", record.id, record.status, attempt)
            return None
        claimed = dataclasses.replace(
            record,
            status="processing",
            started_at=time.time(),
            attempts=attempt,
            owner=current_owner(),
            error="",
        )
        self.store.save(claimed)
        return claimed

    def _process(self, record: TaskRecord) -> None:
        processor = self._processors.get(record.kind)
        output: TaskOutput | None = None
        try:
            if processor is None:
                raise ConfigError(f"no processor for tasks of kind {record.kind!r} in this worker")
            made = processor(record, self.store)
            check_output(made)
            output, status, error = made, "success", ""
        except BlurSdkError as e:
            status, error = "failed", str(e)
        except Exception as e:
            log.exception("task %s (%s) failed", record.id, record.kind)
            status, error = "failed", f"internal error ({type(e).__name__})"
        try:
            self._finish(record, status, error, output)
        except TaskNotFoundError:
            log.warning("task %s: deleted while processing, its result is dropped", record.id)

    def _finish(
        self, record: TaskRecord, status: str, error: str, output: TaskOutput | None
    ) -> None:
        now = time.time()
        current = self.store.get(record.id)
        if (current.status, current.attempts, current.owner) != (
            "processing",
            record.attempts,
            record.owner,
        ):
            log.warning(
                "task %s: attempt %d ended after the task became %s: its outcome is dropped",
                record.id,
                record.attempts,
                current.status,
            )
            return
        took = now - (record.started_at or now)
        if took > self.config.timeout:
            status, output = "timeout", None
            error = (
                f"processing took {took:.1f} s, more than TASK_TIMEOUT={self.config.timeout:g} s"
            )
        if output is not None:
            if output.data:
                current = self.store.write_result(current, output.data, output.ext)
            current.info = output.info
        self._close_record(current, status, error, now)

    # recovery and maintenance

    def _pending_ids(self) -> set[str]:
        return {str(task.id) for task in self.huey.pending()}

    def recover(self, now: float | None = None) -> int:
        """Re-queue (or, after max_attempts, fail) the tasks no live worker will finish; how many.

        Lost: queued but not in huey's queue (older than the grace: a new one is being queued),
        or processing by a process that is gone (pid dead on this host, heartbeat stale).
        Processing by a live process past the timeout: marked "timeout", never run twice.
        """
        now = time.time() if now is None else now
        pending = self._pending_ids()  # before the records: a task queued meanwhile is new
        recovered = 0
        for record in self.store.unfinished():
            reason = why_lost(record, pending, self._heartbeats, self.grace, now)
            if reason is None:
                self._check_timeout(record, now)
                continue
            try:
                self._retry_or_fail(record, reason, now)
            except TaskNotFoundError:
                continue  # swept meanwhile
            recovered += 1
        return recovered

    def _retry_or_fail(self, record: TaskRecord, reason: str, now: float) -> None:
        if record.attempts >= self.config.max_attempts:
            tries = f"{record.attempts} attempt{'s' if record.attempts != 1 else ''}"
            log.warning("task %s failed: %s (%s)", record.id, reason, tries)
            self._close_record(record, "failed", f"{reason} ({tries})", now)
            return
        log.warning("task %s re-queued: %s", record.id, reason)
        requeued = dataclasses.replace(record, status="queued", started_at=None, owner="")
        self.store.save(requeued)
        self._enqueue(record.id)

    def sweep(self) -> int:
        """Delete finished tasks and results older than the retention; how many."""
        now = time.time()
        (self.config.folder / SWEPT).touch()
        deleted = self.store.sweep(self.config.retention, now)
        deleted += sum(store.sweep(store.retention, now) for store in self._extra_stores)
        return deleted + self._heartbeats.sweep(self.config.retention, now)

    def _sweep_due(self) -> bool:
        """Whether no process sharing the folder swept in the last SWEEP_EVERY (or retention/4)."""
        every = min(SWEEP_EVERY, self.config.retention / 4)
        try:
            return time.time() - (self.config.folder / SWEPT).stat().st_mtime >= every
        except FileNotFoundError:
            return True

    def _maintain(self) -> None:
        """Heartbeat every `heartbeat` s, recover every `grace` s, sweep when due."""
        last_recover = time.monotonic()
        while not self._stop.wait(self.heartbeat):
            try:
                self._heartbeats.beat()
                if time.monotonic() - last_recover >= self.grace:
                    last_recover = time.monotonic()
                    self.recover()
                if self._sweep_due():
                    self.sweep()
            except Exception:
                log.exception("task queue maintenance failed; retrying")

    def _prepare(self) -> None:
        if self._maintenance is not None:
            raise RuntimeError("this TaskQueue is already started")
        self._stop.clear()
        self._heartbeats.beat()
        try:
            self.recover()
            self.sweep()
        except BaseException:
            self._heartbeats.remove()
            raise
        self._maintenance = threading.Thread(target=self._maintain, name="tasks", daemon=True)
        self._maintenance.start()

    def start(self) -> None:
        """Recover, sweep, then consume with `workers` threads in this (web server) process."""
        self._prepare()
        if self.config.workers:
            options = consumer_options(self.config.workers, self.poll, self.shutdown_timeout)
            self._consumer = EmbeddedConsumer(self.huey, check_worker_health=False, **options)
            self._consumer.start()

    def run_worker(self) -> None:
        """A worker process: consume until SIGTERM/SIGINT (graceful: running tasks finish)."""
        self._prepare()
        options = consumer_options(max(1, self.config.workers), self.poll, self.shutdown_timeout)
        consumer = Consumer(self.huey, graceful_signal="TERM", **options)
        try:
            consumer.run()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop consuming: running tasks get shutdown_timeout s to finish (else recovered)."""
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        self._stop.set()
        if self._maintenance is not None:
            self._maintenance.join()
            self._maintenance = None
            self._heartbeats.remove()

    def close(self) -> None:
        """stop(), then release the queue storage's connections."""
        self.stop()
        close_storage(self.huey)
