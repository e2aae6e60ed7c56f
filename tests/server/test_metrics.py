"""GET /metrics through the test client: counters move by the requests made, auth as for /info/."""

from __future__ import annotations

import dataclasses
import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from blur_sdk import PROJECT_ROOT
from blur_sdk.core.models import runner
from blur_sdk.server.app import create_app
from blur_sdk.server.metrics import note_found, note_regions
from blur_sdk.settings import Settings
from tests.clients import post
from tests.fakes import FakeEngine

GUNICORN_CONF = PROJECT_ROOT / "config" / "gunicorn.conf.py"


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def scrape(client: FlaskClient, **headers: str) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_requests_stages_and_latency_are_counted(settings: Settings) -> None:
    client = create_app(settings, FakeEngine(), apis=("blur", "snapshot")).test_client()
    assert total(scrape(client), "blur_sdk_requests_total", api="blur") == 0
    for _ in range(3):
        assert post(client, faces="5", plates="5").status_code == 200
    assert post(client, faces="nope").status_code == 400
    assert post(client, path="/v1/plate-reader/").status_code == 201
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/info/").status_code == 200
    text = scrape(client)
    requests = "blur_sdk_requests_total"
    ok = {"api": "blur", "method": "POST", "route": "/", "status": "200"}
    assert total(text, requests, **ok) == 3
    assert total(text, requests, **{**ok, "status": "400"}) == 1
    assert total(text, requests, api="snapshot", route="/v1/plate-reader/", status="201") == 1
    assert total(text, requests, api="none", route="none", status="404") == 1  # no raw paths
    assert total(text, requests, api="server", route="/info/", status="200") == 1
    assert total(text, requests, route="/metrics") == 1  # the first scrape; not this one
    for stage in ("decode", "faces", "plates", "render", "encode"):
        assert total(text, "blur_sdk_stage_seconds_count", api="blur", stage=stage) == 3, stage
    assert total(text, "blur_sdk_stage_seconds_count", stage="total") == 0  # not a stage
    assert total(text, "blur_sdk_stage_seconds_count", api="snapshot") > 0
    assert total(text, "blur_sdk_request_seconds_count", api="blur", route="/") == 4
    assert total(text, "blur_sdk_request_seconds_bucket", api="blur", le="+Inf") == 4
    assert total(text, "blur_sdk_request_seconds_sum", api="blur") > 0
    assert total(text, "blur_sdk_info") == 1
    assert total(text, "blur_sdk_licence_state", state="community") == 1
    assert total(text, "blur_sdk_licence_state", state="refused") == 0
    assert "blur_sdk_queue_pending" not in text  # no API with tasks: no queue


def test_metrics_are_guarded_like_info(settings: Settings) -> None:
    keyed = dataclasses.replace(settings, api_keys=("k1",), info_requires_auth=True)
    client = create_app(keyed, FakeEngine(), apis=("blur",)).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Token bad"}).status_code == 403
    text = scrape(client, Authorization="Token k1")
    assert total(text, "blur_sdk_requests_total", route="/metrics", status="401") == 1
    opened = dataclasses.replace(keyed, info_requires_auth=False)
    client = create_app(opened, FakeEngine(), apis=("blur",)).test_client()
    assert client.get("/info/").status_code == 200 and client.get("/metrics").status_code == 200


def test_queue_depth_and_task_states(settings: Settings) -> None:
    app = create_app(settings, FakeEngine(), apis=("kaze",), consume=False)
    client = app.test_client()
    text = scrape(client)
    assert total(text, "blur_sdk_queue_up") == 1 and total(text, "blur_sdk_queue_pending") == 0
    tasks = app.extensions["blur_sdk.tasks"]
    for _ in range(2):
        tasks.submit("kaze.watermark_removal", {"image": b"x"}, {})
    text = scrape(client)
    assert total(text, "blur_sdk_queue_pending") == 2
    assert total(text, "blur_sdk_tasks_open", status="queued") == 2
    assert total(text, "blur_sdk_tasks_open", status="processing") == 0
    tasks.close()


def test_found_objects_and_compiles(settings: Settings) -> None:
    app = create_app(settings, FakeEngine(), apis=("blur",))
    client = app.test_client()
    compiles = total(scrape(client), "blur_sdk_model_compiles_total", model="centerface")
    runner._compiled_hooks("centerface", (1, 3, 480, 640), 0.4)  # as OpenVinoRunner does
    with app.test_request_context("/", method="POST"):
        note_regions([SimpleNamespace(kind="face")] * 2 + [SimpleNamespace(kind="plate")])
        note_found("plate", 0)
    with app.app_context():
        note_found("face", 5, api="kaze")
    text = scrape(client)
    assert total(text, "blur_sdk_model_compiles_total", model="centerface") == compiles + 1
    assert total(text, "blur_sdk_model_compile_seconds_count", model="centerface") >= 1
    assert total(text, "blur_sdk_objects_found_total", api="blur", kind="face") == 2
    assert total(text, "blur_sdk_objects_found_total", api="blur", kind="plate") == 1
    assert total(text, "blur_sdk_objects_found_total", api="kaze", kind="face") == 5
    note_found("face")  # outside any app: nowhere to count (in-process mode), no error


def test_gunicorn_prepares_the_metrics_folder(tmp_path: Path) -> None:
    conf: dict[str, Any] = runpy.run_path(str(GUNICORN_CONF))
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(given)}
    assert conf["metrics_dir"](env) == str(given) and not any(given.iterdir())  # emptied
    (given / "counter_456.db").write_bytes(b"live")
    conf["metrics_dir"](env)  # a reload (HUP) in the same master: kept
    assert (given / "counter_456.db").exists()
    made = conf["metrics_dir"]({})
    assert Path(made).is_dir() and Path(made).name.startswith("blur-sdk-metrics-")
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # runpy: no side effect on this process
    os.environ.update(PROMETHEUS_MULTIPROC_DIR=made, BLUR_SDK_METRICS_MADE=made)
    try:
        conf["on_exit"](None)
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"], os.environ["BLUR_SDK_METRICS_MADE"]
    assert not Path(made).exists()
