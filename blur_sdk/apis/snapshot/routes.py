"""The Snapshot-compatible plate reader: POST /v1/plate-reader/ over the server's engine.

Answers as Snapshot does: 201 with `results`, 400 naming the bad field, 413 for an oversize
upload, 403 for a refused licence or key.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from blur_sdk.apis.snapshot.reading import parse_request, snapshot_results
from blur_sdk.core.pipeline import read_plates
from blur_sdk.options import image_limits
from blur_sdk.server.api import Api, ServerContext, json_error
from blur_sdk.server.metrics import note_found
from blur_sdk.server.service import note_timings, request_form
from blur_sdk.server.upload import naming_image_field, read_upload

READER_PATHS = ("/v1/plate-reader/", "/v1/plate-reader")
NEEDS_FACES = False


def mask_key(key: str) -> str:
    """A licence key as /info/ shows it: its first 3 characters, the rest hidden."""
    if not key:
        return ""
    return key[:3] + "***" if len(key) > 6 else "***"


def build(context: ServerContext) -> Api:
    """The plate reader over the server's engine."""
    settings, engine, service = context.settings, context.engine, context.service
    limits = image_limits(settings)
    routes = Blueprint("snapshot", __name__)

    def plate_reader() -> tuple[Response, int]:
        form = request_form()
        read = parse_request(form, settings)
        data, filename = read_upload(request, form, settings)
        with naming_image_field(form):
            reading = read_plates(engine, data, read.options, limits, settings.request_timeout)
        results = snapshot_results(reading.plates, read)
        note_timings(reading.timings)
        note_found("plate", len(reading.plates))
        service.count_call()
        body: dict[str, Any] = {
            "processing_time": round(reading.timings["total_ms"], 3),
            "results": results,
            "filename": filename,
            "version": 1,
            "camera_id": read.camera_id,
            "timestamp": read.timestamp,
            "image_width": reading.width,
            "image_height": reading.height,
        }
        return jsonify(body), 201

    def info() -> dict[str, Any]:
        return {
            "license_key": mask_key(settings.license_key),
            "usage": {"calls": service.calls},
            "webhooks": [],
            "engine": engine.describe(),
            "uptime_s": round(time.time() - service.started, 1),
        }

    for path in READER_PATHS:
        routes.add_url_rule(path, "plate_reader", plate_reader, methods=["POST"])
    return Api("snapshot", routes, json_error, info)
