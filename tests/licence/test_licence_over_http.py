"""Licence rules through the Blur app (the licence server mocked): a refusal is a 403 and /info/
says why; community mode asks nothing; gunicorn's worker-exit hook stops the licence thread."""

from __future__ import annotations

import dataclasses
import runpy
import threading
from typing import Any

import requests
import responses
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bench.synthetic import encode, scene_with_plate
from blur_sdk import PROJECT_ROOT
from blur_sdk.settings import Settings
from tests.clients import app_of, error_of, ok, post

LICENCE_URL = "https://licence.test/v1/sdk-license"
GUNICORN_CONF = PROJECT_ROOT / "config" / "gunicorn.conf.py"


def licensed_app(settings: Settings, **changes: Any) -> Flask:
    """A Blur app over the fake engine; its licence manager is created and started by the app."""
    return app_of("blur", dataclasses.replace(settings, license_server_url=LICENCE_URL, **changes))


def blur_scene(client: FlaskClient) -> TestResponse:
    """POST the synthetic scene (PNG) with faces=10."""
    return post(client, encode(scene_with_plate(), "PNG"), faces="10")


def test_refused_licence_is_403_and_info_says_why(settings: Settings) -> None:
    answer: dict[str, Any] = {
        "valid": False,
        "expires_at": None,
        "quota": {},
        "message": "licence revoked",
    }
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", json=answer)
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    try:
        client = app.test_client()
        assert "licence revoked" in error_of(blur_scene(client), 403)
        info = client.get("/info/")
        assert info.status_code == 200
        licence = info.get_json()["licence"]
        assert licence["mode"] == "licensed" and licence["valid"] is False
        assert "licence revoked" in licence["reason"]
    finally:
        app.extensions["blur_sdk"].licence.stop()


def test_unreachable_licence_server_without_history_is_403(settings: Settings) -> None:
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", body=requests.ConnectionError("no route"))
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    try:
        assert "unreachable" in error_of(blur_scene(app.test_client()), 403)
    finally:
        app.extensions["blur_sdk"].licence.stop()


def test_community_mode_serves_and_says_so(settings: Settings) -> None:
    with responses.RequestsMock() as mock:  # no licence request may leave
        app = licensed_app(settings)
        client = app.test_client()
        ok(blur_scene(client))
        licence = client.get("/info/").get_json()["licence"]
        assert len(mock.calls) == 0
    assert licence["mode"] == "community" and licence["valid"] is True


def test_worker_exit_hook_stops_the_licence_thread(settings: Settings) -> None:
    valid = {"valid": True, "expires_at": None, "quota": {"calls": None, "used": 0}}
    with responses.RequestsMock() as mock:
        mock.post(LICENCE_URL + "/", json=valid)
        app = licensed_app(settings, license_key="ABC123XYZ", token="tok")
    threads = [t for t in threading.enumerate() if t.name == "licence-check"]
    assert threads and all(t.daemon for t in threads)
    conf = runpy.run_path(str(GUNICORN_CONF))
    conf["worker_exit"](None, type("Worker", (), {"wsgi": app, "pid": 1})())
    conf["worker_exit"](None, type("Worker", (), {})())  # the master's view: no app, no error
    assert not any(t.is_alive() for t in threads)
