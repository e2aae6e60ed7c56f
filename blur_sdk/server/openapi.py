"""OpenAPI 3.1 of the mounted APIs, built from their spec modules: GET /openapi.json and /docs.

Each API package has a `spec.py` whose `spec(settings) -> ApiSpec` declares its fields, answers
and error envelope with the blocks of openapi_spec (limits and choices imported from its
parser); document() walks the app's url_map and documents each route (rule and method) by the
operation of the spec that owns its blueprint. A route no spec describes is left out, and the
tests fail on it. The document is built once per app, at its first request.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, send_file
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule

from blur_sdk import __version__
from blur_sdk.server.openapi_spec import ApiSpec, Operation, Schema, one_of
from blur_sdk.settings import Settings

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
DOC_PATHS = (OPENAPI_PATH, DOCS_PATH)
ASSETS_PREFIX = f"{DOCS_PATH}/assets/"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": (STATIC / "swagger" / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (STATIC / "swagger" / "swagger-ui.css", "text/css"),
    "docs.js": (STATIC / "docs.js", "text/javascript"),
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)
SKIPPED_METHODS = ("HEAD", "OPTIONS")
EXTENSION = "blur_sdk.openapi"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_lock = threading.Lock()


def is_doc_path(path: str) -> bool:
    """Whether a request path is the document, the docs page or its assets (guarded like
    /info/: open unless INFO_REQUIRES_AUTH)."""
    return path in DOC_PATHS or path.startswith(ASSETS_PREFIX)


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/results/<name>` -> `/results/{name}`."""
    return _ARGUMENT.sub(r"{\1}", rule)


def api_spec(name: str, settings: Settings) -> ApiSpec | None:
    """blur_sdk.apis.<name>.spec.spec(settings), or None when the API has no spec module."""
    module_name = f"blur_sdk.apis.{name}.spec"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name in (module_name, f"blur_sdk.apis.{name}"):
            return None
        raise
    result: ApiSpec = module.spec(settings)
    return result


def mounted_specs(app: Flask) -> list[ApiSpec]:
    """The specs of the app's mounted APIs, then the server's own routes."""
    from blur_sdk.server.openapi_core import server_spec

    settings: Settings = app.extensions["blur_sdk"].settings
    apis = app.extensions.get("blur_sdk.apis", {})
    specs = [s for a in apis.values() if (s := api_spec(a.name, settings)) is not None]
    return [*specs, server_spec(settings)]


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) the app routes, static files, HEAD and OPTIONS apart."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods or ()):
            if method not in SKIPPED_METHODS:
                yield rule, method


def find_operation(spec: ApiSpec, rule: str, method: str) -> Operation | None:
    """The spec's operation for a rule and method."""
    return next((o for o in spec.operations if rule in o.paths and method in o.methods), None)


def owner(specs: list[ApiSpec], endpoint: str) -> ApiSpec | None:
    """The spec covering an endpoint's blueprint."""
    blueprint = endpoint.rpartition(".")[0]
    return next((s for s in specs if blueprint in s.routed_by), None)


def _responses(spec: ApiSpec, op: Operation) -> Schema:
    answers: dict[int, tuple[str, Schema | None]] = {}
    if not op.refused:
        answers = {a.status: (a.description, a.response().get("content")) for a in op.answers}
    errors = spec.errors if op.errors is None else op.errors
    out: Schema = {}
    for status in sorted(set(answers) | set(errors)):
        text, content = answers.get(status, ("", None))
        if status in errors and spec.error is not None:
            error = spec.error
            if content is None:
                content = {"application/json": {"schema": error}}
            else:
                content = {k: {"schema": one_of(v["schema"], error)} for k, v in content.items()}
            text = f"{text}; or {errors[status]}" if text else errors[status]
        out[str(status)] = {"description": text, **({"content": content} if content else {})}
    return out


def _operation(spec: ApiSpec, op: Operation, rule: Rule, method: str) -> Schema:
    declared = {f.name for f in op.parameters if f.location == "path"}
    params = [f.parameter() for f in op.parameters]
    params += [
        {"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
        for a in sorted(rule.arguments)
        if a not in declared
    ]
    slug = re.sub(r"[^A-Za-z0-9]+", "_", openapi_path(rule.rule)).strip("_") or "root"
    slug += "_slash" if rule.rule.endswith("/") and rule.rule != "/" else ""
    out: Schema = {
        "tags": [spec.name],
        "summary": op.summary,
        "operationId": f"{spec.name}_{method.lower()}_{slug}",
        "responses": _responses(spec, op),
    }
    if op.description:
        out["description"] = op.description
    if params:
        out["parameters"] = params
    if op.body is not None and not op.refused:
        out["requestBody"] = op.body.request_body()
    if spec.security:
        out["security"] = [{n: []} for n in spec.security] if spec.secured else [{}]
    return out


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route the app serves that a spec describes."""
    specs = mounted_specs(app)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method in routes(app):
        spec = owner(specs, rule.endpoint)
        op = find_operation(spec, rule.rule, method) if spec is not None else None
        if spec is None or op is None:
            continue  # undocumented: test_openapi fails on it
        item = paths.setdefault(openapi_path(rule.rule), {})
        item[method.lower()] = _operation(spec, op, rule, method)
    schemes = {k: v for s in specs for k, v in s.security.items()}
    schemas = {k: v for s in specs for k, v in s.schemas.items()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "blur-sdk",
            "version": __version__,
            "description": "On-premise image anonymization: every API this server mounts.",
        },
        "tags": [{"name": s.name, "description": s.description} for s in specs],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": schemes},
    }


def document(app: Flask) -> dict[str, Any]:
    """The app's document, built once (at the first call)."""
    with _lock:
        if EXTENSION not in app.extensions:
            app.extensions[EXTENSION] = build_document(app)
    result: dict[str, Any] = app.extensions[EXTENSION]
    return result


def openapi_blueprint() -> Blueprint:
    """GET /openapi.json, GET /docs (Swagger UI, served from this package) and its assets."""
    routes_bp = Blueprint("openapi", __name__)

    @routes_bp.get(OPENAPI_PATH)
    def openapi_json() -> Response:
        return jsonify(document(current_app._get_current_object()))  # type: ignore[attr-defined]

    @routes_bp.get(DOCS_PATH)
    def docs() -> Response:
        response = send_file(STATIC / "docs.html", mimetype="text/html", max_age=0)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @routes_bp.get(f"{ASSETS_PREFIX}<name>")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound()
        path, kind = ASSETS[name]
        response = send_file(path, mimetype=kind, max_age=86400, conditional=True)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return routes_bp
