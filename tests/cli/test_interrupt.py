"""Interrupting the blur command (SIGINT, SIGTERM) as a real process, then resuming it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blur_sdk import PROJECT_ROOT
from blur_sdk.cli import main
from tests.cli.conftest import write_tree
from tests.fakes import FakeEngine

IMAGES = 6


def wait_for_an_output(out: Path, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.suffix == ".jpg" for p in out.rglob("*.jpg")):
            return
        time.sleep(0.05)
    raise AssertionError(f"no output appeared (exit {process.poll()})")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_interrupt_then_resume(
    tmp_path: Path, signum: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "in", count=IMAGES)
    out = tmp_path / "out"
    args = [str(tmp_path / "in"), "--out", str(out), "--workers", "1"]
    env = {**os.environ, "SLOW_FAKE_DELAY": "0.5", "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.cli.slow_fake_cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_an_output(out, process)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert stdout.startswith("interrupted: "), stdout
    first = sorted(p.name for p in out.rglob("*") if p.suffix in (".jpg", ".png", ".webp"))
    assert 1 <= len(first) < IMAGES  # the image in flight was finished, no new one started
    assert not list(out.rglob("*.part"))
    assert f"{IMAGES - len(first)} not started" in stdout
    reported = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    assert len(reported) == len(first)

    assert main(args, engine=FakeEngine()) == 0
    summary = capsys.readouterr().out
    assert f"{IMAGES - len(first)} done, 0 failed, {len(first)} skipped" in summary
    files = sorted(p.name for p in out.rglob("*") if p.suffix in (".jpg", ".png", ".webp"))
    assert len(files) == IMAGES
    assert not list(out.rglob("*.part"))
    reported = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    assert sorted(Path(r["image"]).name for r in reported) == sorted(
        p.name for p in (tmp_path / "in").rglob("*") if p.is_file()
    )
    assert all(r["error"] is None for r in reported)
