"""The blur command with the real models: in-process, and as a process posting to a real server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.procutil import free_port, run_cli, running_server
from bench.synthetic import FACE_BOX, PLATE_QUAD, encode, noise
from blur_sdk.settings import Settings
from tests.cli.conftest import SCENE_JPEG
from tests.clients import process_env

pytestmark = pytest.mark.models


def fixture_folder(root: Path) -> Path:
    (root / "street").mkdir(parents=True)
    (root / "street" / "car.jpg").write_bytes(SCENE_JPEG)
    (root / "noise.png").write_bytes(encode(noise(96, 64), "PNG"))
    return root


def changed(before: Path, after: Path, box: tuple[int, ...]) -> float:
    x0, y0, x1, y1 = box
    a = np.asarray(Image.open(before).convert("RGB"), dtype=int)[y0:y1, x0:x1]
    b = np.asarray(Image.open(after).convert("RGB"), dtype=int)[y0:y1, x0:x1]
    return float(np.abs(a - b).mean())


def check_outputs(inputs: Path, out: Path) -> None:
    lines: dict[str, dict[str, Any]] = {}
    for line in (out / "report.jsonl").read_text().splitlines():
        record = json.loads(line)
        lines[Path(record["image"]).name] = record
    car = lines["car.jpg"]
    assert car["error"] is None and car["faces"], car
    assert [p["text"] for p in car["plates"]] == ["ka482mx"], car
    plate = tuple(int(v) for v in (*PLATE_QUAD.min(axis=0), *PLATE_QUAD.max(axis=0)))
    face = tuple(int(v) for v in FACE_BOX)
    assert changed(inputs / "street" / "car.jpg", out / "street" / "car.jpg", plate) > 10
    assert changed(inputs / "street" / "car.jpg", out / "street" / "car.jpg", face) > 5
    assert lines["noise.png"]["error"] is None and (out / "noise.png").is_file()


def test_in_process_with_the_real_engine(tmp_path: Path, models_installed: Settings) -> None:
    """`python -m blur_sdk blur` as a process: the engine built from the settings, two threads."""
    inputs = fixture_folder(tmp_path / "in")
    out = tmp_path / "out"
    args = ("blur", str(inputs), "--out", str(out), "--workers", "2")
    done = run_cli(*args, env_extra={"CONFIG_DIR": str(tmp_path / "no-config")})
    assert done.returncode == 0, done.stderr
    check_outputs(inputs, out)
    assert "2 done, 0 failed, 0 skipped" in done.stdout


@pytest.mark.process
def test_the_command_posts_to_a_real_server(tmp_path: Path, models_installed: Settings) -> None:
    inputs = fixture_folder(tmp_path / "in")
    (inputs / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    out = tmp_path / "out"
    port = free_port()
    env = process_env(tmp_path, WORKERS="1", THREADS="2", APIS="blur")
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    with running_server(cmd, port, env, timeout=180.0) as server:
        # `serve` exec'd gunicorn (the same pid) with glibc's huge-page tunable (models/malloc.py)
        environ = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
        assert b"GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in environ
        args = ("blur", str(inputs), "--out", str(out), "--server", server.url, "-j", "2")
        done = run_cli(*args, env_extra={"CONFIG_DIR": str(tmp_path / "no-config")})
    assert done.returncode == 1, done.stderr
    check_outputs(inputs, out)
    assert "2 done, 1 failed, 0 skipped" in done.stdout
    assert f"  {inputs / 'broken.jpg'}: {server.url}: HTTP 400: upload: " in done.stdout
