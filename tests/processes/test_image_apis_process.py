"""The three image APIs of the default Blur role (Blur, Watermarkly, FaceBlurest on one port) as
one real server process on 127.0.0.1, read over HTTP with requests."""

from __future__ import annotations

import base64
import io
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from bench.procutil import Server, free_port, running_server
from bench.synthetic import FACE_BOX, FIXTURES, PLATE_QUAD, encode, noise, scene_with_plate
from blur_sdk.settings import Settings
from tests.clients import post_over_http, process_env, serving

pytestmark = [pytest.mark.process, pytest.mark.models]

OCTET = {"Content-Type": "application/octet-stream"}
FACEBLUREST = "/faceblurest.aspx"
DEFAULT_APIS = ("blur", "watermarkly", "faceblurest")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, models_installed: Settings
) -> Iterator[Server]:
    """`python -m blur_sdk serve` with the default APIS, started once for this module."""
    base: Path = tmp_path_factory.mktemp("image-apis")
    port = free_port()
    env = process_env(base, URL_ALLOW_PRIVATE="true", WORKERS="1", THREADS="4")
    if "APIS" in os.environ:  # the default APIS, whatever this shell has
        env["APIS"] = ",".join(DEFAULT_APIS)
    cmd = [sys.executable, "-m", "blur_sdk", "serve", "--port", str(port)]
    with running_server(cmd, port, env, timeout=180.0) as started:
        yield started


@pytest.fixture(scope="module")
def scene_jpeg() -> bytes:
    return encode(scene_with_plate(), "JPEG", quality=92)


@pytest.fixture(scope="module")
def image_host(scene_jpeg: bytes) -> Iterator[str]:
    """A small HTTP server on 127.0.0.1 in a thread answering GET /car.jpg with the scene."""

    with serving({"/car.jpg": scene_jpeg}) as base:
        yield f"{base}/car.jpg"


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _corrupt_png() -> bytes:
    """A valid PNG with one byte inside its IDAT chunk's data flipped (its CRC now fails)."""
    data = bytearray(encode(noise(64, 64), "PNG"))
    pos = 8
    while True:
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IDAT":
            data[pos + 8 + length // 2] ^= 0xFF
            return bytes(data)
        pos += 12 + length


# -- Watermarkly -----------------------------------------------------------------------------


def test_watermarkly_post_hides_the_plate(server: Server, scene_jpeg: bytes) -> None:
    response = requests.post(server.url + "/blur/", data=scene_jpeg, headers=OCTET, timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("image/jpeg")
    out, original = _rgb(response.content), _rgb(scene_jpeg)
    assert out.shape == original.shape
    x0, y0 = PLATE_QUAD.min(axis=0).astype(int) + 10
    x1, y1 = PLATE_QUAD.max(axis=0).astype(int) - 10
    assert np.abs(out[y0:y1, x0:x1] - original[y0:y1, x0:x1]).mean() > 10
    # the bottom-left corner: far from the face (FACE_BOX) and the plate
    assert FACE_BOX[3] < 440 and PLATE_QUAD[:, 0].min() > 150
    far = np.abs(out[440:, :150] - original[440:, :150])
    assert far.mean() < 2.0 and far.max() < 40  # only the JPEG re-encoding


def test_watermarkly_post_resized_png(server: Server, scene_jpeg: bytes) -> None:
    url = server.url + "/blur/?width=256&format=png"
    response = requests.post(url, data=scene_jpeg, headers=OCTET, timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("image/png")
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.width == 256


def test_watermarkly_get_by_url(server: Server, image_host: str, scene_jpeg: bytes) -> None:
    response = requests.get(server.url + "/blur/", params={"url": image_host}, timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("image/")
    assert _rgb(response.content).shape == _rgb(scene_jpeg).shape


# -- FaceBlurest and Blur ----------------------------------------------------------------------


def test_faceblurest_box_matches_blur(server: Server) -> None:
    jpeg = (FIXTURES / "astronaut.jpg").read_bytes()
    body = {"base64_Photo_String": base64.b64encode(jpeg).decode("ascii"), "photo_url": "NO"}
    response = requests.post(server.url + FACEBLUREST, json=body, timeout=120)
    assert response.status_code == 200, response.text[:300]
    answer = response.json()
    assert list(answer) == ["created", "predictions", "final_photo"]
    [face] = answer["predictions"]
    frac = face["boundingBox"]
    blur = post_over_http(server.url + "/", jpeg, "astronaut.jpg", timeout=120, faces="10")
    assert blur.status_code == 200, blur.text[:300]
    box = blur.json()["faces"][0]["box"]
    assert frac["left"] == pytest.approx(box["xmin"] / 512, abs=0.01)
    assert frac["top"] == pytest.approx(box["ymin"] / 512, abs=0.01)
    assert frac["width"] == pytest.approx((box["xmax"] - box["xmin"]) / 512, abs=0.01)
    assert frac["height"] == pytest.approx((box["ymax"] - box["ymin"]) / 512, abs=0.01)
    photo = Image.open(io.BytesIO(base64.b64decode(answer["final_photo"], validate=True)))
    assert photo.size == (512, 512)


# -- a corrupt image to each API ---------------------------------------------------------------


def test_corrupt_png_refused_by_each_api(server: Server) -> None:
    bad = _corrupt_png()
    blur = post_over_http(server.url + "/", bad, "bad.png")
    assert blur.status_code == 400, blur.text[:300]
    assert blur.json()["error"].startswith("upload: image is corrupt: "), blur.text[:300]

    mark = requests.post(server.url + "/blur/", data=bad, headers=OCTET, timeout=60)
    assert mark.status_code == 400, mark.text[:300]
    assert "corrupt" in mark.json()["message"]

    body = {"base64_Photo_String": base64.b64encode(bad).decode("ascii"), "photo_url": "NO"}
    face = requests.post(server.url + FACEBLUREST, json=body, timeout=60)
    assert face.status_code == 200, face.text[:300]
    [error] = face.json()
    assert error["cd"] == "2001"
    assert error["description"]

    info = requests.get(server.url + "/info/", timeout=30)
    assert info.status_code == 200, info.text[:300]
    assert server.process.poll() is None
