"""Hostile input: each refusal is {"message": ...} with its status, and the server keeps serving."""

from __future__ import annotations

import base64
import io
import threading
from typing import Any

import pytest

from bench.synthetic import encode, noise
from blur_sdk.errors import LicenseError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.apis.watermarkly.helpers import client, message_of, noise_png, post
from tests.fakes import FakeEngine

BAD_QUERIES: list[tuple[dict[str, str], str]] = [
    ({"blur_intensity": "abc"}, "blur_intensity"),
    ({"blur_intensity": "-0.5"}, "blur_intensity"),
    ({"blur_intensity": "20.5"}, "blur_intensity"),
    ({"blur_intensity": "nan"}, "blur_intensity"),
    ({"blur_intensity": "1e400"}, "blur_intensity"),
    ({"file_size": "0"}, "file_size"),
    ({"file_size": "12.5"}, "file_size"),
    ({"file_size": "-3"}, "file_size"),
    ({"width": "0"}, "width"),
    ({"width": "abc"}, "width"),
    ({"width": "100000"}, "width"),
    ({"height": "1.5"}, "height"),
    ({"format": "gif"}, "format"),
    ({"format": "avif"}, "format"),
    ({"logo_size": "0.05"}, "logo_size"),
    ({"logo_size": "1.5"}, "logo_size"),
    ({"logo_size": "big"}, "logo_size"),
    ({"plate_screws": "maybe"}, "plate_screws"),
    ({"logo_url": "ftp://example.com/logo.png"}, "logo_url"),
    ({"logo_url": "/etc/passwd"}, "logo_url"),
    ({"logo_url": "data:image/png;base64,@@@"}, "logo_url"),
    ({"logo_url": "data:text/plain,hello"}, "logo_url"),
    (
        {"logo_url": "data:image/png;base64," + base64.b64encode(b"not an image").decode()},
        "logo_url",
    ),
    ({"logo_url": "http://127.0.0.1:1/logo.png"}, "logo_url"),  # a private address
]


@pytest.mark.parametrize(("query", "name"), BAD_QUERIES)
def test_bad_parameters_are_400_naming_them(
    settings: Settings, query: dict[str, str], name: str
) -> None:
    c = client(settings)
    assert name in message_of(post(c, query=query), 400)
    assert name in message_of(
        c.get("/blur/", query_string={"url": "http://x.test/a.png", **query}), 400
    )
    assert post(c).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "word"),
    [
        (b"hello, not an image at all", "application/octet-stream", 400, "image"),
        (noise_png()[: len(noise_png()) // 2], "image/png", 400, "image"),  # truncated PNG
        (b"", "application/octet-stream", 400, "body"),
        (noise_png(), "text/plain", 400, "Content-Type"),
        (noise_png(), "multipart/form-data; boundary=x", 400, "Content-Type"),
    ],
)
def test_bad_bodies(
    settings: Settings, body: bytes, content_type: str, status: int, word: str
) -> None:
    c = client(settings)
    assert word in message_of(post(c, body, content_type=content_type), status)
    assert post(c).status_code == 200


def test_corrupt_png_crc(settings: Settings) -> None:
    data = bytearray(noise_png())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside IDAT
    c = client(settings)
    message_of(post(c, bytes(data)), 400)
    assert post(c).status_code == 200


def test_oversize_body_is_413(settings: Settings) -> None:
    c = client(settings, watermarkly_max_post_bytes=10_000)
    assert "10000" in message_of(post(c), 413)
    assert post(c, encode(noise(32, 32), "PNG")).status_code == 200


def test_oversize_chunked_body_is_413(settings: Settings) -> None:
    c = client(settings, watermarkly_max_post_bytes=10_000)
    response = c.post(
        "/blur/",
        input_stream=io.BytesIO(noise_png()),
        headers={"Content-Type": "image/png", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets for chunked
    )
    assert response.request.content_length is None  # no declared length: read up to the limit
    message_of(response, 413)
    assert post(c, encode(noise(32, 32), "PNG")).status_code == 200


def test_image_over_the_side_limit_is_413(settings: Settings) -> None:
    c = client(settings, watermarkly_max_side=300)
    assert "300" in message_of(post(c), 413)
    assert post(c, encode(noise(300, 200), "PNG")).status_code == 200


def test_default_side_limit_is_6000(settings: Settings) -> None:
    c = client(settings)
    tall = encode(noise(8, 6001), "PNG")
    message_of(post(c, tall), 413)
    assert post(c, encode(noise(8, 6000), "PNG")).status_code == 200


def test_sources(settings: Settings) -> None:
    c = client(settings)
    assert "url" in message_of(c.get("/blur/"), 400)  # no source
    assert "url" in message_of(c.get("/blur/", query_string={"url": ""}), 400)
    assert "not both" in message_of(post(c, url="http://example.com/a.png"), 400)
    assert "url" in message_of(c.get("/blur/", query_string={"url": "file:///etc/passwd"}), 400)
    assert post(c).status_code == 200


def test_other_methods_are_refused(settings: Settings) -> None:
    c = client(settings)
    assert c.put("/blur/", data=noise_png()).status_code == 405
    assert post(c).status_code == 200


def test_busy_is_429(settings: Settings) -> None:
    c = client(settings, FakeEngine(delay=1.0), max_in_flight=1)
    results: dict[str, Any] = {}
    slow = threading.Thread(target=lambda: results.update(first=post(c).status_code))
    slow.start()
    try:
        for _ in range(100):  # wait until the first request holds the slot
            response = post(c)
            if response.status_code == 429:
                break
            threading.Event().wait(0.01)
        assert "MAX_IN_FLIGHT" in message_of(response, 429)
    finally:
        slow.join()
    assert results["first"] == 200


class _RefusedLicence(LicenceManager):
    def require_valid(self) -> None:
        raise LicenseError("licence revoked")


def test_refused_licence_is_403(settings: Settings) -> None:
    app = create_app(settings, FakeEngine(), _RefusedLicence(settings), apis=("watermarkly",))
    c = app.test_client()
    assert "revoked" in message_of(post(c), 403)
    assert "revoked" in message_of(c.get("/blur/", query_string={"url": "http://x.test/a"}), 403)
