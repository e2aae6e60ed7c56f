"""Text-watermark test helpers: a server mounting the API over a fake text finder, rendered
watermark images, signed requests."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageDraw, ImageFont

from bench.synthetic import encode
from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.watermark.finder import TextMark, WatermarkFinding, WatermarkOptions
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.fakes import FakeEngine

PATH = "/api/text-watermark/remove"
TOKEN_PATH = "/api/text-watermark/token"
APP_ID, SECRET = "app0123456789abc", "s3cret"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
Mark = tuple[str, tuple[int, int, int, int]]  # text, (x, y, w, h)


class FakeText:
    """Fake finder: the given text marks, wherever they are (their quads from the boxes)."""

    def __init__(self, marks: Sequence[Mark]) -> None:
        self.marks = list(marks)

    def find(self, rgb: RGBImage, options: WatermarkOptions | None = None) -> WatermarkFinding:
        texts = []
        for text, (x, y, w, h) in self.marks:
            quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
            texts.append(TextMark(quad, 0.9, text, 0.95))
        return WatermarkFinding(np.zeros(rgb.shape[:2], np.uint8), texts, [], [])


def fake_engine(marks: Sequence[Mark]) -> FakeEngine:
    """A FakeEngine whose watermark finder reports these text marks."""
    engine = FakeEngine()
    engine.watermark_finder = FakeText(marks)
    return engine


@contextmanager
def textmark_client(settings: Settings, engine: FakeEngine | None = None,
                    **changes: Any) -> Iterator[FlaskClient]:  # fmt: skip
    """A test client of a server mounting the text-watermark API alone."""
    changes.setdefault("textmark_qps", 0)
    app = create_app(dataclasses.replace(settings, **changes), engine or fake_engine([]),
                     apis=("textmark",))  # fmt: skip
    try:
        yield app.test_client()
    finally:
        app.extensions["blur_sdk.tasks"].close()


def render(marks: Sequence[Mark], size: tuple[int, int] = (480, 320), alpha: int = 170,
           seed: int = 5) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(marked, clean): a textured scene with each mark's text drawn in white in its box."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([60 + 80 * x / width, 70 + 50 * y / height, 120 + 20 * np.sin(x / 13)], 2)
    clean = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for text, (bx, by, _, bh) in marks:
        cjk = any(ord(c) > 0x2E80 for c in text)
        if cjk and not Path(CJK_FONT).exists():
            pytest.skip("no CJK font: install Debian's fonts-wqy-microhei (.ci/run does)")
        font = ImageFont.truetype(CJK_FONT if cjk else FONT, max(10, int(bh * 0.8)))
        draw.text((bx + 2, by + 1), text, font=font, fill=(255, 255, 255, alpha))
    marked = Image.alpha_composite(Image.fromarray(clean).convert("RGBA"), layer).convert("RGB")
    return np.asarray(marked).copy(), clean


def image_field(rgb: np.ndarray, fmt: str = "PNG") -> dict[str, Any]:
    """The image as an image_base64 field."""
    return {"image_base64": base64.b64encode(encode(rgb, fmt)).decode()}


def signed(data: bytes, salt: str = "12345678", app_id: str = APP_ID,
           secret: str = SECRET) -> tuple[dict[str, str], dict[str, str]]:  # fmt: skip
    """(fields, headers) of the signature scheme for these image bytes."""
    md5 = hashlib.md5(data).hexdigest()
    sign = hashlib.md5(f"{app_id}{md5}{salt}{secret}".encode()).hexdigest()
    return {"appId": app_id, "salt": salt}, {"x-access-api-sign": sign}


def post(c: FlaskClient, fields: dict[str, Any], headers: dict[str, str] | None = None,
         status: int | None = 200) -> dict[str, Any]:  # fmt: skip
    """POST multipart fields; the answer (HTTP status checked: `status`, or any when None;
    always httpCode's, a 304 repeat being HTTP 200)."""
    response = c.post(PATH, data=fields, headers=headers or {}, content_type="multipart/form-data")
    body: dict[str, Any] = response.get_json()
    assert status is None or response.status_code == status, (response.status_code, body)
    assert response.status_code == (200 if body["httpCode"] == 304 else body["httpCode"])
    return body
