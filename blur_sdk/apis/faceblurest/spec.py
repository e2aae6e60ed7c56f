"""OpenAPI description of FaceBlurest's Face Blur API (the JSON body request.py parses)."""

from __future__ import annotations

from blur_sdk.apis.faceblurest import errors as codes
from blur_sdk.apis.faceblurest.answer import TAG_ID, TAG_NAME
from blur_sdk.apis.faceblurest.request import ABSENT, PHOTO_FIELD, URL_FIELD
from blur_sdk.apis.faceblurest.routes import FACEBLUREST_PATHS
from blur_sdk.server.openapi_spec import (
    JSON,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    array,
    obj,
    typed,
)
from blur_sdk.settings import Settings

CODES = (codes.UNAUTHORIZED, codes.LICENCE_REFUSED, codes.TOO_LONG, codes.INVALID_DATA,
         codes.INVALID_IMAGE, codes.BUSY, codes.SERVER_FAULT)  # fmt: skip
ERROR = array(
    obj(cd=typed("string", "the error code", enum=list(CODES)), description=typed("string")),
    minItems=1,
    description="FaceBlurest's error array",
)
FRACTION = typed("number", minimum=0, maximum=1)
ANSWER = obj(
    created=typed("string", "ISO 8601 UTC, milliseconds"),
    predictions=array(
        obj(
            probability=FRACTION,
            tagId=typed("string", const=TAG_ID),
            tagName=typed("string", const=TAG_NAME),
            boundingBox=obj(left=FRACTION, top=FRACTION, width=FRACTION, height=FRACTION),
            boundingBoxPhoto=typed("string"),
        )
    ),
    final_photo=typed("string", "base64 of the blurred image", contentEncoding="base64"),
)
SOURCE = f'the other source is "{ABSENT}" (or absent, or empty)'


def _statuses(http_errors: bool) -> dict[int, str]:
    if not http_errors:
        return {
            200: "a refusal (HTTP 200 unless FACEBLUREST_HTTP_ERRORS): the error array",
            500: "a server fault (5000)",
            503: "processing took longer than REQUEST_TIMEOUT (5000)",
        }
    return {
        400: "1014 invalid request data, or 2001 invalid image",
        401: "1001 authorization missing, not Basic, or wrong",
        403: "1004 licence refused",
        413: "1013 request too long, or empty",
        429: "4290 busy",
        500: "5000 a server fault",
        503: "5000 processing took longer than REQUEST_TIMEOUT",
    }


def spec(settings: Settings) -> ApiSpec:
    """FaceBlurest's description."""
    body = Body(
        (JSON,),
        (
            Field(PHOTO_FIELD, description=f"the image, base64 (a data: URL too); {SOURCE}"),
            Field(URL_FIELD, description=f"or the image's http(s) URL; {SOURCE}"),
        ),
        description=f"JSON; at most FACEBLUREST_MAX_REQUEST_BYTES "
        f"({settings.faceblurest_max_request_bytes}) bytes",
    )
    blur = Operation(
        FACEBLUREST_PATHS,
        ("POST",),
        "Blur every face (ellipses, intensity 10)",
        body=body,
        answers=(Answer(200, "the faces found and the blurred photo", ANSWER),),
    )
    auth = bool(settings.faceblurest_users or settings.api_keys)
    return ApiSpec(
        "faceblurest",
        "FaceBlurest's Face Blur API",
        (blur,),
        error=ERROR,
        errors=_statuses(settings.faceblurest_http_errors),
        security={"FaceBlurestBasic": {"type": "http", "scheme": "basic"}},
        secured=auth,
    )
