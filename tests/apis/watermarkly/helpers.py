"""Watermarkly test helpers: an app over a fake engine, raw-body posts, answers decoded."""

from __future__ import annotations

import dataclasses
import functools
import io
from typing import Any

import numpy as np
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from bench.synthetic import encode, noise
from blur_sdk.core.find.engine import Engine
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.fakes import FakeEngine

FACE_INSIDE = (200, 80, 250, 160)  # well inside FACE_BOX
PLATE_INSIDE = (320, 404, 460, 428)  # well inside the fake plate (PLATE_QUAD)
FAR = (0, 0, 60, 60)  # far from the face and the plate


def client(settings: Settings, engine: Engine | None = None, **changes: Any) -> FlaskClient:
    """A test client of a server mounting Watermarkly alone, settings changed as given."""
    app = create_app(
        dataclasses.replace(settings, **changes), engine or FakeEngine(), apis=("watermarkly",)
    )
    return app.test_client()


@functools.cache
def noise_png() -> bytes:
    """512x512 noise as PNG (lossless: any change is the server's)."""
    return encode(noise(), "PNG")


def post(
    c: FlaskClient,
    data: bytes | None = None,
    *,
    path: str = "/blur/",
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    **params: str,
) -> TestResponse:
    """POST raw image bytes (default: the noise PNG) with the query parameters."""
    body = noise_png() if data is None else data
    args = {**(query or {}), **params}
    return c.post(
        path, data=body, content_type=content_type, query_string=args, headers=headers or {}
    )


def image_of(response: TestResponse, content_type: str = "image/png") -> Image.Image:
    """The answered image (status 200, the content type asked)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == content_type
    return Image.open(io.BytesIO(response.get_data()))


def rgb_of(response: TestResponse, content_type: str = "image/png") -> np.ndarray:
    """The answered image as RGB."""
    return np.asarray(image_of(response, content_type).convert("RGB"))


def message_of(response: TestResponse, status: int) -> str:
    """A refusal's message: that status, exactly {"message": str}, no trace."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:300]
    assert "Traceback" not in text, text[:300]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"message"}, text[:300]
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


def changed(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Fraction of pixels in box (x0, y0, x1, y1) that differ."""
    x0, y0, x1, y1 = box
    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int))
    return float((diff.max(axis=2) > 0).mean())
