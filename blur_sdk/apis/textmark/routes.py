"""The text-watermark removal API: `GET|POST /api/text-watermark/remove` (multipart/form-data or
the query string) and `POST /api/text-watermark/token`.

OCR finds text blocks (PP-OCRv4: Chinese and Latin), the fields select them, their strokes are
inpainted; the answer lists them (processLocation) with the cleaned image's URL (kept
TEXTMARK_RETENTION, 5 h). Auth: signature or token when TEXTMARK_APPS is set (auth.py); every
answer, refusals too, is the vendor's envelope (answer.py) with HTTP status = httpCode.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, g, request

from blur_sdk.apis.textmark import answer
from blur_sdk.apis.textmark.auth import (
    Credentials,
    TextmarkAuthError,
    TokenBook,
    authenticate,
    md5_hex,
)
from blur_sdk.apis.textmark.cache import AnswerCache, cache_key
from blur_sdk.apis.textmark.callback import check_callback
from blur_sdk.apis.textmark.limits import QpsLimiter, UsageBook
from blur_sdk.apis.textmark.request import Params, field, parse_params, read_image
from blur_sdk.apis.textmark.work import KIND, Work, make_processor
from blur_sdk.errors import BlurSdkError, ConfigError, ProcessingTimeoutError
from blur_sdk.server.api import Api, ServerContext
from blur_sdk.server.errors import status_of
from blur_sdk.tasks.store import TaskStore

PATH = "/api/text-watermark/remove"
TOKEN_PATH = "/api/text-watermark/token"
NEEDS_FACES = False
NEEDS_TASKS = True
NEEDS_WATERMARKS = True
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _client_ip() -> str:
    return request.remote_addr or ""


def build(context: ServerContext) -> Api:
    """The text-watermark API over the server's watermark finder and task queue."""
    settings, tasks = context.settings, context.tasks
    if tasks is None:
        raise ConfigError("APIS: textmark needs the task queue (TASKS_DIR)")
    folder = settings.tasks_dir / "textmark"
    credentials = Credentials.from_settings(settings)
    tokens = TokenBook(folder / "tokens.sqlite", credentials, settings.textmark_tokens_per_day)
    qps = QpsLimiter(folder / "qps.sqlite", settings.textmark_qps)
    usage = UsageBook(folder / "usage.sqlite", dict(settings.textmark_quotas))
    cache = AnswerCache(folder / "answers.sqlite", settings.textmark_retention)
    results = TaskStore(folder / "results", retention=settings.textmark_retention)
    tasks.sweep_also(results)  # (expired cached answers go on each put)
    work = Work(context.engine.watermark_finder, settings, results, cache, usage, credentials)
    tasks.register(KIND, make_processor(work))
    routes = Blueprint("textmark", __name__)

    @routes.errorhandler(BlurSdkError)
    def _ours(error: BlurSdkError) -> Response:
        status = error.status if isinstance(error, TextmarkAuthError) else status_of(error)
        status = min(status, 500)  # their httpCodes: 502 / 503 / 504 faults are 500s
        return refusal(str(error), status, timed_out=isinstance(error, ProcessingTimeoutError))

    def refusal(message: str, status: int, timed_out: bool = False) -> Response:
        app_id = g.get("textmark_app", "")
        body = answer.failure(status, message, _client_ip(), usage=usage.report(app_id),
                              image_md5=g.get("textmark_md5", ""), timed_out=timed_out)  # fmt: skip
        return answer.respond(body)

    def remove() -> Response:
        if request.method not in ("GET", "POST"):
            return refusal(f"invalid HTTP method {request.method}: use GET or POST", 405)
        values = request.values
        token = request.headers.get("x-access-api-token", "").strip()
        auth = {"app_id": field(values, "appId"), "salt": field(values, "salt"),
                "sign": request.headers.get("x-access-api-sign", "").strip(), "token": token,
                "client_ip": _client_ip()}  # fmt: skip
        if token:  # the token scheme needs no image: refuse a bad token before fetching one
            g.textmark_app = authenticate(credentials, tokens, image_md5="", **auth) or ""
        data = read_image(request, settings)
        g.textmark_md5 = md5 = md5_hex(data)
        if not token:
            g.textmark_app = authenticate(credentials, tokens, image_md5=md5, **auth) or ""
        app_id: str = g.textmark_app
        qps.hit(app_id)
        params = parse_params(values)
        key = cache_key(md5, params.cache_params(), app_id=app_id)
        cached = cache.get(key)
        if cached is not None and not params.is_async:
            repeat = {**cached, "httpCode": 304, "httpMsg": answer.HTTP_MESSAGES[304]}
            return answer.respond({**repeat, **usage.report(app_id)})  # not counted
        if params.is_async:
            check_callback(params.callback, settings)
        usage.take(app_id)
        try:
            if params.is_async:
                body = accepted(data, params, app_id, md5, key)
            else:
                body = work.run(data, params, app_id=app_id, md5=md5, key=key,
                                host_url=request.host_url)  # fmt: skip
        except BlurSdkError:
            usage.give_back(app_id)  # refused or failed: not counted
            raise
        context.service.count_call()
        return answer.respond(body)

    def accepted(data: bytes, params: Params, app_id: str, md5: str, key: str) -> dict[str, Any]:
        """sync=true: the task queued, the 52000 answer."""
        job = {"params": params.to_json(), "app_id": app_id, "md5": md5, "key": key,
               "host_url": request.host_url}  # fmt: skip
        tasks.submit(KIND, {"image": data}, job)
        return answer.envelope(200, 52000, usage=usage.report(app_id), image_md5=md5,
                               secret=credentials.apps.get(app_id, ""))  # fmt: skip

    def token_view() -> Response:
        if request.method != "POST":
            return refusal(f"invalid HTTP method {request.method}: use POST", 405)
        values = request.values
        if request.is_json and isinstance(request.get_json(silent=True), dict):
            values = request.get_json()
        app_id = field(values, "appId")
        g.textmark_app = app_id if app_id in credentials.apps else ""
        token, expires = tokens.issue(app_id, field(values, "appSecret"), _client_ip())
        body = answer.envelope(200, 0, usage=usage.report(g.textmark_app),
                               message="token issued")  # fmt: skip
        body["data"].update(
            token=token, expiresAt=int(expires), expiresIn=int(expires - time.time())
        )
        return answer.respond(body)

    routes.add_url_rule(PATH, "remove", remove, methods=ALL_METHODS)
    routes.add_url_rule(TOKEN_PATH, "token", token_view, methods=ALL_METHODS)

    def info() -> dict[str, Any]:
        return {
            "textmark": {
                "paths": [PATH, TOKEN_PATH],
                "auth": "signature or token" if credentials.enabled else "off",
                "qps": settings.textmark_qps,
                "max_image_bytes": settings.textmark_max_image_bytes,
                "retention": settings.textmark_retention,
            }
        }

    return Api(
        "textmark",
        routes,
        refusal,
        info,
        authorize=lambda: None,  # its own schemes, checked in the view (they need the image)
        processing_methods=("GET", "POST"),
        result_stores=(results,),
    )
