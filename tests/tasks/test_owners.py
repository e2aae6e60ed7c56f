"""Owner liveness from pids and heartbeat files, and the TaskConfig of the settings."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from blur_sdk.settings import load_settings
from blur_sdk.tasks import TaskConfig, task_config
from blur_sdk.tasks.owners import Heartbeats, current_owner, pid_alive


def test_pid_alive_knows_exited_and_zombie_processes() -> None:
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while pid_alive(child.pid) and time.monotonic() < deadline:  # exited, not reaped: a zombie
        time.sleep(0.01)
    assert not pid_alive(child.pid)
    child.wait()
    assert not pid_alive(child.pid)


def test_alive_needs_a_fresh_heartbeat_of_the_process_that_started_the_task(
    tmp_path: Path,
) -> None:
    beats = Heartbeats(tmp_path)
    me, now = current_owner(), time.time()
    assert not beats.alive(me, now, 1.0, now)  # no heartbeat: not consuming
    beats.beat()
    assert beats.alive(me, now, 1.0, now)
    assert not beats.alive(me, beats.since - 5, 1.0, now)  # started by an earlier pid holder
    assert not beats.alive(me, now, 1.0, now + 5)  # heartbeat stale
    beats.remove()
    assert not beats.alive(me, now, 1.0, now)
    for bad in ("", "nocolon", "host:pid", ":12"):
        assert not beats.alive(bad, now, 1.0, now)


def test_remote_owner_lives_by_its_heartbeat(tmp_path: Path) -> None:
    beats = Heartbeats(tmp_path)
    owner = "not-" + socket.gethostname() + ":1"
    entry = {"owner": owner, "since": 100.0, "beat": 1000.0}
    (beats.dir / f"{owner}.json").write_text(json.dumps(entry))
    assert beats.alive(owner, 500.0, 30.0, 1020.0)
    assert not beats.alive(owner, 500.0, 30.0, 1031.0)
    assert beats.sweep(60.0, time.time() + 120) == 1
    assert not beats.alive(owner, 500.0, 30.0, 1020.0)


def test_task_config_of_the_settings(tmp_path: Path) -> None:
    settings = load_settings(env={}, config_dir=tmp_path / "no-config")
    assert task_config(settings) == TaskConfig(folder=settings.tasks_dir)  # the same defaults
    changed = dataclasses.replace(
        settings,
        tasks_dir=tmp_path,
        task_queue="redis",
        redis_url="redis://r:6379/2",
        task_workers=0,
        task_max_queued=5,
        task_timeout=30.0,
        result_retention=3600.0,
    )
    assert task_config(changed) == TaskConfig(
        folder=tmp_path,
        storage="redis",
        redis_url="redis://r:6379/2",
        workers=0,
        max_queued=5,
        timeout=30.0,
        retention=3600.0,
    )
