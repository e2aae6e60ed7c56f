"""bench/load_requests.py: each API's load-test requests get that API's own answers through
the app factory (a fake engine), and its judges tell a right answer from a wrong one."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from bench.load_answers import Answer, answered_right
from bench.load_requests import APIS, PATHS, templates
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.fakes import FakeEngine

LIMIT = 1024 * 1024


@pytest.fixture
def client(settings: Settings):  # type: ignore[no-untyped-def]
    small = dataclasses.replace(
        settings,
        max_upload_bytes=LIMIT,
        watermarkly_max_post_bytes=LIMIT,
        faceblurest_max_request_bytes=LIMIT,
        textmark_max_image_bytes=LIMIT,
        textmark_qps=0,
    )
    return create_app(small, FakeEngine(), apis=APIS).test_client()


@pytest.mark.parametrize("api", sorted(PATHS))
def test_every_request_gets_the_apis_own_answer(client, api: str) -> None:  # type: ignore[no-untyped-def]
    pool = templates(api, 2 * LIMIT, random.Random(7))
    assert any(t.valid for t in pool) and any(not t.valid for t in pool)
    for template in pool:
        if template.valid and "1024" in template.name:
            continue  # (the larger scenes add time, not cases)
        response = client.post(
            PATHS[api] + template.query, data=template.body, content_type=template.content_type
        )
        answer = Answer(response.status_code, response.content_type or "", response.data)
        assert answered_right(api, template.valid, answer), (template.name, answer.body[:300])


def _answer(status: int, body: object, content_type: str = "application/json") -> Answer:
    return Answer(status, content_type, json.dumps(body).encode())


def test_the_judges_refuse_another_apis_envelope() -> None:
    blur_refusal = _answer(400, {"error": "upload: not an image"})
    assert answered_right("blur", False, blur_refusal)
    assert not answered_right("watermarkly", False, blur_refusal)  # theirs: {"message"}
    assert not answered_right("faceblurest", False, blur_refusal)  # theirs: [{"cd", ...}]
    assert not answered_right("kaze", False, blur_refusal)  # theirs: HTTP 200, a code
    assert answered_right("faceblurest", False, _answer(200, [{"cd": "1014", "description": "x"}]))
    assert answered_right("kaze", False, _answer(200, {"code": 1000, "message": "x", "data": None}))
    assert not answered_right("kaze", False, _answer(200, {"code": 0, "message": "success"}))
    assert not answered_right("blur", False, Answer(500, "text/html", b"<h1>error</h1>"))
    html = Answer(400, "text/html", b"<h1>Bad Request</h1>")  # (no envelope at all)
    assert not any(answered_right(api, False, html) for api in PATHS)
    assert not answered_right("faceblurest", False, _answer(200, []))
    assert not answered_right("kaze", True, _answer(200, {"code": 0, "data": ["t1"]}))


def test_the_judges_want_each_apis_success() -> None:
    assert answered_right("watermarkly", True, Answer(200, "image/jpeg", b"\xff\xd8"))
    assert not answered_right("watermarkly", True, _answer(200, {"message": "x"}))
    assert answered_right("snapshot", True, _answer(201, {"results": []}))
    assert not answered_right("snapshot", True, _answer(200, {"results": []}))
    assert answered_right("kaze", True, _answer(200, {"code": 0, "data": {"task_id": "t1"}}))
    assert not answered_right("kaze", True, _answer(200, {"code": 1101, "message": "busy"}))
    assert answered_right("faceblurest", True, _answer(200, {"created": "x", "predictions": []}))
