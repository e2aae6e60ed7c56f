"""FaceBlurest with the real face finder on the astronaut: one face, boxed as Blur boxes it."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic import FACE_BOX, astronaut, encode
from blur_sdk.core.find.engine import Engine
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.apis.faceblurest.helpers import answer_of, photo_rgb, send
from tests.clients import ok, post

pytestmark = pytest.mark.models

FACE_INSIDE = (200, 80, 250, 160)  # inside the astronaut's face


def test_astronaut(settings: Settings, real_engine: Engine) -> None:
    image = astronaut()
    jpeg = encode(image, "JPEG")
    client = create_app(settings, real_engine, apis=("blur", "faceblurest")).test_client()
    body = answer_of(send(client, jpeg))
    [face] = body["predictions"]
    assert face["probability"] >= 0.5
    h, w = image.shape[:2]
    frac = face["boundingBox"]
    cx = (frac["left"] + frac["width"] / 2) * w
    cy = (frac["top"] + frac["height"] / 2) * h
    assert FACE_BOX[0] < cx < FACE_BOX[2] and FACE_BOX[1] < cy < FACE_BOX[3]
    [theirs] = ok(post(client, jpeg, "a.jpg", faces="10", plates="-1"))["faces"]
    assert frac["left"] == pytest.approx(theirs["box"]["xmin"] / w, abs=1e-6)
    assert frac["top"] == pytest.approx(theirs["box"]["ymin"] / h, abs=1e-6)
    out = photo_rgb(body).astype(int)
    x0, y0, x1, y1 = FACE_INSIDE
    change = np.abs(out[y0:y1, x0:x1] - image[y0:y1, x0:x1].astype(int)).mean()
    assert change > 5.0
