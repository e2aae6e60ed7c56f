"""Kaze's watermark-removal API: POST a task, poll its result, download the cleaned image.

- POST /api/ext/v1/submit_watermark_removal {"image_url" | "image_base64", optional
  "smear_url" | "smear_base64"} -> {"code": 0, "message": "success", "data": {"task_id"}}
- POST /api/ext/v1/get_task_result {"task_id"} -> data {"status": processing | success |
  failed | timeout, "images": [{"url"}], "err_msg" (failed / timeout)}
- POST /api/ext/v1/get_quota -> data {"total", "used", "remaining"} (ours: null = unlimited)

`Authorization: Bearer <key>` against API_KEYS (open when none). Every answer is HTTP 200 with
the outcome in `code` (see errors.py). Result URLs (GET /results/<name>) need no credentials.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from blur_sdk.apis.kaze import errors
from blur_sdk.apis.kaze.quota import QuotaBook
from blur_sdk.apis.kaze.request import json_body, parse_submission, text_field
from blur_sdk.apis.kaze.task import IMAGE, KIND, SMEAR, make_processor
from blur_sdk.errors import BlurSdkError, ConfigError, InputError
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.results import result_url
from blur_sdk.tasks.store import TaskRecord

PREFIX = "/api/ext/v1"
SUBMIT, RESULT, QUOTA = "submit_watermark_removal", "get_task_result", "get_quota"
NEEDS_FACES = False  # no face model: watermarks only
NEEDS_TASKS = True
NEEDS_WATERMARKS = True
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]  # so a wrong one gets code 1001
STATUS = {"queued": "processing", "processing": "processing", "success": "success",
          "failed": "failed", "timeout": "timeout"}  # fmt: skip


def bearer_key() -> str:
    """The request's key ('' when it sends none: auth is off then, or the gate refused it)."""
    parts = request.headers.get("Authorization", "").split()
    return parts[1] if len(parts) == 2 else ""


def task_answer(record: TaskRecord, public_url: str) -> dict[str, Any]:
    """get_task_result's data for one task."""
    status = STATUS[record.status]
    data: dict[str, Any] = {"task_id": record.id, "status": status}
    if status == "success":
        url = result_url(record.result_name, public_url, request.host_url)
        data["images"] = [{"url": url}] if record.result_name else []
    elif status in ("failed", "timeout"):
        data["images"] = []
        data["err_msg"] = record.error or status
    else:
        data["images"] = []
    return data


def build(context: ServerContext) -> Api:
    """Kaze's API over the server's task queue and watermark finder."""
    settings, tasks = context.settings, context.tasks
    if tasks is None:
        raise ConfigError("APIS: kaze needs the task queue (TASKS_DIR)")
    tasks.register(KIND, make_processor(context.engine.watermark_finder, settings))
    quotas = QuotaBook(settings.tasks_dir / "kaze-quota.sqlite", dict(settings.kaze_quotas))
    routes = Blueprint("kaze", __name__)

    @routes.errorhandler(BlurSdkError)
    def _ours(error: BlurSdkError) -> Response:
        return errors.handle_error(error)

    @routes.before_request
    def _post_only() -> Response | None:
        """Their code 1001 for any other method, on every route."""
        if request.method == "POST":
            return None
        return errors.envelope(
            errors.METHOD_ERROR, f"invalid HTTP method {request.method}: use POST"
        )

    def submit() -> Response:
        submission = parse_submission(json_body(request), settings)
        quotas.take(bearer_key())
        inputs = {IMAGE: submission.image}
        if submission.smear is not None:
            inputs[SMEAR] = submission.smear
        params = {SMEAR: submission.smear is not None, "width": submission.width,
                  "height": submission.height}  # fmt: skip
        try:
            record = tasks.submit(KIND, inputs, params)
        except BlurSdkError:
            quotas.give_back(bearer_key())  # a refused task costs no quota
            raise
        context.service.count_call()
        return errors.success({"task_id": record.id})

    def result() -> Response:
        task_id = text_field(json_body(request), "task_id")
        if not task_id:
            raise InputError("task_id: required", "task_id")
        record = tasks.get(task_id)
        if record.kind != KIND:
            raise InputError(f"task_id: unknown task {task_id[:64]!r}", "task_id")
        return errors.success(task_answer(record, settings.public_url))

    def quota() -> Response:
        return errors.success(quotas.report(bearer_key()))

    for name, view in ((SUBMIT, submit), (RESULT, result), (QUOTA, quota)):
        routes.add_url_rule(f"{PREFIX}/{name}", name, view, methods=ALL_METHODS)

    def info() -> dict[str, Any]:
        return {
            "kaze": {
                "paths": [f"{PREFIX}/{n}" for n in (SUBMIT, RESULT, QUOTA)],
                "inpaint_method": settings.inpaint_method,
                "task_queue": settings.task_queue,
                "task_max_queued": settings.task_max_queued,
                "task_timeout": settings.task_timeout,
                "result_retention": settings.result_retention,
            }
        }

    return Api("kaze", routes, errors.error_body, info, processing_methods=("POST",))
