"""The two-service layout as real processes: `make run-snapshot`'s server and `make run`'s Blur
server with SDK_URL pointing at it, over 127.0.0.1; plates must match the embedded mode."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests

from bench.procutil import Server, free_port, running_server
from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk.core.find.engine import Engine
from blur_sdk.settings import Settings, load_settings
from tests.clients import blur_client, ok, output_rgb, post, post_over_http, process_env

pytestmark = [pytest.mark.process, pytest.mark.models]


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, models_installed: Settings
) -> Iterator[tuple[Server, Server]]:
    """Snapshot (python -m snapshot_stub) and Blur (python -m blur_sdk serve, SDK mode)."""
    base = tmp_path_factory.mktemp("sdk-mode")
    snap_port, blur_port = free_port(), free_port()
    snap_cmd = [sys.executable, "-m", "snapshot_stub", "--port", str(snap_port)]
    blur_cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(blur_port)]
    blur_env = process_env(base, SDK_URL=f"http://127.0.0.1:{snap_port}", WORKERS="1", THREADS="2")
    with (
        running_server(snap_cmd, snap_port, process_env(base), timeout=180.0) as snapshot,
        running_server(blur_cmd, blur_port, blur_env, timeout=180.0) as blur,
    ):
        yield snapshot, blur


def _post(url: str, image: bytes) -> dict[str, Any]:
    response = post_over_http(url + "/", image, "car.png", timeout=120, faces="10", plates="10")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sdk_mode_matches_embedded(servers: tuple[Server, Server], real_engine: Engine) -> None:
    _snapshot, blur = servers
    image = encode(scene_with_plate(), "PNG")
    remote = _post(blur.url, image)
    settings = load_settings(env={"CONFIG_DIR": "/nonexistent"})
    local = ok(post(blur_client(settings, real_engine), image, faces="10", plates="10"))
    assert [p["result"]["plate"] for p in remote["plates"]] == ["ka482mx"]
    assert [p["result"]["plate"] for p in local["plates"]] == ["ka482mx"]
    remote_quad, local_quad = (np.array(r["plates"][0]["polygon"]) for r in (remote, local))
    assert np.abs(remote_quad - local_quad).max() < 3  # JPEG hop to Snapshot: ~same quad
    assert np.linalg.norm(remote_quad.mean(axis=0) - PLATE_QUAD.mean(axis=0)) < 15
    assert len(remote["faces"]) == len(local["faces"]) == 1
    blurred = output_rgb(remote)
    original = scene_with_plate()
    x0, y0, x1, y1 = (round(v) for v in (330, 405, 450, 428))  # inside the plate
    assert np.abs(blurred[y0:y1, x0:x1].astype(int) - original[y0:y1, x0:x1]).mean() > 10
    assert np.array_equal(blurred[:40, :40], original[:40, :40])  # far from both: unchanged


def test_info_reports_the_snapshot_service(servers: tuple[Server, Server]) -> None:
    _snapshot, blur = servers
    info = requests.get(blur.url + "/info/", timeout=30).json()
    assert info["mode"] == "sdk"
    assert info["snapshot"]["version"] is not None
    assert "total_calls" in info["snapshot"]
