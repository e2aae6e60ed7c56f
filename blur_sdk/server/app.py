"""The one app factory: mounts any set of API packages on one Flask app over one engine.

``gunicorn 'blur_sdk.server.app:create_app()'`` serves the APIs named by APIS (default: every
image API); ``snapshot_stub.app:create_app()`` serves the plate reader alone. Whatever the APIs:
one engine (models loaded once per worker), one licence gate, one call counter, one GET /info/,
one request log line; each API keeps its own routes and error envelope.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from flask import Flask, Response, jsonify

from blur_sdk import __version__
from blur_sdk.apis.snapshot.client import SnapshotClient
from blur_sdk.core import find
from blur_sdk.core.find.engine import Engine, watermark_finder
from blur_sdk.errors import ConfigError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.options import finder_config
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.metrics import install_metrics
from blur_sdk.server.openapi import openapi_blueprint
from blur_sdk.server.results import results_blueprint
from blur_sdk.server.service import INFO_PATHS, configure_service
from blur_sdk.setting_parsers import API_NAMES
from blur_sdk.settings import Settings, load_settings
from blur_sdk.tasks.config import task_config
from blur_sdk.tasks.queue import TaskQueue
from blur_sdk.web import web_blueprint

API_MODULES = {name: f"blur_sdk.apis.{name}.routes" for name in API_NAMES}


def api_modules(names: Sequence[str]) -> list[ModuleType]:
    """The route modules of the named APIs (each has build(context) and NEEDS_FACES)."""
    unknown = [n for n in names if n not in API_MODULES]
    if unknown or not names:
        raise ConfigError(f"APIS: unknown API(s) {unknown} (known: {', '.join(API_NAMES)})")
    return [importlib.import_module(API_MODULES[name]) for name in dict.fromkeys(names)]


def build_engine(
    settings: Settings, *, faces: bool, remote_plates: bool, watermarks: bool = False
) -> Engine:
    """Faces and the watermark finder when an API needs them; plates embedded, or from the
    Snapshot service at SDK_URL."""
    config = finder_config(settings)
    if not (remote_plates and settings.sdk_url):
        engine = Engine.build(config, faces=faces, watermarks=watermarks)
        engine.warm_up(settings.warm_up)
        return engine
    face = find.create("face", "centerface", config) if faces else None
    Engine(face, []).warm_up(settings.warm_up)  # plates are read remotely: faces only
    finder = watermark_finder(config) if watermarks else None
    return Engine(face, [SnapshotClient(settings)], finder)


def _needs(modules: Sequence[ModuleType], what: str) -> bool:
    return any(getattr(m, what, False) for m in modules)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    licence: LicenceManager | None = None,
    *,
    apis: Sequence[str] | None = None,
    consume: bool = True,
) -> Flask:
    """The server for these APIs (default: APIS); models and env defaults load here, once.

    A licence manager created here is started (checked, then re-checked in the background);
    one passed in is left to its owner. With an API that has tasks, the task queue is opened
    and (consume, TASK_WORKERS > 0) its consumer threads start in this process; the queue is
    app.extensions["blur_sdk.tasks"].
    """
    settings = settings if settings is not None else load_settings()
    modules = api_modules(tuple(apis) if apis is not None else settings.apis)
    if engine is None:
        faces = any(m.NEEDS_FACES for m in modules)
        reader_mounted = any(m.__name__ == API_MODULES["snapshot"] for m in modules)
        engine = build_engine(
            settings,
            faces=faces,
            remote_plates=not reader_mounted,
            watermarks=_needs(modules, "NEEDS_WATERMARKS"),
        )
    app = Flask("blur_sdk")
    service = configure_service(app, settings, licence=licence)
    install_metrics(app, service)
    tasks = TaskQueue(task_config(settings)) if _needs(modules, "NEEDS_TASKS") else None
    context = ServerContext(settings, engine, service, tasks)
    mounted: list[Api] = [m.build(context) for m in modules]
    for api in mounted:
        app.register_blueprint(api.blueprint)
    if tasks is not None:
        extra = [store for api in mounted for store in api.result_stores]
        app.register_blueprint(results_blueprint(tasks.store, *extra))
        app.extensions["blur_sdk.tasks"] = tasks
        if consume and settings.task_workers > 0:
            tasks.start()
    app.extensions["blur_sdk.error_bodies"] = {a.blueprint.name: a.error_body for a in mounted}
    app.extensions["blur_sdk.apis"] = {a.blueprint.name: a for a in mounted}
    app.register_blueprint(web_blueprint())  # the browser page: GET / (text/html), /demo
    app.register_blueprint(openapi_blueprint())  # GET /openapi.json, GET /docs

    def info() -> Response:
        answer: dict[str, Any] = {"version": __version__}
        for api in mounted:
            answer.update(api.info())
        answer.update(licence=service.licence.status(), total_calls=service.calls)
        return jsonify(answer)

    for path in INFO_PATHS:
        app.add_url_rule(path, f"info:{path}", info, methods=["GET"])
    if licence is None:
        service.licence.start()  # community mode: nothing to check, no thread
    return app
