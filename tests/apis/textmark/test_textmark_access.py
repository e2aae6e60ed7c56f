"""Signature and token auth, the per-app QPS limit and sync=true callbacks, through the API."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench.synthetic import encode
from blur_sdk.settings import Settings
from tests.apis.textmark.helpers import (
    APP_ID,
    SECRET,
    TOKEN_PATH,
    fake_engine,
    image_field,
    post,
    render,
    signed,
    textmark_client,
)

MARKS = [("SAMPLE", (40, 40, 120, 30))]
APPS = ((APP_ID, SECRET),)


def _image() -> tuple[dict[str, Any], bytes]:
    marked, _ = render(MARKS)
    data = encode(marked, "PNG")
    return image_field(marked), data


def test_signature_right_wrong_and_missing(settings: Settings) -> None:
    fields, data = _image()
    with textmark_client(settings, fake_engine(MARKS), textmark_apps=APPS) as c:
        extra, headers = signed(data)
        body = post(c, {**fields, **extra}, headers)
        assert body["data"]["processStatus"] == 0
        expected = hashlib.md5(f"{hashlib.md5(data).hexdigest()}0{SECRET}".encode()).hexdigest()
        assert body["encryptedInfo"]["sign"] == expected
        bad_extra, bad_headers = signed(data, secret="wrong")
        refused = post(c, {**fields, **bad_extra}, bad_headers, status=401)
        assert "x-access-api-sign" in refused["data"]["processMsg"]
        assert refused["data"]["processStatus"] == 52001
        assert post(c, fields, status=401)["httpCode"] == 401
        salted, salted_headers = signed(data, salt="01234567")
        assert "salt" in post(c, {**fields, **salted}, salted_headers, status=401)["data"][
            "processMsg"]  # fmt: skip


def test_tokens_are_issued_and_accepted_until_they_expire(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields, _ = _image()
    with textmark_client(settings, fake_engine(MARKS), textmark_apps=APPS) as c:
        issued = c.post(TOKEN_PATH, data={"appId": APP_ID, "appSecret": SECRET}).get_json()
        token = issued["data"]["token"]
        assert len(token) == 32 and token == token.lower()
        assert post(c, fields, {"x-access-api-token": token})["data"]["processStatus"] == 0
        wrong = c.post(TOKEN_PATH, data={"appId": APP_ID, "appSecret": "nope"})
        assert wrong.status_code == 401 and wrong.get_json()["httpCode"] == 401
        later = time.time() + 36 * 60  # past 30 minutes + 5 minutes' grace
        monkeypatch.setattr(time, "time", lambda: later)
        expired = post(c, fields, {"x-access-api-token": token}, status=401)
        assert "expired" in expired["data"]["processMsg"]


def test_above_the_qps_limit_requests_get_429(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four requests in one second of the limiter's clock (held still: on a loaded machine four
    real requests can span more than a second, and then none is over the limit)."""
    from types import SimpleNamespace

    from blur_sdk.apis.textmark import limits

    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: 1_800_000_000.5))
    fields, _ = _image()
    with textmark_client(settings, fake_engine(MARKS), textmark_qps=2) as c:
        codes = [post(c, {**fields, "ocrOnly": "true"}, status=None)["httpCode"]
                 for _ in range(4)]  # fmt: skip
    assert 429 in codes and codes[0] in (200, 304)


class _Callbacks(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    fail_first: bool

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        status = 500 if self.fail_first and len(self.received) == 1 else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def callback_server(fail_first: bool) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local server recording the JSON bodies POSTed to it (the first answered 500)."""
    received: list[dict[str, Any]] = []
    handler = type("H", (_Callbacks,), {"received": received, "fail_first": fail_first})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("fail_first", [False, True], ids=["first-try", "one-retry"])
def test_sync_true_posts_the_result_to_the_callback(settings: Settings, fail_first: bool) -> None:
    fields, _ = _image()
    with (
        callback_server(fail_first) as (url, received),
        textmark_client(
            settings, fake_engine(MARKS), task_workers=1, url_allow_private=True
        ) as c,  # fmt: skip
    ):
        body = post(c, {**fields, "sync": "true", "callback": url})
        assert body["data"]["processStatus"] == 52000
        deadline = time.monotonic() + 20
        while len(received) < (2 if fail_first else 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = post(c, {**fields, "sync": "true"}, status=400)
        assert "callback" in refused["data"]["processMsg"]
    assert len(received) == (2 if fail_first else 1)
    result = received[-1]
    assert result["data"]["processStatus"] == 0
    assert result["data"]["processLocation"][0]["word"] == "SAMPLE"
    assert result["data"]["url"].startswith("http://localhost/results/")


def test_a_quota_counts_processed_requests_only(settings: Settings) -> None:
    fields, data = _image()
    with textmark_client(settings, fake_engine(MARKS), textmark_apps=APPS,
                         textmark_quotas=((APP_ID, 1),)) as c:  # fmt: skip
        extra, headers = signed(data)
        bad = post(c, {**fields, **extra, "rectangles": "[[9999, 0, 5, 5]]"}, headers, status=400)
        assert bad["allUsedCount"] == 0  # refused: not counted
        done = post(c, {**fields, **extra}, headers)
        assert done["remainingUsage"] == 0 and done["allUsedCount"] == 1
        other = {**fields, **extra, "show": "true"}  # not a cached repeat
        used_up = post(c, other, headers, status=403)
        assert "TEXTMARK_QUOTAS" in used_up["data"]["processMsg"]
