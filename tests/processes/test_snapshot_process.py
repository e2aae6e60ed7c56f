"""`python -m snapshot_stub` as a real process on 127.0.0.1, read through HTTP with requests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from bench.procutil import Server, free_port, running_server
from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk.settings import Settings
from tests.clients import post_over_http, process_env

pytestmark = [pytest.mark.process, pytest.mark.models]


@pytest.fixture(scope="module")
def snapshot_server(
    tmp_path_factory: pytest.TempPathFactory, models_installed: Settings
) -> Iterator[Server]:
    """The dev server started once for this module, with an empty config and licence folder."""
    base: Path = tmp_path_factory.mktemp("snapshot-process")
    port = free_port()
    env = process_env(base, PORT="1")  # the --port argument must win over the environment
    cmd = [sys.executable, "-m", "snapshot_stub", "--port", str(port)]
    with running_server(cmd, port, env, timeout=180.0) as server:
        yield server


def test_reads_the_plate_over_http(snapshot_server: Server) -> None:
    image = encode(scene_with_plate(), "JPEG", quality=92)
    url = snapshot_server.url + "/v1/plate-reader/"
    response = post_over_http(url, image, regions="fr", camera_id="gate-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "car.jpg"
    assert body["camera_id"] == "gate-1"
    [result] = body["results"]
    assert result["plate"] == "ka482mx"
    assert result["region"]["code"] == "fr"
    centre = np.array(result["polygon"]).mean(axis=0)
    assert np.linalg.norm(centre - PLATE_QUAD.mean(axis=0)) < 15


def test_info_and_errors_over_http(snapshot_server: Server) -> None:
    before = requests.get(snapshot_server.url + "/info/", timeout=10).json()
    bad = requests.post(
        snapshot_server.url + "/v1/plate-reader",
        data={"upload": "not base64 at all!"},
        timeout=10,
    )
    assert bad.status_code == 400
    assert "upload" in bad.json()["error"]
    url = snapshot_server.url + "/v1/plate-reader"
    ok = post_over_http(url, encode(scene_with_plate(), "PNG"), "car.png")
    assert ok.status_code == 201, ok.text
    after = requests.get(snapshot_server.url + "/info", timeout=10).json()
    assert after["total_calls"] == before["total_calls"] + 1
    assert after["licence"]["mode"] == "community"


def test_stops_on_terminate(tmp_path: Path, models_installed: Settings) -> None:
    port = free_port()
    env = {"CONFIG_DIR": str(tmp_path / "c"), "LICENSE_DIR": str(tmp_path / "l"), "PORT": str(port)}
    with running_server([sys.executable, "-m", "snapshot_stub"], port, env) as server:
        assert requests.get(server.url + "/info/", timeout=10).status_code == 200
    assert server.process.poll() is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/info/", timeout=2)
