"""The Blur API on port 8001, Plate Recognizer's on-premise Blur SDK field for field."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath
from typing import Any

from flask import Flask, Response, jsonify, request

from blur_sdk import __version__
from blur_sdk.apis.blur.request import BlurDefaults, parse_blur_request, with_snapshot_filename
from blur_sdk.apis.snapshot.client import SnapshotClient
from blur_sdk.apis.snapshot.results import int_box, to_snapshot_result
from blur_sdk.core import find as detectors
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.image.decode import EXTENSIONS
from blur_sdk.core.pipeline import BlurResult, anonymize
from blur_sdk.errors import UpstreamError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.options import finder_config
from blur_sdk.server.form import naming_image_field, read_upload
from blur_sdk.server.service import configure_service, note_timings, request_form, state
from blur_sdk.settings import Settings, load_settings

BLUR_PATHS = ("/", "/v1/blur")


def build_engine(settings: Settings) -> Engine:
    """Local faces always; plates embedded, or from the Snapshot service at SDK_URL."""
    if not settings.sdk_url:
        engine = Engine.build(finder_config(settings))
        engine.warm_up(settings.warm_up)
        return engine
    face = detectors.create("face", "centerface", finder_config(settings))
    Engine(face, []).warm_up(settings.warm_up)  # plates are read remotely: faces only
    return Engine(face, [SnapshotClient(settings)])


def snapshot_clients(engine: Engine) -> list[SnapshotClient]:
    """The engine's plate sources that are remote Snapshot services."""
    return [d for d in engine.plate_detectors if isinstance(d, SnapshotClient)]


def output_filename(filename: str, fmt: str) -> str:
    """The upload's base name with the output format's extension."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem or "image"
    return f"{stem}.{EXTENSIONS.get(fmt, 'png')}"


def blur_response(result: BlurResult, filename: str, regions: tuple[str, ...]) -> dict[str, Any]:
    """The Blur API answer: faces, plates (Snapshot results), and the image or null."""
    faces = [{"box": int_box(f.region), "score": round(f.score, 3)} for f in result.faces]
    plates = []
    for outcome in result.plates:
        plate = outcome.plate
        snapshot = to_snapshot_result(plate, regions)
        snapshot["box"] = int_box(plate.box)  # also the united box of plates merged by split
        plates.append(
            {
                "polygon": [[round(x, 1), round(y, 1)] for x, y in plate.polygon],
                "result": snapshot,
                "skipped": outcome.skipped,
            }
        )
    blur = None
    if result.image is not None:
        blur = {
            "content_type": result.content_type,
            "filename": output_filename(filename, result.format),
            "base64": base64.b64encode(result.image).decode("ascii"),
        }
    return {"faces": faces, "plates": plates, "blur": blur}


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    licence: LicenceManager | None = None,
) -> Flask:
    """The Blur API app; models and env defaults load here, once per worker."""
    settings = settings if settings is not None else load_settings()
    defaults = BlurDefaults.from_settings(settings)
    engine = engine if engine is not None else build_engine(settings)
    remote = snapshot_clients(engine)
    app = Flask(__name__)
    service = configure_service(app, settings, licence=licence)

    def blur() -> Response:
        form = request_form()
        blur_request = parse_blur_request(
            form, settings=settings, defaults=defaults, logo_upload=request.files.get("logo")
        )  # every field is checked before an upload_url is fetched
        data, filename = read_upload(request, form, settings)
        blur_request = with_snapshot_filename(blur_request, filename)
        with naming_image_field(form):
            result = anonymize(engine, data, blur_request)
        state().count_call()
        note_timings(result.timings)
        return jsonify(blur_response(result, filename, blur_request.plate_options.regions))

    def info() -> Response:
        answer: dict[str, Any] = {"version": __version__, "snapshot": None}
        if remote:
            try:
                answer["snapshot"] = remote[0].info()
            except UpstreamError as e:
                answer["snapshot_error"] = str(e)
        answer.update(
            mode="sdk" if remote else "embedded",
            detectors=engine.describe(),
            licence=state().licence.status(),
            total_calls=state().calls,
        )
        return jsonify(answer)

    for path in BLUR_PATHS:
        app.add_url_rule(path, f"blur:{path}", blur, methods=["POST"], strict_slashes=False)
    app.add_url_rule("/info/", "info", info, methods=["GET"], strict_slashes=False)
    if licence is None:
        service.licence.start()  # community mode: nothing to check, no thread
    return app
