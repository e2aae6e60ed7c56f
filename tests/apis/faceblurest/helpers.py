"""FaceBlurest apps over fake engines, JSON posts, answers and error arrays."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from typing import Any

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from blur_sdk.core.find.engine import Engine
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.fakes import FakeEngine

PATH = "/faceblurest.aspx"


def app_of(settings: Settings, engine: Engine | None = None, **changes: Any) -> Flask:
    """The FaceBlurest API alone over a FakeEngine unless an engine is given."""
    changed = dataclasses.replace(settings, **changes)
    return create_app(changed, engine or FakeEngine(), apis=("faceblurest",))


def client_of(settings: Settings, engine: Engine | None = None, **changes: Any) -> FlaskClient:
    return app_of(settings, engine, **changes).test_client()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def send(
    client: FlaskClient,
    image: bytes | None = None,
    url: str = "NO",
    *,
    path: str = PATH,
    auth: str | None = None,
    **extra: Any,
) -> TestResponse:
    """POST {"base64_Photo_String": base64 of image (None: "NO"), "photo_url": url}."""
    photo = base64.b64encode(image).decode("ascii") if image is not None else "NO"
    body = {"base64_Photo_String": photo, "photo_url": url, **extra}
    headers = {"Authorization": auth} if auth else {}
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def answer_of(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)[:300]
    return body


def error_code(response: TestResponse, status: int = 200) -> str:
    """The code of an error array [{"cd", "description"}] answered with that status."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:300]
    assert "Traceback" not in text, text[:300]
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1, text[:300]
    assert list(body[0]) == ["cd", "description"], text[:300]
    assert isinstance(body[0]["description"], str) and body[0]["description"], text[:300]
    code: str = body[0]["cd"]
    return code


def photo_rgb(body: dict[str, Any]) -> np.ndarray:
    """final_photo decoded as an RGB array."""
    image = Image.open(io.BytesIO(base64.b64decode(body["final_photo"], validate=True)))
    return np.asarray(image.convert("RGB"))
