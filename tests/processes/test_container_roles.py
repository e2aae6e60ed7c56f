"""The containers' start-up commands as real processes: `sh docker/entrypoint.sh ROLE` (gunicorn
with config/gunicorn.conf.py) for both roles on 127.0.0.1, SDK mode against embedded, health
checks, the JSON access log, graceful SIGTERM, and oversize bodies. Docker is not needed."""

from __future__ import annotations

import dataclasses
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from bench.procutil import Server, free_port, start_server
from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk import PROJECT_ROOT
from blur_sdk.settings import Settings
from tests.clients import output_image, post_over_http, process_env

pytestmark = [pytest.mark.process, pytest.mark.models]

ENTRYPOINT = PROJECT_ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = PROJECT_ROOT / "docker" / "healthcheck.py"
GRACEFUL_TIMEOUT = 30  # config/gunicorn.conf.py's default (tests/test_deploy.py checks it)
SCENE_JPEG = encode(scene_with_plate(), "JPEG", quality=92)


@dataclasses.dataclass
class Stack:
    """The snapshot role, Blur reading plates through it, and an embedded Blur."""

    snapshot: Server
    blur: Server
    embedded: Server


def start_role(role: str, base: Path, **env: str) -> Server:
    """`sh docker/entrypoint.sh ROLE`: what the container runs, bound to a free local port."""
    port = free_port()
    role_env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "BIND": f"127.0.0.1:{port}",
        "LICENSE_DIR": str(base / f"license-{role}-{port}"),
        "SDK_URL": "",
        "WORKERS": "1",
        "LOG_LEVEL": "info",
    }
    environment = process_env(base, **{**role_env, **env})
    return start_server(["sh", str(ENTRYPOINT), role], port, environment, timeout=120.0)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, models_installed: Settings) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("deploy")
    started: list[Server] = []
    try:
        started.append(start_role("snapshot", base))
        started.append(start_role("blur", base, SDK_URL=started[0].url))
        started.append(start_role("blur", base))
        yield Stack(*started)
        # Both roles stop gracefully on SIGTERM (docker stop): exit 0, well within the timeout.
        stopped = [stop_gracefully(server) for server in reversed(started)]
        assert [code for code, _, _ in stopped] == [0, 0, 0], [out for _, _, out in stopped]
        assert max(seconds for _, seconds, _ in stopped) < GRACEFUL_TIMEOUT
    finally:
        for server in started:
            server.stop()


def stop_gracefully(server: Server) -> tuple[int, float, str]:
    """SIGTERM, then (exit status, seconds until the exit, the process's output)."""
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
    return code, time.monotonic() - signalled, server.output()


def blur_scene(server: Server, **fields: str) -> dict[str, Any]:
    response = post_over_http(server.url + "/", SCENE_JPEG, faces="10", plates="10", **fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sdk_mode_blurs_and_reads_like_embedded(stack: Stack) -> None:
    sdk, embedded = blur_scene(stack.blur), blur_scene(stack.embedded)
    assert [p["result"]["plate"] for p in sdk["plates"]] == ["ka482mx"]
    assert [p["result"]["plate"] for p in embedded["plates"]] == ["ka482mx"]
    for body in (sdk, embedded):
        assert len(body["faces"]) == 1 and body["blur"]["content_type"] == "image/jpeg"
        out = np.asarray(output_image(body))
        assert out.shape == (512, 512, 3)
    sdk_quad, embedded_quad = (np.array(b["plates"][0]["polygon"]) for b in (sdk, embedded))
    assert np.abs(sdk_quad - embedded_quad).max() < 4
    assert np.abs(embedded_quad - PLATE_QUAD).max() < 15


def test_info_health_and_json_access_log(stack: Stack) -> None:
    info = requests.get(stack.blur.url + "/info/", timeout=30).json()
    assert info["mode"] == "sdk" and info["snapshot"]["licence"]["mode"] == "community"
    assert requests.get(stack.embedded.url + "/info/", timeout=10).json()["mode"] == "embedded"
    assert requests.get(stack.snapshot.url + "/info/", timeout=10).status_code == 200
    for server in (stack.snapshot, stack.blur):
        port = server.url.rsplit(":", 1)[1]
        probe = [sys.executable, str(HEALTHCHECK), port]
        assert subprocess.run(probe, capture_output=True, check=False).returncode == 0
    blur_scene(stack.blur)
    lines = [
        json.loads(line) for line in stack.blur.output(100_000).splitlines() if line[:1] == "{"
    ]
    posts = [entry for entry in lines if entry["method"] == "POST"]
    assert posts and posts[-1]["status"] == 200 and posts[-1]["bytes_out"] > 0
    assert {"decode_ms", "faces_ms", "plates_ms", "total_ms"} <= set(posts[-1]["timings"])
    snapshot_log = stack.snapshot.output(100_000)
    assert '"path": "/v1/plate-reader/", "status": 201' in snapshot_log


def test_the_blur_role_runs_with_glibc_huge_pages(stack: Stack) -> None:
    """The entrypoint's GLIBC_TUNABLES reach gunicorn (exec'd: the same pid) and its worker."""
    environ = Path(f"/proc/{stack.embedded.process.pid}/environ").read_bytes().split(b"\0")
    assert b"GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in environ


def test_sigterm_lets_the_request_in_flight_finish(
    tmp_path: Path, models_installed: Settings
) -> None:
    server = start_role("blur", tmp_path, WARM_UP="")  # the request itself compiles: slow
    finished: list[tuple[int, float]] = []

    def in_flight() -> None:  # a fresh worker compiles its models first: seconds
        response = post_over_http(server.url + "/", SCENE_JPEG, faces="10", plates="10")
        finished.append((response.status_code, time.monotonic()))

    client = threading.Thread(target=in_flight)
    try:
        client.start()
        deadline = time.monotonic() + 20
        while "compiling" not in server.output():  # the worker is processing the request
            assert time.monotonic() < deadline, "the request never reached the models"
            time.sleep(0.05)
        signalled = time.monotonic()
        code, seconds, output = stop_gracefully(server)
        client.join(timeout=GRACEFUL_TIMEOUT)
    finally:
        server.stop()
    assert code == 0 and seconds < GRACEFUL_TIMEOUT, output
    [(status, done)] = finished
    assert status == 200 and done > signalled, "the request was not in flight at SIGTERM"
    assert "Handling signal: term" in output and "Shutting down: Master" in output


def test_oversize_request_closes_the_connection(stack: Stack) -> None:
    """413 without reading the body: gunicorn must close, not keep a half-read connection."""
    host, port = stack.embedded.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        conn.send(b"--x\r\n")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert "MAX_UPLOAD_BYTES" in body["error"]
    assert response.getheader("Connection", "").lower() == "close"


def test_the_worker_role_consumes_tasks_the_blur_role_queues(tmp_path: Path) -> None:
    """Scale-out as compose documents it: the web role with TASK_WORKERS=0 only queues, a
    separate `entrypoint.sh worker` process sharing TASKS_DIR does the work."""
    import base64

    from tests.apis.kaze.helpers import clean_image, marked_image, smear_of, watermark_mask

    path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
    env = process_env(tmp_path, APIS="kaze", TASK_WORKERS="0", WARM_UP="", PATH=path)
    clean = clean_image()
    mask = watermark_mask(clean.shape[:2])
    body = {"image_base64": base64.b64encode(encode(marked_image(clean, mask), "PNG")).decode(),
            "smear_base64": base64.b64encode(encode(smear_of(mask), "PNG")).decode()}  # fmt: skip
    web = start_role("blur", tmp_path, **env)
    worker = subprocess.Popen(["sh", str(ENTRYPOINT), "worker"], env={**env, "TASK_WORKERS": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        task = requests.post(web.url + "/api/ext/v1/submit_watermark_removal", json=body,
                             timeout=60).json()["data"]["task_id"]  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            data = requests.post(web.url + "/api/ext/v1/get_task_result", json={"task_id": task},
                                 timeout=30).json()["data"]  # fmt: skip
            if data["status"] != "processing":
                break
            time.sleep(0.2)
        assert data["status"] == "success", data
        assert requests.get(data["images"][0]["url"], timeout=30).status_code == 200
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(40) == 0  # graceful: huey's consumer stops on SIGTERM
    finally:
        if worker.poll() is None:
            worker.kill()
        web.stop()
