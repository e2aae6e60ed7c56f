"""GET /metrics of a real server process with 2 gunicorn workers: every worker's counts add up."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from bench.procutil import Server, free_port, running_server
from bench.synthetic import FIXTURES
from blur_sdk.settings import Settings
from tests.clients import post_over_http, process_env
from tests.server.test_metrics import total

pytestmark = [pytest.mark.process, pytest.mark.models]

BLUR_OK = {"api": "blur", "method": "POST", "route": "/", "status": "200"}


def per_worker(folder: Path, metric: str, **labels: str) -> dict[str, float]:
    """The counter `metric`, its samples with these labels summed, in each worker's file (by
    pid)."""
    counts: Counter[str] = Counter()
    for path in folder.glob("counter_*.db"):
        read = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
        for key, value, _, _ in read:
            name, _, their_labels, _ = json.loads(key)
            if name == metric and labels.items() <= their_labels.items():
                counts[path.stem.removeprefix("counter_")] += value
    return dict(counts)


def wait_for_workers(server: Server, n: int, timeout: float = 240.0) -> None:
    """Until n workers have logged that their app (models, warm-up compiles) is loaded."""
    deadline = time.monotonic() + timeout
    while server.output(tail=100_000).count("ready: app loaded") < n:
        assert server.process.poll() is None, server.output()
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.5)


def scrape(server: Server) -> str:
    response = requests.get(server.url + "/metrics", timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_metrics_add_up_across_two_workers(tmp_path: Path, models_installed: Settings) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # a previous run's file: emptied at start
    stale = MmapedDict(str(folder / "counter_1.db"))  # type: ignore[no-untyped-call]
    key = mmap_key(
        "blur_sdk_requests", "blur_sdk_requests_total", list(BLUR_OK), [*BLUR_OK.values()], ""
    )
    stale.write_value(key, 99.0, 0.0)  # type: ignore[no-untyped-call]
    stale.close()  # type: ignore[no-untyped-call]
    env = process_env(
        tmp_path, APIS="blur", WORKERS="2", THREADS="2", WARM_UP="640x480",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )  # fmt: skip
    port = free_port()
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    with running_server(cmd, port, env, timeout=240.0) as server:
        wait_for_workers(server, 2)
        text = scrape(server)
        compiles = per_worker(folder, "blur_sdk_model_compiles")
        assert len(compiles) == 2, compiles  # both workers compiled their models at warm-up
        assert len(set(compiles.values())) == 1 and min(compiles.values()) > 0, compiles
        assert total(text, "blur_sdk_model_compiles_total") == sum(compiles.values())
        assert total(text, "blur_sdk_requests_total", **BLUR_OK) == 0  # the stale file is gone

        photo = (FIXTURES / "astronaut.jpg").read_bytes()
        for _ in range(4):  # a new connection each: either worker may answer
            answer = post_over_http(server.url + "/", photo, "astronaut.jpg", 120, faces="5")
            assert answer.status_code == 200, answer.text[:300]
        refused = post_over_http(server.url + "/", photo, "astronaut.jpg", faces="nope")
        assert refused.status_code == 400
        assert requests.get(server.url + "/no/such/page", timeout=30).status_code == 404
        text = scrape(server)

        requests_total = "blur_sdk_requests_total"
        assert total(text, requests_total, **BLUR_OK) == 4
        assert total(text, requests_total, **{**BLUR_OK, "status": "400"}) == 1
        assert total(text, requests_total, api="none", route="none", status="404") == 1
        assert total(text, requests_total, route="/metrics", status="200") == 1  # the first
        served = per_worker(folder, "blur_sdk_requests", api="blur")
        assert sum(served.values()) == total(text, requests_total, api="blur") == 5, served
        for stage in ("decode", "faces", "plates", "render", "encode"):
            assert total(text, "blur_sdk_stage_seconds_count", api="blur", stage=stage) == 4
        assert total(text, "blur_sdk_request_seconds_count", api="blur", route="/") == 5
        assert total(text, "blur_sdk_licence_state", state="community") == 1
    assert server.process.returncode is not None
