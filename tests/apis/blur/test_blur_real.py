"""The Blur API with the real models on the synthetic street scene (face + rendered plate)."""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np
import pytest
from flask.testing import FlaskClient

from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk import PROJECT_ROOT
from blur_sdk.apis.blur import create_app
from blur_sdk.core.find.engine import Engine
from blur_sdk.settings import Settings
from tests.clients import ok, output_image, output_rgb, post

pytestmark = pytest.mark.models

FACE_INSIDE = (200, 80, 250, 160)  # inside the astronaut's face (about 178..272 x 60..178)
CORNERS = [(0, 0, 60, 60), (0, 452, 60, 512)]  # far from the face and the plate
SCENE = scene_with_plate()


@pytest.fixture
def client(settings: Settings, real_engine: Engine) -> FlaskClient:
    logos = dataclasses.replace(settings, logos_dir=PROJECT_ROOT / "logos")
    return create_app(logos, real_engine).test_client()


def blur(client: FlaskClient, fmt: str = "PNG", **fields: Any) -> dict[str, Any]:
    return ok(post(client, encode(SCENE, fmt), f"scene.{fmt.lower()}", **fields))


def plate_mask(shrink: float = 0.8) -> np.ndarray:
    """Pixels well inside the rendered plate."""
    centre = PLATE_QUAD.mean(axis=0)
    inner = centre + (PLATE_QUAD - centre) * shrink
    mask = np.zeros(SCENE.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    return mask.astype(bool)


def mean_change(out: np.ndarray, where: np.ndarray | tuple[int, int, int, int]) -> float:
    """Mean absolute difference from the input scene over a mask or a box."""
    diff = np.abs(out.astype(int) - SCENE.astype(int))
    if isinstance(where, tuple):
        x0, y0, x1, y1 = where
        return float(diff[y0:y1, x0:x1].mean())
    return float(diff[where].mean())


def test_faces_and_plate_blurred_elsewhere_untouched(client: FlaskClient) -> None:
    body = blur(client, faces="10", plates="10")
    (face,) = body["faces"]
    box = face["box"]
    assert box["xmin"] < 200 and box["xmax"] > 250 and box["ymin"] < 80 and box["ymax"] > 160
    (plate,) = body["plates"]
    polygon = np.array(plate["polygon"])
    assert np.abs(polygon - PLATE_QUAD).max() < 15
    assert plate["result"]["plate"] == "ka482mx" and plate["skipped"] is False
    out = output_rgb(body)
    assert out.shape == SCENE.shape
    assert mean_change(out, FACE_INSIDE) > 8
    assert mean_change(out, plate_mask()) > 20
    for x0, y0, x1, y1 in CORNERS:
        assert (out[y0:y1, x0:x1] == SCENE[y0:y1, x0:x1]).all()


def test_skip_regexp_on_the_real_reading(client: FlaskClient) -> None:
    body = blur(client, faces="10", plates="10", skip_regexp="^KA\\s*482")
    assert [p["skipped"] for p in body["plates"]] == [True]
    out = output_rgb(body)
    assert mean_change(out, plate_mask()) == 0
    assert mean_change(out, FACE_INSIDE) > 8


def test_default_logo_covers_the_plate(client: FlaskClient) -> None:
    out = output_rgb(blur(client, plates="10", logo="/logos/logo.png"))
    red, _, blue = out[plate_mask(0.6)].astype(float).mean(axis=0)
    assert blue > red + 30  # the dark-blue BLUR-SDK plate, not the white rendered one


def test_top_margin_excludes_the_face(client: FlaskClient) -> None:
    body = blur(client, faces="10", plates="10", et="50")
    assert body["faces"] == [] and len(body["plates"]) == 1
    out = output_rgb(body)
    assert mean_change(out, FACE_INSIDE) == 0 and mean_change(out, plate_mask()) > 20


def test_jpeg_in_jpeg_out(client: FlaskClient) -> None:
    body = blur(client, "JPEG", faces="10", plates="10")
    assert body["blur"]["content_type"] == "image/jpeg"
    image = output_image(body)
    assert image.format == "JPEG" and image.size == (512, 512)
    out = np.asarray(image.convert("RGB"))
    assert mean_change(out, FACE_INSIDE) > 8 and mean_change(out, plate_mask()) > 20
    assert mean_change(out, CORNERS[0]) < 4  # only JPEG noise away from the detections
