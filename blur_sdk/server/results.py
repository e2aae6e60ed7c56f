"""GET /results/<name>: task result files at unguessable URLs, without credentials."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, send_file

from blur_sdk.tasks.store import RESULT_TYPES, TaskStore

RESULTS_PATH = "/results/"


def result_url(name: str, public_url: str, host_url: str) -> str:
    """The absolute URL of a result: under PUBLIC_URL when set, else the request's host_url."""
    base = (public_url or host_url).rstrip("/")
    return f"{base}{RESULTS_PATH}{name}"


def results_blueprint(*stores: TaskStore) -> Blueprint:
    """The blueprint serving the stores' result files (mount it as a plain, non-API one)."""
    blueprint = Blueprint("results", __name__)

    @blueprint.get(f"{RESULTS_PATH}<name>")
    def result(name: str) -> Response:
        path = next((p for s in stores if (p := s.result_path(name)) is not None), None)
        if path is None:
            response = jsonify({"error": "result not found or expired"})
            response.status_code = 404
            return response
        ext = path.suffix.lstrip(".")
        response = send_file(path, mimetype=RESULT_TYPES[ext], max_age=0, conditional=True)
        response.headers["Cache-Control"] = "private"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return blueprint
