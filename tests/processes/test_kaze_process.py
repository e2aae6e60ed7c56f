"""Kaze's API as a real server process on 127.0.0.1: submit, poll, download over HTTP, and no
task lost when the worker, or the whole server, is killed with SIGKILL mid-task."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from bench.procutil import Server, free_port, running_server
from bench.synthetic import encode
from blur_sdk.settings import Settings
from tests.apis.kaze.helpers import (
    RESULT,
    SUBMIT,
    clean_image,
    marked_image,
    smear_of,
    watermark_mask,
)
from tests.clients import process_env

pytestmark = [pytest.mark.process, pytest.mark.models]


def _start(base: Path, port: int) -> Iterator[Server]:
    env = process_env(base, APIS="kaze", WORKERS="1", THREADS="4", TASK_WORKERS="1",
                      WARM_UP="")  # fmt: skip
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    return running_server(cmd, port, env, timeout=180.0)  # type: ignore[return-value]


def _b64(rgb: np.ndarray) -> str:
    return base64.b64encode(encode(rgb, "PNG")).decode()


def _post(server: Server, path: str, body: dict[str, object]) -> dict[str, object]:
    response = requests.post(server.url + path, json=body, timeout=60)
    assert response.status_code == 200, response.text[:300]
    answer: dict[str, object] = response.json()
    return answer


def _wait(server: Server, task_id: str, timeout: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = _post(server, RESULT, {"task_id": task_id})["data"]
        assert isinstance(data, dict)
        if data["status"] != "processing":
            return data
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} still processing after {timeout}s")


def _status_on_disk(base: Path, task_id: str) -> str:
    record = json.loads((base / "tasks" / "tasks" / task_id / "task.json").read_text())
    status: str = record["status"]
    return status


def _slow_task() -> dict[str, str]:
    """A 1600x1200 image with a 600x500 smear: seconds of PatchMatch."""
    clean = clean_image(1600, 1200)
    mask = np.zeros(clean.shape[:2], np.uint8)
    mask[300:800, 500:1100] = 255
    return {"image_base64": _b64(marked_image(clean, mask)), "smear_base64": _b64(smear_of(mask))}


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_submit_poll_download_over_http(tmp_path: Path, models_installed: Settings) -> None:
    clean = clean_image()
    mask = watermark_mask(clean.shape[:2])
    marked = marked_image(clean, mask)
    with _start(tmp_path, free_port()) as server:
        answer = _post(server, SUBMIT, {"image_base64": _b64(marked),
                                        "smear_base64": _b64(smear_of(mask))})  # fmt: skip
        assert answer["code"] == 0 and answer["message"] == "success"
        data = _wait(server, str(answer["data"]["task_id"]))  # type: ignore[index]
        assert data["status"] == "success", data
        url = data["images"][0]["url"]  # type: ignore[index]
        assert url.startswith(server.url + "/results/")
        image = requests.get(url, timeout=30)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(image.content)).convert("RGB"))
    assert np.array_equal(out[mask == 0], marked[mask == 0])
    inside = mask > 0
    before = np.abs(marked[inside].astype(int) - clean[inside]).mean()
    after = np.abs(out[inside].astype(int) - clean[inside]).mean()
    assert after < before / 3


def _kill_mid_task(tmp_path: Path, kill_all: bool) -> tuple[list[dict[str, object]], int]:
    port = free_port()
    with _start(tmp_path, port) as server:
        body = _slow_task()
        ids = [str(_post(server, SUBMIT, body)["data"]["task_id"])  # type: ignore[index]
               for _ in range(3)]  # fmt: skip
        deadline = time.monotonic() + 60
        while "processing" not in (statuses := [_status_on_disk(tmp_path, i) for i in ids]):
            assert time.monotonic() < deadline, f"no task started: {statuses}"
            time.sleep(0.02)
        killed = statuses.index("processing")
        master = server.process.pid
        for pid in _children(master):
            os.kill(pid, signal.SIGKILL)  # the worker holding the task dies mid-task
        if kill_all:
            os.kill(master, signal.SIGKILL)
            server.process.wait(10)
            with _start(tmp_path, port) as restarted:
                return [_wait(restarted, task_id) for task_id in ids], killed
        return [_wait(server, task_id) for task_id in ids], killed  # gunicorn starts a worker


@pytest.mark.parametrize("kill_all", [False, True], ids=["worker", "whole-server"])
def test_no_task_is_lost_to_sigkill(
    tmp_path: Path, models_installed: Settings, kill_all: bool
) -> None:
    results, killed = _kill_mid_task(tmp_path, kill_all)
    for data in results:
        assert data["status"] in ("success", "failed"), data
        if data["status"] == "failed":
            assert data["err_msg"]
    assert results[killed]["status"] == "success"  # re-run once after the crash (2 attempts)


def test_automatic_removal_of_a_synthetic_watermark(
    tmp_path: Path, models_installed: Settings
) -> None:
    """No smear: the real finder finds a semi-transparent caption and the fill restores it."""
    import random

    import cv2

    from bench import watermark_synth as synth

    clean = synth.background(640, 480, 3)
    marked, truth, _ = synth.add_text(clean, random.Random(3), text="SAMPLE PHOTO", px=48,
                                      angle=0.0, alpha=0.55, colour=(255, 255, 255))  # fmt: skip
    with _start(tmp_path, free_port()) as server:
        task = _post(server, SUBMIT, {"image_base64": _b64(marked)})["data"]["task_id"]  # type: ignore[index]
        data = _wait(server, str(task))
        assert data["status"] == "success", data
        image = requests.get(data["images"][0]["url"], timeout=30)  # type: ignore[index]
    out = np.asarray(Image.open(io.BytesIO(image.content)).convert("RGB")).astype(int)
    inside = truth > 0
    before = np.abs(marked[inside].astype(int) - clean[inside]).mean()
    after = np.abs(out[inside] - clean[inside]).mean()
    assert after < before / 2, (before, after)
    far = cv2.dilate(truth, np.ones((41, 41), np.uint8)) == 0
    assert np.array_equal(out[far], marked[far])  # nothing changed away from the watermark
