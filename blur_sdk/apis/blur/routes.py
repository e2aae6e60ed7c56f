"""The Blur API on port 8001, Plate Recognizer's on-premise Blur SDK field for field."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from blur_sdk.apis.blur.answer import blur_response
from blur_sdk.apis.blur.request import BlurDefaults, parse_blur_request, with_snapshot_filename
from blur_sdk.apis.snapshot.client import SnapshotClient
from blur_sdk.core.pipeline import anonymize
from blur_sdk.errors import UpstreamError
from blur_sdk.server.api import Api, ServerContext, json_error
from blur_sdk.server.metrics import note_regions
from blur_sdk.server.service import note_timings, request_form
from blur_sdk.server.upload import naming_image_field, read_upload

BLUR_PATHS = ("/", "/v1/blur")
NEEDS_FACES = True  # the engine of a server mounting this API finds faces too


def build(context: ServerContext) -> Api:
    """The Blur API over the server's engine (env defaults validated here, once per worker)."""
    settings, engine = context.settings, context.engine
    defaults = BlurDefaults.from_settings(settings)
    remote = [d for d in engine.plate_detectors if isinstance(d, SnapshotClient)]
    routes = Blueprint("blur", __name__)

    def blur() -> Response:
        form = request_form()
        job = parse_blur_request(
            form, settings=settings, defaults=defaults, logo_upload=request.files.get("logo")
        )  # every field is checked before an upload_url is fetched
        data, filename = read_upload(request, form, settings)
        job = with_snapshot_filename(job, filename)
        with naming_image_field(form):
            result = anonymize(engine, data, job)
        context.service.count_call()
        note_timings(result.timings)
        note_regions(result.regions)
        codes = job.plates.regions if job.plates is not None else ()
        return jsonify(blur_response(result, filename, codes))

    def info() -> dict[str, Any]:
        answer: dict[str, Any] = {"snapshot": None}
        if remote:
            try:
                answer["snapshot"] = remote[0].info()
            except UpstreamError as e:
                answer["snapshot_error"] = str(e)
        answer.update(mode="sdk" if remote else "embedded", detectors=engine.describe())
        return answer

    for path in BLUR_PATHS:
        routes.add_url_rule(path, f"blur:{path}", blur, methods=["POST"], strict_slashes=False)
    return Api("blur", routes, json_error, info)
