"""OpenAPI description of Kaze's watermark removal (the JSON bodies request.py parses)."""

from __future__ import annotations

from blur_sdk.apis.kaze import errors as codes
from blur_sdk.apis.kaze.routes import ALL_METHODS, PREFIX, QUOTA, RESULT, STATUS, SUBMIT
from blur_sdk.server.openapi_spec import (
    JSON,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    Schema,
    array,
    obj,
    open_obj,
    typed,
)
from blur_sdk.settings import Settings

FAILURES = (codes.PARAMETER_ERROR, codes.METHOD_ERROR, codes.AUTH_ERROR, codes.QUOTA_ERROR,
            codes.INTERNAL_ERROR, codes.BUSY, codes.LICENCE_ERROR, codes.TIMEOUT)  # fmt: skip
ERROR = obj(
    code=typed("integer", "what went wrong", enum=list(FAILURES)),
    message=typed("string"),
    data=typed("null"),
)
ERRORS = {200: "a refusal: always HTTP 200, the outcome in `code`"}
COUNT = typed(["integer", "null"], "null: unlimited")


def success(data: Schema) -> Schema:
    """The success envelope around data."""
    return obj(code=typed("integer", const=codes.SUCCESS), message=typed("string"), data=data)


def _sources(kind: str, what: str) -> tuple[Field, Field]:
    return (
        Field(f"{kind}_url", format="uri", description=f"{what}: http(s) URL"),
        Field(f"{kind}_base64", description=f"{what}: base64 (one of the two)"),
    )


def spec(settings: Settings) -> ApiSpec:
    """Kaze's description."""
    image = _sources("image", "the image (required)")
    smear = _sources("smear", "optional mask, the image's size: non-black/white pixels to edit")
    task = open_obj(
        task_id=typed("string"),
        status=typed("string", enum=sorted(set(STATUS.values()))),
        images=array(obj(url=typed("string", format="uri"))),
    )
    task["properties"]["err_msg"] = typed("string", "failed / timeout: why")
    routes = (
        (SUBMIT, "Submit an image", Body((JSON,), (*image, *smear)),
         obj(task_id=typed("string")), "the task's id"),
        (RESULT, "A task's state and result URL",
         Body((JSON,), (Field("task_id", required=True),)), task, "the task"),
        (QUOTA, "The key's quota (ours)", None,
         obj(total=COUNT, used=typed("integer"), remaining=COUNT), "the quota"),
    )  # fmt: skip
    operations = []
    refused = tuple(m for m in ALL_METHODS if m != "POST")
    for name, summary, body, data, text in routes:
        path = (f"{PREFIX}/{name}",)
        answer = Answer(200, text, success(data))
        operations.append(Operation(path, ("POST",), summary, body=body, answers=(answer,)))
        operations.append(Operation(path, refused, "Refused: code 1001, use POST", refused=True))
    scheme = {"KazeBearer": {"type": "http", "scheme": "bearer", "description": "API_KEYS"}}
    return ApiSpec(
        "kaze",
        "Kaze's watermark removal: tasks",
        tuple(operations),
        error=ERROR,
        errors=ERRORS,
        security=scheme,
        secured=bool(settings.api_keys),
    )
