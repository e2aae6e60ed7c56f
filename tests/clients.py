"""The Blur and Snapshot apps over fake engines, their test clients, and request and answer helpers
(multipart posts, 2xx bodies, refusals, blurred images), also for servers run as processes."""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import requests
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

import blur_sdk.apis.blur as blur_app
from bench.synthetic import encode, noise
from blur_sdk.core.find.engine import Engine
from blur_sdk.settings import Settings
from snapshot_stub import app as snapshot_app
from tests.fakes import FakeEngine

SERVICES = ("blur", "snapshot")
PATHS = {"blur": "/", "snapshot": "/v1/plate-reader/"}
OK = {"blur": 200, "snapshot": 201}  # the status of a successful answer


def app_of(service: str, settings: Settings, engine: Engine | None = None) -> Flask:
    """The Blur or the Snapshot app, over a FakeEngine unless an engine is given."""
    if service == "blur":
        return blur_app.create_app(settings, engine or FakeEngine())
    return snapshot_app.create_app(settings, engine or FakeEngine(faces=None))


def client_of(
    service: str, settings: Settings, engine: Engine | None = None, **changes: Any
) -> FlaskClient:
    """A test client of the app, with settings changed as given."""
    return app_of(service, dataclasses.replace(settings, **changes), engine).test_client()


def blur_client(settings: Settings, engine: Engine | None = None, **changes: Any) -> FlaskClient:
    """A test client of the Blur app, with settings changed as given."""
    return client_of("blur", settings, engine, **changes)


@functools.cache
def noise_png() -> bytes:
    """The default upload: 512x512 noise (seed 7) as PNG."""
    return encode(noise(), "PNG")


def post(
    client: FlaskClient,
    image: bytes | None = None,
    filename: str = "car.png",
    path: str = "/",
    **fields: Any,
) -> TestResponse:
    """A multipart POST: image as `upload` (None: noise_png(); b"": no upload), and the fields,
    in which (bytes, filename) tuples are files too."""
    data = {
        key: (io.BytesIO(value[0]), value[1])
        if isinstance(value, tuple) and isinstance(value[0], bytes)
        else value
        for key, value in fields.items()
    }
    if image is None:
        image = noise_png()
    if image:
        data["upload"] = (io.BytesIO(image), filename)
    return client.post(path, data=data, content_type="multipart/form-data")


def ok(response: TestResponse, status: int = 200) -> dict[str, Any]:
    """The JSON body of a successful answer (200 unless told)."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    return body


def error_of(response: TestResponse, status: int | None = 400) -> str:
    """The message of a refusal: its status (None: any 4xx), JSON {"error": str}, no trace."""
    text = response.get_data(as_text=True)
    if status is None:
        assert 400 <= response.status_code < 500, (response.status_code, text[:300])
    else:
        assert response.status_code == status, text[:300]
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, text[:300]
    assert isinstance(body["error"], str) and body["error"], text[:300]
    return str(body["error"])


def output_image(body: dict[str, Any]) -> Image.Image:
    """The blurred image of a Blur answer, decoded."""
    assert body["blur"] is not None
    return Image.open(io.BytesIO(base64.b64decode(body["blur"]["base64"])))


def output_rgb(body: dict[str, Any]) -> np.ndarray:
    """The blurred image of a Blur answer as an RGB array."""
    return np.asarray(output_image(body).convert("RGB"))


def region_changed(before: np.ndarray, after: np.ndarray, box: tuple[int, ...]) -> float:
    """Fraction of pixels in box (x0, y0, x1, y1) that differ."""
    x0, y0, x1, y1 = box
    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int))
    return float((diff.max(axis=2) > 0).mean())


# -- servers run as processes ----------------------------------------------------------------


def process_env(base: Path, **extra: str) -> dict[str, str]:
    """Environment for a server process: no config files, its own licence folder, no keys."""
    return {
        "CONFIG_DIR": str(base / "no-config"),
        "LICENSE_DIR": str(base / "license"),
        "TASKS_DIR": str(base / "tasks"),
        "LICENSE_KEY": "",
        "TOKEN": "",
        "API_KEYS": "",
        **extra,
    }


def post_over_http(
    url: str, image: bytes, filename: str = "car.jpg", timeout: float = 60, **fields: str
) -> requests.Response:
    """A multipart POST of image (as `upload`, PNG or JPEG by its name) and fields to url."""
    kind = "image/png" if filename.endswith(".png") else "image/jpeg"
    files = {"upload": (filename, image, kind)}
    return requests.post(url, files=files, data=fields, timeout=timeout)


class _BodiesHandler(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = self.bodies.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        kind = "image/jpeg" if body.startswith(b"\xff\xd8") else "image/png"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving(bodies: dict[str, bytes]) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 answering these paths (query ignored) with these bodies
    (image/jpeg for a JPEG, else image/png; other paths 404): its base URL."""
    handler = type("Handler", (_BodiesHandler,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
