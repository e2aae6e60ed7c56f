"""The one app factory: any set of APIs on one app, one /info/, one counter, each API's errors."""

from __future__ import annotations

import dataclasses
import io

import pytest
from flask import Blueprint, Response, jsonify

from blur_sdk.errors import ConfigError, InputError
from blur_sdk.server import app as server_app
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings, load_settings
from tests.clients import error_of, noise_png, ok, post
from tests.fakes import FakeEngine


def test_blur_and_snapshot_on_one_app(settings: Settings) -> None:
    app = create_app(settings, FakeEngine(), apis=("blur", "snapshot"))
    client = app.test_client()
    blur = ok(post(client, faces="5", plates="5"))
    assert set(blur) == {"faces", "plates", "blur"} and blur["blur"] is not None
    reading = ok(post(client, path="/v1/plate-reader/"), 201)
    assert [r["plate"] for r in reading["results"]] == ["ka482mx"]
    info = ok(client.get("/info/"))
    assert info["total_calls"] == 2  # one counter for every API
    assert {"mode", "detectors", "snapshot"} <= set(info)  # Blur's keys
    assert {"license_key", "usage", "webhooks", "engine", "uptime_s"} <= set(info)  # Snapshot's
    assert info["licence"]["mode"] == "community"


def test_an_api_not_mounted_is_not_served(settings: Settings) -> None:
    client = create_app(settings, FakeEngine(), apis=("blur",)).test_client()
    assert "Not Found" in error_of(post(client, path="/v1/plate-reader/"), 404)
    assert "license_key" not in ok(client.get("/info/"))


def test_apis_setting_chooses_what_is_mounted(settings: Settings) -> None:
    both = dataclasses.replace(settings, apis=("blur", "snapshot"))
    client = create_app(both, FakeEngine()).test_client()
    ok(post(client, path="/v1/plate-reader/"), 201)
    with pytest.raises(ConfigError, match="APIS"):
        load_settings(
            env={"APIS": "blur,textmark-not-yet"}, config_dir=settings.license_dir / "none"
        )
    with pytest.raises(ConfigError, match="APIS"):
        create_app(settings, FakeEngine(), apis=("nope",))


def test_each_api_answers_errors_in_its_own_envelope(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second API with another envelope: its errors, even those raised before its view (the
    licence gate, auth, body limits), come in its body; Blur's stay {"error": ...}."""

    def build(context: ServerContext) -> Api:
        routes = Blueprint("other", __name__)

        def fail() -> Response:
            raise InputError("width: expected an integer", "width")

        def body(message: str, status: int) -> Response:
            response = jsonify([{"cd": str(status), "description": message}])
            response.status_code = status
            return response

        routes.add_url_rule("/other", "fail", fail, methods=["POST"])
        return Api("other", routes, body)

    other = type("Module", (), {"build": staticmethod(build), "NEEDS_FACES": False})
    monkeypatch.setitem(server_app.API_MODULES, "other", "other")
    monkeypatch.setattr(server_app.importlib, "import_module", lambda name: (
        other if name == "other" else __import__(name, fromlist=["build"])))  # fmt: skip
    keyed = dataclasses.replace(settings, api_keys=("k1",))
    client = create_app(keyed, FakeEngine(), apis=("blur", "other")).test_client()
    refused = client.post("/other", headers={"Authorization": "Token k1"})
    assert refused.status_code == 400
    assert refused.get_json() == [{"cd": "400", "description": "width: expected an integer"}]
    unauthorised = client.post("/other")  # refused by the app-wide gate, still in its envelope
    assert unauthorised.status_code == 401 and unauthorised.get_json()[0]["cd"] == "401"
    assert "authentication required" in error_of(post(client), 401)  # Blur: {"error": ...}


def test_beyond_max_in_flight_requests_get_429_at_once(settings: Settings) -> None:
    import threading
    import time

    capped = dataclasses.replace(settings, max_in_flight=1)
    app = create_app(capped, FakeEngine(delay=0.6))
    slow: dict[str, int] = {}

    def first() -> None:
        slow["status"] = post(app.test_client()).status_code

    worker = threading.Thread(target=first)
    worker.start()
    time.sleep(0.2)  # the first request is in progress
    started = time.monotonic()
    message = error_of(post(app.test_client()), 429)
    assert time.monotonic() - started < 0.4  # refused at once, not queued
    assert "MAX_IN_FLIGHT=1" in message
    worker.join()
    assert slow["status"] == 200
    ok(post(app.test_client()))  # the slot came back
    assert ok(app.test_client().get("/info/"))["total_calls"] == 2


def test_an_api_may_bring_its_own_auth(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import request

    def build(context: ServerContext) -> Api:
        routes = Blueprint("keyed", __name__)
        routes.add_url_rule("/keyed", "keyed", lambda: jsonify(ok=True), methods=["GET"])

        def authorize() -> None:
            if request.headers.get("x-api-key") != "k1":
                raise InputError("x-api-key: missing or wrong")

        def body(message: str, status: int) -> Response:
            response = jsonify(message=message)
            response.status_code = status
            return response

        return Api("keyed", routes, body, authorize=authorize, processing_methods=("GET",))

    keyed = type("Module", (), {"build": staticmethod(build), "NEEDS_FACES": False})
    monkeypatch.setitem(server_app.API_MODULES, "keyed", "keyed")
    monkeypatch.setattr(server_app.importlib, "import_module", lambda name: (
        keyed if name == "keyed" else __import__(name, fromlist=["build"])))  # fmt: skip
    app = create_app(dataclasses.replace(settings, api_keys=("t1",)), FakeEngine(),
                     apis=("blur", "keyed"))  # fmt: skip
    client = app.test_client()
    assert client.get("/keyed", headers={"x-api-key": "k1"}).get_json() == {"ok": True}
    refused = client.get("/keyed")
    assert refused.status_code == 400
    assert refused.get_json() == {"message": "x-api-key: missing or wrong"}
    assert client.get("/keyed", headers={"Authorization": "Token t1"}).status_code == 400
    upload = {"upload": (io.BytesIO(noise_png()), "a.png")}
    ok(client.post("/", data=upload, headers={"Authorization": "Token t1"}))  # Blur: Token
    assert client.get("/keyed", headers={"x-api-key": "k1"}).status_code == 200
