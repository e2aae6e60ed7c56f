"""Every Kaze error code, in their envelope with HTTP 200: 1000, 1001, 1002, 1003 (see the API
test), 1101 busy, and the failed / timeout task states."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from blur_sdk.settings import Settings
from tests.apis.kaze.helpers import (
    MAGENTA,
    RESULT,
    SUBMIT,
    FakeEngine,
    b64,
    bearer,
    call,
    clean_image,
    error_code,
    kaze_client,
    poll,
    submit,
)

IMAGE = clean_image(80, 60)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, "image_url or image_base64"),
        ({"image_base64": "@@not base64@@"}, "image_base64"),
        ({"image_base64": base64.b64encode(b"not an image").decode()}, "image_base64"),
        ({"image_base64": b64(IMAGE), "image_url": "http://example.com/a.png"}, "not both"),
        ({"image_base64": 12}, "expected a string"),
        ({"image_base64": b64(IMAGE), "smear_base64": b64(clean_image(81, 60))}, "same size"),
        ({"image_base64": b64(IMAGE), "smear_base64": "%%"}, "smear_base64"),
        ({"image_url": "http://127.0.0.1:1/x.png"}, "image_url"),
    ],
)
def test_parameter_errors_are_code_1000(settings: Settings, body: dict[str, object],
                                        names: str) -> None:  # fmt: skip
    with kaze_client(settings, task_workers=0) as c:
        answer = call(c, SUBMIT, body)
    assert error_code(answer) == 1000
    assert names in answer["message"]


def test_a_body_that_is_not_json_is_code_1000(settings: Settings) -> None:
    with kaze_client(settings, task_workers=0) as c:
        response = c.post(SUBMIT, data=b"image=1", content_type="text/plain")
    assert response.status_code == 200
    assert error_code(response.get_json()) == 1000


def test_unknown_task_ids_are_code_1000(settings: Settings) -> None:
    with kaze_client(settings, task_workers=0) as c:
        for task_id in ("nope", "../../etc/passwd", ""):
            answer = call(c, RESULT, {"task_id": task_id})
            assert error_code(answer) == 1000, answer
            assert "task_id" in answer["message"]


@pytest.mark.parametrize("path", [SUBMIT, RESULT, "/api/ext/v1/get_quota"])
def test_other_methods_are_code_1001(settings: Settings, path: str) -> None:
    with kaze_client(settings, task_workers=0) as c:
        for method in ("GET", "PUT", "DELETE"):
            response = c.open(path, method=method)
            assert response.status_code == 200
            assert error_code(response.get_json()) == 1001


def test_missing_or_wrong_keys_are_code_1002(settings: Settings) -> None:
    with kaze_client(settings, task_workers=0, api_keys=("right",)) as c:
        for headers in ({}, bearer("wrong"), {"Authorization": "Basic abc"}):
            answer = call(c, SUBMIT, {"image_base64": b64(IMAGE)}, headers)
            assert error_code(answer) == 1002
            assert error_code(call(c, RESULT, {"task_id": "x"}, headers)) == 1002
        assert call(c, SUBMIT, {"image_base64": b64(IMAGE)}, bearer("right"))["code"] == 0


def test_a_full_queue_is_busy_1101_and_costs_no_quota(settings: Settings) -> None:
    with kaze_client(settings, task_workers=0, task_max_queued=1,
                     api_keys=("k",), kaze_quotas=(("k", 5),)) as c:  # fmt: skip
        submit(c, bearer("k"), image_base64=b64(IMAGE))
        answer = call(c, SUBMIT, {"image_base64": b64(IMAGE)}, bearer("k"))
        assert error_code(answer) == 1101
        assert "TASK_MAX_QUEUED" in answer["message"]
        used = call(c, "/api/ext/v1/get_quota", {}, bearer("k"))["data"]["used"]
        assert used == 1


def test_a_task_that_fails_reports_failed_with_its_reason(settings: Settings) -> None:
    engine = FakeEngine()
    with kaze_client(settings, engine) as c:
        # a valid image whose finder raises: the task fails, the server keeps serving
        def broken(*_args: object, **_kw: object) -> None:
            raise RuntimeError("finder exploded")

        engine.watermarks.find = broken  # type: ignore[method-assign,assignment]
        data = poll(c, submit(c, image_base64=b64(IMAGE)))
        assert data["status"] == "failed"
        assert data["images"] == []
        assert "internal error (RuntimeError)" in data["err_msg"]


def test_a_task_running_past_task_timeout_is_timeout(settings: Settings) -> None:
    marked = IMAGE.copy()
    marked[10:20, 10:20] = MAGENTA
    with kaze_client(settings, FakeEngine(delay=1.6), task_timeout=1.0) as c:
        data = poll(c, submit(c, image_base64=b64(marked)))
    assert data["status"] == "timeout", data
    assert data["err_msg"]
    assert np.asarray(data["images"]).size == 0


def test_an_unreachable_queue_is_a_server_error_naming_it(settings: Settings) -> None:
    from bench.procutil import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with kaze_client(settings, task_workers=0, task_queue="redis", redis_url=url) as c:
        answer = call(c, SUBMIT, {"image_base64": b64(IMAGE)})
    assert error_code(answer) == 1100
    assert "task queue (redis) cannot be reached" in answer["message"]
