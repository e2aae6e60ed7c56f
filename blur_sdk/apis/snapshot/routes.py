"""The Snapshot-compatible plate reader: POST /v1/plate-reader/ and GET /info/ over our engine.

Run with ``gunicorn 'blur_sdk.apis.snapshot.routes:create_app()'`` (one engine per worker) or, for
development, ``python -m snapshot_stub``. Answers as Snapshot does: 201 with `results`, 400
naming the bad field, 413 for an oversize upload, 403 for a refused licence or key.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from flask import Flask, Response, jsonify, request

from blur_sdk import __version__
from blur_sdk.apis.snapshot.reading import parse_request, snapshot_results
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.pipeline import read_plates
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.options import finder_config, image_limits
from blur_sdk.server.form import naming_image_field, read_upload
from blur_sdk.server.service import configure_service, note_timings, request_form, state
from blur_sdk.settings import Settings, load_settings

READER_PATHS = ("/v1/plate-reader/", "/v1/plate-reader")
INFO_PATHS = ("/info/", "/info")


def mask_key(key: str) -> str:
    """A licence key as /info/ shows it: its first 3 characters, the rest hidden."""
    if not key:
        return ""
    return key[:3] + "***" if len(key) > 6 else "***"


def _read_plates(engine: Engine, settings: Settings) -> tuple[Response, int]:
    form = request_form()
    read = parse_request(form, settings)
    data, filename = read_upload(request, form, settings)
    options = dataclasses.replace(read.options, filename=filename)
    limits = image_limits(settings)
    with naming_image_field(form):
        reading = read_plates(engine, data, options, limits, settings.request_timeout)
    results = snapshot_results(reading.plates, read)
    elapsed = reading.timings["total_ms"]
    note_timings(reading.timings)
    state().count_call()
    body: dict[str, Any] = {
        "processing_time": round(elapsed, 3),
        "results": results,
        "filename": filename,
        "version": 1,
        "camera_id": read.camera_id,
        "timestamp": read.timestamp,
        "image_width": reading.width,
        "image_height": reading.height,
    }
    return jsonify(body), 201


def _info(engine: Engine, settings: Settings) -> Response:
    service = state()
    return jsonify(
        {
            "version": __version__,
            "license_key": mask_key(settings.license_key),
            "total_calls": service.calls,
            "usage": {"calls": service.calls},
            "webhooks": [],
            "licence": service.licence.status(),
            "engine": engine.describe(),
            "uptime_s": round(time.time() - service.started, 1),
        }
    )


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    licence: LicenceManager | None = None,
) -> Flask:
    """A plate reader app; models load here, once per process, never per request.

    A licence manager created here is started (checked, then re-checked in the background);
    one passed in is left to its owner.
    """
    settings = settings if settings is not None else load_settings()
    if engine is None:
        engine = Engine.build(finder_config(settings), faces=False)
        engine.warm_up(settings.warm_up)
    app = Flask("snapshot_stub")
    own_licence = licence is None
    service = configure_service(app, settings, licence=licence)
    if own_licence:
        service.licence.start()

    def plate_reader() -> tuple[Response, int]:
        return _read_plates(engine, settings)

    def info() -> Response:
        return _info(engine, settings)

    for path in READER_PATHS:
        app.add_url_rule(path, "plate_reader", plate_reader, methods=["POST"])
    for path in INFO_PATHS:
        app.add_url_rule(path, "info", info, methods=["GET"])
    return app
