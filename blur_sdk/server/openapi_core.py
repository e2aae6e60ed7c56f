"""The OpenAPI description of the server's own routes: /info/, /metrics, /results, the pages."""

from __future__ import annotations

from blur_sdk.server.openapi_spec import (
    BINARY,
    Answer,
    ApiSpec,
    Field,
    Operation,
    obj,
    typed,
)
from blur_sdk.server.results import RESULTS_PATH
from blur_sdk.server.service import INFO_PATHS, METRICS_PATHS
from blur_sdk.settings import Settings
from blur_sdk.tasks.store import RESULT_TYPES

PLAIN_ERROR = obj(error=typed("string", "what is wrong"))
INFO = {
    "type": "object",
    "description": "version, licence and total_calls, plus each mounted API's keys",
    "properties": {
        "version": typed("string"),
        "licence": typed("object", "the licence state (mode, status, ...)"),
        "total_calls": typed("integer", minimum=0),
    },
    "required": ["version", "licence", "total_calls"],
}
HTML = ("text/html",)


def server_spec(settings: Settings) -> ApiSpec:
    """The app-level routes and the results, web and openapi blueprints."""
    info_auth = bool(settings.api_keys) and settings.info_requires_auth
    operations = (
        Operation(
            INFO_PATHS,
            ("GET",),
            "Server, licence and API state",
            answers=(Answer(200, "the state", INFO),),
            errors={401: "API key missing (INFO_REQUIRES_AUTH)", 403: "wrong API key"}
            if info_auth
            else {},
        ),
        Operation(
            METRICS_PATHS,
            ("GET",),
            "Prometheus metrics (text exposition format)",
            answers=(Answer(200, "the metrics", typed("string"), ("text/plain",)),),
        ),
        Operation(
            (f"{RESULTS_PATH}<name>",),
            ("GET",),
            "A task's result file, at its unguessable URL (no credentials)",
            parameters=(Field("name", location="path", description="the result's file name"),),
            answers=(Answer(200, "the file", BINARY, tuple(dict.fromkeys(RESULT_TYPES.values()))),),
            errors={404: "result not found or expired"},
        ),
        Operation(
            ("/demo",),
            ("GET",),
            "The try-it page",
            answers=(Answer(200, "the page", typed("string"), HTML),),
        ),
        Operation(
            ("/demo/assets/<name>",),
            ("GET",),
            "The try-it page's CSS and JavaScript",
            parameters=(
                Field("name", location="path", description="app.css or app.js"),
                Field("v", location="query", description="its content hash: cached a year"),
            ),
            answers=(Answer(200, "the file", typed("string"), ("text/css", "text/javascript")),),
            errors={404: "no such asset"},
        ),
        Operation(
            ("/openapi.json",),
            ("GET",),
            "This document (OpenAPI 3.1)",
            answers=(Answer(200, "the document", typed("object")),),
        ),
        Operation(
            ("/docs",),
            ("GET",),
            "This document in Swagger UI",
            answers=(Answer(200, "the page", typed("string"), HTML),),
        ),
        Operation(
            ("/docs/assets/<name>",),
            ("GET",),
            "Swagger UI's files",
            answers=(Answer(200, "the file", typed("string"), ("text/css", "text/javascript")),),
            errors={404: "no such asset"},
        ),
    )
    return ApiSpec(
        "server",
        "The server's own routes: state, metrics, result files, pages",
        operations,
        error=PLAIN_ERROR,
        blueprints=("", "results", "web", "openapi"),
    )
