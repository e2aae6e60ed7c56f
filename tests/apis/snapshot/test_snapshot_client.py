"""SnapshotClient against recorded answers in Plate Recognizer's documented Snapshot format."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections.abc import Iterator
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import numpy as np
import pytest
import requests
import responses
from PIL import Image

from bench.synthetic import astronaut, paste_plate, rotated_quad
from blur_sdk.apis.snapshot.client import SnapshotClient, snapshot_config
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.errors import ConfigError, UpstreamError, UpstreamTimeoutError
from blur_sdk.settings import Settings

SDK_URL = "http://snapshot.test:8080"
READER = f"{SDK_URL}/v1/plate-reader/"
CLOUD = "https://api.platerecognizer.com"


QUAD = rotated_quad((300.0, 380.0), 200, 44, 12)  # a 200x44 plate, turned 12 degrees
SCENE = paste_plate(astronaut(), QUAD)
_EDGES = (*QUAD.min(axis=0), *QUAD.max(axis=0))
BOX = {k: round(v) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), _EDGES, strict=True)}

# Snapshot's documented answer (HTTP 201), box-only results as Plate Recognizer sends them.
RECORDED: dict[str, Any] = {
    "processing_time": 288.758,
    "results": [
        {
            "box": BOX,
            "plate": "ka482mx",
            "region": {"code": "gb", "score": 0.747},
            "score": 0.904,
            "candidates": [
                {"score": 0.904, "plate": "ka482mx"},
                {"score": 0.751, "plate": "ka48zmx"},
            ],
            "dscore": 0.899,
            "vehicle": {
                "score": 0.857,
                "type": "Sedan",
                "box": {"xmin": 5, "ymin": 6, "xmax": 7, "ymax": 8},
            },
        }
    ],
    "filename": "1617_7M83K_car.jpg",
    "version": 1,
    "camera_id": None,
    "timestamp": "2020-10-12T16:17:27.574008Z",
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def client_for(settings: Settings, url: str = SDK_URL, **changes: Any) -> SnapshotClient:
    return SnapshotClient(
        dataclasses.replace(settings, sdk_url=url, **changes), sleep=lambda s: None
    )


def multipart(request: Any) -> dict[str, list[Message]]:
    """The parts of a recorded multipart request, by field name."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    parts: dict[str, list[Message]] = {}
    for part in message.iter_parts():
        parts.setdefault(str(part.get_param("name", header="content-disposition")), []).append(part)
    return parts


def text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_box_only_results_are_deskewed(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, json=RECORDED, status=201)
    (plate,) = client_for(settings).detect(SCENE, PlateOptions())
    polygon = np.array(plate.polygon)
    corners = np.array([[BOX["xmin"], BOX["ymin"]], [BOX["xmax"], BOX["ymin"]],
                        [BOX["xmax"], BOX["ymax"]], [BOX["xmin"], BOX["ymax"]]])  # fmt: skip
    assert np.abs(corners - QUAD).max() > 15  # the box alone would be far off
    assert np.abs(polygon - QUAD).max() < 8  # the deskewed polygon follows the plate
    assert plate.box == tuple(float(v) for v in BOX.values())
    assert (plate.text, plate.oscore, plate.dscore) == ("ka482mx", 0.904, 0.899)
    assert plate.candidates == (("ka482mx", 0.904), ("ka48zmx", 0.751))
    assert plate.raw is not None and plate.raw["vehicle"]["type"] == "Sedan"
    assert plate.source == "snapshot"


def test_polygon_results_are_kept(settings: Settings, rsps: responses.RequestsMock) -> None:
    polygon = [[10.0, 20.0], [110.0, 22.0], [109.0, 52.0], [9.0, 50.0]]
    result = {**RECORDED["results"][0], "polygon": polygon}
    rsps.post(READER, json={**RECORDED, "results": [result]}, status=201)
    (plate,) = client_for(settings).detect(SCENE, PlateOptions())
    assert [list(p) for p in plate.polygon] == polygon


def test_no_results(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, json={**RECORDED, "results": []}, status=201)
    assert client_for(settings).detect(SCENE, PlateOptions()) == []


def test_request_fields(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, json=RECORDED, status=201)
    options = PlateOptions(
        mode="fast", threshold_d=0.3, regions=("gb", "fr"),
        forward={"camera_id": "gate-1", "filename": "car.jpg",
                 "config": {"region": "strict", "mode": "fast"}},
    )  # fmt: skip
    client_for(settings, token="secret-token").detect(SCENE, options)
    (call,) = rsps.calls
    assert call.request.headers["Authorization"] == "Token secret-token"
    parts = multipart(call.request)
    assert [text(p) for p in parts["regions"]] == ["gb", "fr"]
    assert text(parts["camera_id"][0]) == "gate-1"
    config = json.loads(text(parts["config"][0]))
    assert config == {"region": "strict", "mode": "fast", "threshold_d": 0.3}
    (upload,) = parts["upload"]
    assert upload.get_filename() == "car.jpg"
    payload = upload.get_payload(decode=True)
    assert isinstance(payload, bytes)
    sent = Image.open(io.BytesIO(payload))
    assert sent.format == "JPEG" and sent.size == (512, 512)


def test_sends_the_upload_itself(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, json=RECORDED, status=201)
    png = b"\x89PNG\r\n\x1a\n-the-uploaded-file"
    client_for(settings).detect(SCENE, PlateOptions(source=png))
    (upload,) = multipart(rsps.calls[0].request)["upload"]
    assert upload.get_payload(decode=True) == png
    assert upload.get_content_type() == "image/png"


def test_no_token_no_header(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, json=RECORDED, status=201)
    client_for(settings).detect(SCENE, PlateOptions())
    (call,) = rsps.calls
    assert "Authorization" not in call.request.headers
    assert set(multipart(call.request)) == {"upload", "config"}


def test_cloud_url(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(f"{CLOUD}/v1/plate-reader/", json=RECORDED, status=201)
    client = client_for(settings, url=CLOUD, token="t0k")
    assert len(client.detect(SCENE, PlateOptions())) == 1
    assert rsps.calls[0].request.headers["Authorization"] == "Token t0k"


def test_snapshot_config_defaults() -> None:
    assert snapshot_config(PlateOptions()) == {"mode": "redaction"}
    options = PlateOptions(text_formats=("@@##",), threshold_o=0.5, forward={"config": {"x": 1}})
    assert snapshot_config(options) == {
        "x": 1, "mode": "redaction", "threshold_o": 0.5, "text_formats": ["@@##"],
    }  # fmt: skip


# -- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"detail": "engine crashed"}, "engine crashed"),
        (403, {"detail": "Authentication credentials were not provided."}, "credentials"),
        (413, {"error": "file too large"}, "file too large"),
        (400, {"upload": ["This field is required."]}, "This field is required."),
        (503, "Service Unavailable", "Service Unavailable"),
    ],
)
def test_http_errors_are_upstream_errors(
    settings: Settings, rsps: responses.RequestsMock, status: int, body: Any, message: str
) -> None:
    if isinstance(body, str):
        rsps.post(READER, body=body, status=status)
    else:
        rsps.post(READER, json=body, status=status)
    with pytest.raises(UpstreamError) as info:
        client_for(settings).detect(SCENE, PlateOptions())
    assert not isinstance(info.value, UpstreamTimeoutError)
    assert message in str(info.value) and f"HTTP {status}" in str(info.value)


@pytest.mark.parametrize("error", [requests.ReadTimeout("slow"), requests.ConnectTimeout("x")])
def test_timeout(settings: Settings, rsps: responses.RequestsMock, error: Exception) -> None:
    rsps.post(READER, body=error)
    with pytest.raises(UpstreamTimeoutError, match="did not answer within 30 s"):
        client_for(settings).detect(SCENE, PlateOptions())


def test_connection_refused(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(READER, body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamError, match="unreachable"):
        client_for(settings).detect(SCENE, PlateOptions())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'{"results": 5}', "'results' list"),
        (b"[1, 2]", "not an object"),
        (b'{"results": [{"plate": "abc"}]}', "malformed result #0"),
        (b'{"results": [{"box": {"xmin": "a", "ymin": 0, "xmax": 1, "ymax": 1}}]}', "malformed"),
        (b'{"results": [{"box": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1}, '
         b'"polygon": [[1, 2]]}]}', "malformed"),
        (b'{"results": ["x"]}', "malformed"),
    ],
)  # fmt: skip
def test_garbage_is_upstream_error(
    settings: Settings, rsps: responses.RequestsMock, body: bytes, message: str
) -> None:
    rsps.post(READER, body=body, status=201, content_type="application/json")
    with pytest.raises(UpstreamError, match=message):
        client_for(settings).detect(SCENE, PlateOptions())


def test_throttled_once_is_retried(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.post(
        READER, json={"detail": "Request was throttled."}, status=429, headers={"Retry-After": "1"}
    )
    rsps.post(READER, json=RECORDED, status=201)
    waits: list[float] = []
    client = SnapshotClient(dataclasses.replace(settings, sdk_url=SDK_URL), sleep=waits.append)
    assert len(client.detect(SCENE, PlateOptions())) == 1
    assert waits == [1.0] and len(rsps.calls) == 2


def test_throttled_twice_fails(settings: Settings, rsps: responses.RequestsMock) -> None:
    throttled = {"detail": "Request was throttled."}
    rsps.post(READER, json=throttled, status=429)
    rsps.post(READER, json=throttled, status=429)
    with pytest.raises(UpstreamError, match="HTTP 429: Request was throttled"):
        client_for(settings).detect(SCENE, PlateOptions())


# -- info, sessions, configuration -----------------------------------------------------------


def test_info(settings: Settings, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{SDK_URL}/info/", json={"version": "1.2", "webhooks": []})
    assert client_for(settings).info() == {"version": "1.2", "webhooks": []}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"status": 404, "json": {"detail": "Not found."}}, "HTTP 404"),
     ({"status": 200, "body": "ok"}, "not JSON"),
     ({"status": 200, "json": [1]}, "not an object")],
)  # fmt: skip
def test_info_failures(
    settings: Settings, rsps: responses.RequestsMock, kwargs: dict[str, Any], message: str
) -> None:
    rsps.get(f"{SDK_URL}/info/", **kwargs)
    with pytest.raises(UpstreamError, match=message):
        client_for(settings).info()


def test_one_session_per_thread(settings: Settings) -> None:
    made: list[requests.Session] = []

    def factory() -> requests.Session:
        made.append(requests.Session())
        return made[-1]

    client = SnapshotClient(dataclasses.replace(settings, sdk_url=SDK_URL), session_factory=factory)
    seen: list[requests.Session] = []
    assert client._session() is client._session()
    thread = threading.Thread(target=lambda: seen.append(client._session()))
    thread.start()
    thread.join()
    assert len(made) == 2 and seen[0] is made[1]


def test_needs_sdk_url(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SDK_URL"):
        SnapshotClient(settings)
