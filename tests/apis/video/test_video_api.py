"""POST /v1/video -> a task -> GET /v1/video/<id> -> the result at /results/<name>: the video
anonymized (frames, rate, size kept; the face hidden in every frame), and the refusals."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from blur_sdk.core.find.engine import Engine
from blur_sdk.server import openapi
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.clients import noise_png
from tests.videos import FRAMES, check_anonymized, make_video, red_engine

PATH = "/v1/video"


@contextmanager
def video_client(settings: Settings, engine: Engine | None = None,
                 **changes: Any) -> Iterator[FlaskClient]:  # fmt: skip
    """A test client of a server mounting the video API alone, with one consumer thread."""
    changes.setdefault("task_workers", 1)
    app = create_app(dataclasses.replace(settings, **changes), engine or red_engine(),
                     apis=("video",))  # fmt: skip
    try:
        yield app.test_client()
    finally:
        app.extensions["blur_sdk.tasks"].close()


def post(c: FlaskClient, data: bytes, name: str = "clip.mp4", **fields: Any) -> Any:
    return c.post(PATH, data={"upload": (io.BytesIO(data), name), **fields},
                  content_type="multipart/form-data")  # fmt: skip


def wait(c: FlaskClient, status_url: str, timeout: float = 60.0) -> dict[str, Any]:
    path = "/" + status_url.split("://", 1)[1].split("/", 1)[1]
    deadline = time.monotonic() + timeout
    while True:
        response = c.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        answer: dict[str, Any] = response.get_json()
        if answer["status"] in ("success", "failed", "timeout") or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    make_video(path)
    return path


@pytest.mark.parametrize(("sample", "miss"), [(1, {18, 19, 20, 24}), (3, {7})])
def test_a_video_is_anonymized_through_the_task(settings: Settings, clip: Path, tmp_path: Path,
                                                sample: int, miss: set[int]) -> None:  # fmt: skip
    with video_client(settings, red_engine(miss)) as c:
        response = post(c, clip.read_bytes(), sample=str(sample), plates="-1")
        assert response.status_code == 202, response.get_json()
        submitted = response.get_json()
        assert set(submitted) == {"task_id", "status_url"}
        answer = wait(c, submitted["status_url"])
        assert answer["status"] == "success", answer
        assert answer["error"] is None and answer["frames"] == FRAMES
        assert answer["format"] == "mp4" and answer["searched"] == -(-FRAMES // sample)
        assert answer["result_url"].endswith(".mp4")
        result = c.get("/" + answer["result_url"].split("://", 1)[1].split("/", 1)[1])
        assert result.status_code == 200 and result.mimetype == "video/mp4"
        out = tmp_path / "out.mp4"
        out.write_bytes(result.data)
    check_anonymized(clip, out)


def test_webm_stays_webm(settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    make_video(clip, fourcc="VP80")
    with video_client(settings) as c:
        answer = wait(c, post(c, clip.read_bytes(), "clip.webm").get_json()["status_url"])
        assert answer["status"] == "success" and answer["format"] == "webm", answer
        assert answer["result_url"].endswith(".webm")


def test_refusals_in_the_envelope(settings: Settings, clip: Path) -> None:
    data = clip.read_bytes()
    with video_client(settings) as c:
        cases = [
            (post(c, b"hello, not a video at all" * 10), 400, "upload: not a video"),
            (post(c, noise_png(), "x.png"), 400, "upload: not a video"),
            (post(c, data[:100], sample="0"), 400, "sample:"),
            (post(c, data[:100], sample="x"), 400, "sample:"),
            (post(c, data[:100], sample="4", look_ahead="1"), 400, "look_ahead"),
            (post(c, data[:100], format="gif"), 400, "format:"),
            (post(c, data[:100], faces="0", plates="0"), 400, "faces"),
            (post(c, data[:100], faces="11"), 400, "faces:"),
            (c.post(PATH, data={"faces": "5"}), 400, "upload: required"),
            (post(c, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200), 400, "upload:"),
            (c.get(f"{PATH}/nope"), 404, "task_id"),
        ]
        for response, status, start in cases:
            body = response.get_json()
            assert response.status_code == status, body
            assert set(body) == {"error"} and body["error"].startswith(start), body
    with video_client(settings, video_max_frames=FRAMES - 1) as c:
        response = post(c, data)
        assert response.status_code == 413 and "frames" in response.get_json()["error"]
    with video_client(settings, video_max_bytes=len(data) - 1) as c:
        response = post(c, data)
        assert response.status_code == 413
        assert response.get_json() == {
            "error": f"upload: larger than {len(data) - 1} bytes (VIDEO_MAX_BYTES)"
        }


def test_the_body_limit_is_the_video_apis(settings: Settings, clip: Path) -> None:
    """Bodies larger than MAX_UPLOAD_BYTES pass when within VIDEO_MAX_BYTES, and not beyond."""
    data = clip.read_bytes()
    with video_client(settings, max_upload_bytes=1000) as c:
        assert post(c, data).status_code == 202
    with video_client(settings, video_max_bytes=1000) as c:
        response = c.post(PATH, data=b"x" * 20_000_000, content_type="multipart/form-data; b=x")
        assert response.status_code == 413
        assert "VIDEO_MAX_BYTES" in response.get_json()["error"]


def test_documented(settings: Settings) -> None:
    app = create_app(settings, red_engine(), apis=("video", "blur"))
    try:
        doc = openapi.document(app)
        validate(doc)
        assert {"/v1/video", "/v1/video/{task_id}"} <= set(doc["paths"])
        routed = {(openapi.openapi_path(r.rule), m.lower()) for r, m in openapi.routes(app)}
        documented = {(p, m) for p, item in doc["paths"].items() for m in item}
        assert routed == documented
    finally:
        app.extensions["blur_sdk.tasks"].close()
