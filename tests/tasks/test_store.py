"""TaskStore: records, inputs and results on disk, atomic writes, hostile ids, the sweep."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from blur_sdk.errors import InputError
from blur_sdk.tasks import TaskNotFoundError, TaskRecord, TaskStore, TaskStoreError
from blur_sdk.tasks.store import atomic_write


@pytest.fixture
def store(tmp_path: Path) -> TaskStore:
    return TaskStore(tmp_path / "tasks", retention=3600.0)


def test_create_get_input_roundtrip(store: TaskStore) -> None:
    record = store.create("blur", {"image": b"\x89PNG...", "logo": b"L"}, {"faces": 10})
    assert record.status == "queued" and record.attempts == 0 and record.result_name == ""
    assert len(record.id) >= 32
    assert store.get(record.id) == record
    assert store.input(record.id, "image") == b"\x89PNG..."
    assert store.input(record.id, "logo") == b"L"
    on_disk = json.loads((store.tasks_dir / record.id / "task.json").read_text())
    assert on_disk["kind"] == "blur" and on_disk["params"] == {"faces": 10}


def test_ids_and_result_names_are_unguessable(store: TaskStore) -> None:
    ids = {store.create("k", {}, {}).id for _ in range(20)}
    assert len(ids) == 20
    record = store.create("k", {}, {})
    a = store.write_result(record, b"1", "png").result_name
    b = store.write_result(record, b"2", "png").result_name
    assert a != b and a.endswith(".png") and record.id not in a


def test_params_must_be_json(store: TaskStore) -> None:
    with pytest.raises(TypeError):
        store.create("k", {}, {"bad": object()})


@pytest.mark.parametrize(
    "task_id", ["", "..", "../../etc/passwd", "a" * 15, "a" * 65, "abc/defghijklmnopqrst", "é" * 20]
)
def test_bad_ids_are_not_found(store: TaskStore, task_id: str) -> None:
    with pytest.raises(TaskNotFoundError) as caught:
        store.get(task_id)
    assert isinstance(caught.value, InputError) and caught.value.field == "task_id"
    with pytest.raises(TaskNotFoundError):
        store.input(task_id, "image")


def test_unknown_id_and_bad_input_name(store: TaskStore) -> None:
    with pytest.raises(TaskNotFoundError):
        store.get("A" * 32)
    record = store.create("k", {"image": b"x"}, {})
    with pytest.raises(TaskNotFoundError):
        store.input(record.id, "other")
    with pytest.raises(ValueError, match="input name"):
        store.input(record.id, "../task")
    with pytest.raises(ValueError, match="input name"):
        store.create("k", {"a.b": b""}, {})


def test_save_is_atomic_and_leaves_no_temporary_files(store: TaskStore) -> None:
    record = store.create("k", {}, {})
    for n in range(5):
        store.save(dataclasses.replace(record, attempts=n))
    assert sorted(p.name for p in (store.tasks_dir / record.id).iterdir()) == ["task.json"]
    assert store.get(record.id).attempts == 4


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.json"
    atomic_write(path, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_corrupt_record_is_an_error_not_a_missing_task(store: TaskStore) -> None:
    record = store.create("k", {}, {})
    (store.tasks_dir / record.id / "task.json").write_text('{"id": "x"}')
    with pytest.raises(TaskStoreError, match="unreadable record"):
        store.get(record.id)
    assert store.unfinished() == []  # logged and left out


def test_save_of_a_deleted_task(store: TaskStore) -> None:
    record = store.create("k", {}, {})
    for path in (store.tasks_dir / record.id).iterdir():
        path.unlink()
    (store.tasks_dir / record.id).rmdir()
    with pytest.raises(TaskNotFoundError):
        store.save(record)


def test_claim_is_taken_once(store: TaskStore) -> None:
    record = store.create("k", {}, {})
    assert store.claim(record.id, 1)
    assert not store.claim(record.id, 1)
    assert store.claim(record.id, 2)


def test_results_and_result_path(store: TaskStore) -> None:
    record = store.create("k", {}, {})
    done = store.write_result(record, b"JPEG", "JPG")
    assert done.result_name.endswith(".jpg") and store.get(record.id).result_name == ""
    path = store.result_path(done.result_name)
    assert path is not None and path.read_bytes() == b"JPEG"
    assert store.result_path("missing" * 4 + ".png") is None
    for bad in ("../tasks/x.png", done.result_name[:-4] + ".exe", done.result_name + "/", ".png"):
        assert store.result_path(bad) is None
    with pytest.raises(ValueError, match="result extension"):
        store.write_result(record, b"x", "html")
    old = time.time() - 7200
    os.utime(path, (old, old))
    assert store.result_path(done.result_name) is None  # older than the retention


def test_unfinished_lists_queued_and_processing_oldest_first(store: TaskStore) -> None:
    a, b, c = (store.create("k", {}, {}) for _ in range(3))
    store.save(dataclasses.replace(a, created_at=a.created_at + 10, status="processing"))
    store.save(dataclasses.replace(c, status="success", finished_at=time.time()))
    assert [r.id for r in store.unfinished()] == [b.id, a.id]
    assert sorted(p.name for p in store.open_dir.iterdir()) == sorted([a.id, b.id])


def _finished(store: TaskStore, age: float, status: str = "success") -> TaskRecord:
    record = store.write_result(store.create("k", {"image": b"x"}, {}), b"R", "png")
    record = dataclasses.replace(record, status=status, finished_at=time.time() - age)
    store.save(record)
    return record


def test_sweep_deletes_old_finished_tasks_and_their_results(store: TaskStore) -> None:
    old, recent = _finished(store, 7200), _finished(store, 10)
    old_failed = _finished(store, 7200, "failed")
    waiting = store.create("k", {}, {})
    store.save(dataclasses.replace(waiting, created_at=time.time() - 7200))  # never swept
    leftover = store.tasks_dir / ("L" * 32)  # a create() interrupted before task.json
    leftover.mkdir()
    stray = store.results_dir / ".x.png.123.tmp"
    stray.write_bytes(b"")
    long_ago = time.time() - 7200
    os.utime(leftover, (long_ago, long_ago))
    os.utime(stray, (long_ago, long_ago))
    os.utime(store.results_dir / old.result_name, (long_ago, long_ago))
    assert store.sweep(3600) == 6  # old, old_failed, their results, leftover, the stray file
    remaining = {p.name for p in store.tasks_dir.iterdir()}
    assert remaining == {recent.id, waiting.id}
    assert store.result_path(recent.result_name) is not None
    assert not (store.results_dir / old_failed.result_name).exists()
    assert store.sweep(3600) == 0
    assert store.sweep(3600, now=time.time() + 7200) == 2  # recent, and its result
