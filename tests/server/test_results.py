"""GET /results/<name>: result files by their unguessable names, 404 once missing or expired."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blur_sdk.server.results import result_url, results_blueprint
from blur_sdk.tasks import TaskStore


@pytest.fixture
def store(tmp_path: Path) -> TaskStore:
    return TaskStore(tmp_path / "tasks", retention=3600.0)


@pytest.fixture
def client(store: TaskStore) -> FlaskClient:
    app = Flask("test")
    app.register_blueprint(results_blueprint(store))
    return app.test_client()


def _result(store: TaskStore, data: bytes, ext: str) -> str:
    return store.write_result(store.create("k", {}, {}), data, ext).result_name


@pytest.mark.parametrize(
    ("ext", "media_type"),
    [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("webp", "image/webp"),
        ("json", "application/json"),
    ],
)
def test_result_is_served_with_its_type(
    client: FlaskClient, store: TaskStore, ext: str, media_type: str
) -> None:
    name = _result(store, b"DATA" * 100, ext)
    response = client.get(f"/results/{name}")
    assert response.status_code == 200
    assert response.data == b"DATA" * 100
    assert response.mimetype == media_type
    assert response.headers["Cache-Control"] == "private"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _assert_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json() == {"error": "result not found or expired"}


def test_missing_bad_and_expired_results_are_404(client: FlaskClient, store: TaskStore) -> None:
    name = _result(store, b"x", "png")
    _assert_404(client, "/results/" + "A" * 32 + ".png")
    _assert_404(client, "/results/" + name[:-4] + ".html")
    _assert_404(client, "/results/" + "A" * 30 + "..png")
    assert client.get("/results/..%2Ftasks%2Fqueue.sqlite").status_code == 404  # no route
    _assert_404(client, "/results/.png")
    old = time.time() - 7200
    os.utime(store.results_dir / name, (old, old))
    _assert_404(client, f"/results/{name}")


def test_result_urls_prefer_public_url() -> None:
    name = "abc.png"
    assert result_url(name, "", "http://10.0.0.5:8001/") == "http://10.0.0.5:8001/results/abc.png"
    public = "https://blur.example.com/base/"
    assert result_url(name, public, "http://x/") == "https://blur.example.com/base/results/abc.png"
    assert result_url(name, "https://h:9", "http://x/") == "https://h:9/results/abc.png"
