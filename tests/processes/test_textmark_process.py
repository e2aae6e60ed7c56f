"""The text-watermark API as a real server process on 127.0.0.1: a signed request over HTTP
finds, reads and removes rendered watermarks; the cleaned image downloads from its URL."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from bench.procutil import free_port, running_server
from bench.synthetic import encode
from blur_sdk.settings import Settings
from tests.apis.textmark.helpers import APP_ID, PATH, SECRET, render, signed
from tests.clients import process_env

pytestmark = [pytest.mark.process, pytest.mark.models]
MARKS = [("SAMPLE PHOTO", (30, 30, 300, 40)), ("抖音号 12345678", (40, 330, 320, 40))]


def test_signed_request_over_http(tmp_path: Path, models_installed: Settings) -> None:
    marked, clean = render(MARKS, size=(680, 420), alpha=190)
    data = encode(marked, "PNG")
    fields, headers = signed(data)
    port = free_port()
    env = process_env(tmp_path, APIS="textmark", WORKERS="1", THREADS="4", WARM_UP="",
                      TEXTMARK_APPS=f"{APP_ID}:{SECRET}")  # fmt: skip
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    with running_server(cmd, port, env, timeout=180.0) as server:
        files = {"image_file": ("marked.png", data, "image/png")}
        response = requests.post(server.url + PATH, data=fields, files=files, headers=headers,
                                 timeout=120)  # fmt: skip
        body = response.json()
        assert response.status_code == 200 and body["httpCode"] == 200, body
        unsigned = requests.post(server.url + PATH, files=files, timeout=60)
        assert unsigned.status_code == 401 and unsigned.json()["httpCode"] == 401
        image = requests.get(body["data"]["url"], timeout=30)
    words = " ".join(b["word"] for b in body["data"]["processLocation"])
    assert "SAMPLE" in words.upper() and "12345678" in words
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(image.content)).convert("RGB")).astype(int)
    drawn = np.abs(marked.astype(int) - clean).max(axis=2) > 40
    assert (
        np.abs(out[drawn] - clean[drawn]).mean() < 0.5 * np.abs(marked[drawn] - clean[drawn]).mean()
    )
