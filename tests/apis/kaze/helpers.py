"""Kaze test helpers: a server mounting Kaze with a running consumer, images with a known clean
original, submit / poll / download."""

from __future__ import annotations

import base64
import dataclasses
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from bench.synthetic import encode
from blur_sdk.core.find.engine import Engine
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.fakes import MAGENTA, FakeEngine

SUBMIT = "/api/ext/v1/submit_watermark_removal"
RESULT = "/api/ext/v1/get_task_result"
QUOTA = "/api/ext/v1/get_quota"
MARK_BOX = (120, 100, 280, 160)  # where the synthetic watermark is drawn


@contextmanager
def kaze_client(
    settings: Settings, engine: Engine | None = None, **changes: Any
) -> Iterator[FlaskClient]:
    """A test client of a server mounting Kaze alone (one consumer thread unless changed)."""
    changes.setdefault("task_workers", 1)
    app = create_app(
        dataclasses.replace(settings, **changes), engine or FakeEngine(), apis=("kaze",)
    )
    try:
        yield app.test_client()
    finally:
        app.extensions["blur_sdk.tasks"].close()


def clean_image(width: int = 400, height: int = 260) -> np.ndarray:
    """A smooth scene with some texture: what a removal should restore."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([80 + 100 * x / width, 90 + 60 * y / height, 140 + 30 * np.sin(x / 17)], 2)
    rng = np.random.default_rng(3)
    rgb += rng.normal(0, 3, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def watermark_mask(shape: tuple[int, int]) -> np.ndarray:
    """255 where the synthetic watermark (thick text in MARK_BOX) lies."""
    mask = np.zeros(shape, np.uint8)
    x0, y0, _, _ = MARK_BOX
    cv2.putText(mask, "SAMPLE", (x0, y0 + 50), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 255, 7)
    return mask


def marked_image(clean: np.ndarray, mask: np.ndarray, colour: tuple[int, ...] = (255,) * 3,
                 alpha: float = 0.6) -> np.ndarray:  # fmt: skip
    """The clean image with a semi-transparent watermark over the mask."""
    out = clean.astype(np.float32)
    inside = mask > 0
    out[inside] = (1 - alpha) * out[inside] + alpha * np.array(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def smear_of(mask: np.ndarray) -> np.ndarray:
    """Kaze's smear convention: red strokes where to edit, black elsewhere."""
    smear = np.zeros((*mask.shape, 3), np.uint8)
    smear[mask > 0] = (230, 40, 40)
    return smear


def b64(rgb: np.ndarray, fmt: str = "PNG") -> str:
    """An image as raw base64 (no data: header), Kaze's image_base64."""
    return base64.b64encode(encode(rgb, fmt)).decode()


def bearer(key: str) -> dict[str, str]:
    """Kaze's Authorization header."""
    return {"Authorization": f"Bearer {key}"}


def call(c: FlaskClient, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST a JSON body; every Kaze answer is HTTP 200 with its outcome in `code`."""
    response = c.post(path, json=body, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def submit(c: FlaskClient, headers: dict[str, str] | None = None, **body: Any) -> str:
    """Submit a task; its id."""
    answer = call(c, SUBMIT, body, headers)
    assert answer["code"] == 0, answer
    task_id: str = answer["data"]["task_id"]
    return task_id


def poll(c: FlaskClient, task_id: str, headers: dict[str, str] | None = None,
         timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
    """get_task_result until the task is no longer processing; its data."""
    deadline = time.monotonic() + timeout
    while True:
        answer = call(c, RESULT, {"task_id": task_id}, headers)
        assert answer["code"] == 0, answer
        if answer["data"]["status"] != "processing" or time.monotonic() > deadline:
            data: dict[str, Any] = answer["data"]
            return data
        time.sleep(0.05)


def download(c: FlaskClient, url: str) -> tuple[TestResponse, np.ndarray]:
    """GET a result URL (no credentials) and decode it."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = c.get("/" + path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB"))


def error_code(answer: dict[str, Any]) -> int:
    """The code of an error answer (checks its envelope)."""
    assert set(answer) == {"code", "message", "data"}, answer
    assert answer["code"] != 0 and answer["message"], answer
    code: int = answer["code"]
    return code


__all__ = ["MAGENTA", "FakeEngine"]
