"""The video API: POST a video, poll the task, download the anonymized video.

- POST /v1/video (multipart: `upload` the video, the Blur API's fields, `sample`, `format`,
  `look_ahead`, `look_behind`) -> 202 {"task_id", "status_url"}
- GET /v1/video/<task_id> -> {"task_id", "status": queued | processing | success | failed |
  timeout, "result_url", "error", "frames", "frames_total", ...}; the result is served at
  GET /results/<name> (no credentials: an unguessable URL).

Errors are Plate Recognizer's envelope {"error": "<field>: what is wrong"} with a 4xx/5xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from blur_sdk.apis.blur.request import MAX_LOGO_BYTES, BlurDefaults
from blur_sdk.apis.video.request import parse_video_request, probe
from blur_sdk.apis.video.task import KIND, LOGO, VIDEO, make_processor
from blur_sdk.errors import ConfigError
from blur_sdk.server.api import Api, ServerContext, json_error
from blur_sdk.server.results import result_url
from blur_sdk.server.service import request_form
from blur_sdk.server.upload import FORM_OVERHEAD
from blur_sdk.tasks.store import TaskNotFoundError, TaskRecord

VIDEO_PATH = "/v1/video"
NEEDS_FACES = True
NEEDS_TASKS = True
INFO_KEYS = ("frames", "frames_total", "width", "height", "fps", "format", "codec", "searched",
             "found", "tracks", "hidden", "variable_frame_rate", "timings")  # fmt: skip


def status_answer(record: TaskRecord, public_url: str) -> dict[str, Any]:
    """GET /v1/video/<id>'s answer for one task."""
    done = record.status == "success"
    url = result_url(record.result_name, public_url, request.host_url) if done else None
    failed = record.status in ("failed", "timeout")
    answer: dict[str, Any] = {
        "task_id": record.id,
        "status": record.status,
        "result_url": url if record.result_name else None,
        "error": (record.error or record.status) if failed else None,
        "frames": int(record.info.get("frames", 0)),
        "frames_total": record.info.get("frames_total", record.params.get("frames") or None),
    }
    if done:
        answer.update({k: record.info[k] for k in INFO_KEYS[2:] if k in record.info})
    return answer


def build(context: ServerContext) -> Api:
    """The video API over the server's engine and task queue."""
    settings, tasks = context.settings, context.tasks
    if tasks is None:
        raise ConfigError("APIS: video needs the task queue (TASKS_DIR)")
    tasks.register(KIND, make_processor(context.engine, settings))
    defaults = BlurDefaults.from_settings(settings)
    routes = Blueprint("video", __name__)

    def submit() -> tuple[Response, int]:
        form = request_form()
        submission = parse_video_request(request, form, settings, defaults)
        found = probe(submission, settings)
        inputs = {VIDEO: submission.data}
        if submission.logo is not None:
            inputs[LOGO] = submission.logo[1]
        params = {
            "fields": submission.fields,
            "logo_name": submission.logo[0] if submission.logo is not None else None,
            "sample": submission.sample,
            "look_ahead": submission.track.look_ahead,
            "look_behind": submission.track.look_behind,
            "container": found.container,
            "output": found.output,
            "filename": submission.filename[:200],
            "frames": found.frames,
        }
        record = tasks.submit(KIND, inputs, params)
        context.service.count_call()
        base = (settings.public_url or request.host_url).rstrip("/")
        answer = {"task_id": record.id, "status_url": f"{base}{VIDEO_PATH}/{record.id}"}
        return jsonify(answer), 202

    def status(task_id: str) -> Response | tuple[Response, int]:
        try:
            record = tasks.get(task_id)
        except TaskNotFoundError as e:
            return json_error(str(e), 404)
        if record.kind != KIND:
            return json_error(f"task_id: no task {task_id[:64]!r} (unknown or expired)", 404)
        return jsonify(status_answer(record, settings.public_url))

    routes.add_url_rule(VIDEO_PATH, "submit", submit, methods=["POST"], strict_slashes=False)
    routes.add_url_rule(f"{VIDEO_PATH}/<task_id>", "status", status, methods=["GET"])

    def info() -> dict[str, Any]:
        return {
            "video": {
                "paths": [VIDEO_PATH, f"{VIDEO_PATH}/<task_id>"],
                "max_bytes": settings.video_max_bytes,
                "max_frames": settings.video_max_frames,
                "sample": settings.video_sample,
                "window": settings.video_window,
                "task_timeout": settings.task_timeout,
            }
        }

    limit = (settings.video_max_bytes + MAX_LOGO_BYTES + FORM_OVERHEAD, "VIDEO_MAX_BYTES")
    return Api("video", routes, json_error, info, body_limit=limit)
