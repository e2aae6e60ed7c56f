"""OpenAPI description of the Blur API (fields and limits as request.py parses them)."""

from __future__ import annotations

from blur_sdk.apis.blur.request import (
    BOX_FIELDS,
    MARGIN_FIELDS,
    MAX_COORDINATE,
    MAX_OVERLAP,
    MAX_SPLIT,
)
from blur_sdk.apis.blur.routes import BLUR_PATHS
from blur_sdk.apis.snapshot.spec import CONFIG, ERRORS, PLAIN_ERROR, SCHEMAS, TOKEN_AUTH, UPLOADS
from blur_sdk.server.openapi_spec import (
    FORM_TYPES,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    array,
    obj,
    ref,
    typed,
)
from blur_sdk.settings import Settings

INTENSITY = "-1: not searched; 0: found only; 1..10: hidden at that intensity"
ERRORS_HERE = {
    **ERRORS,
    502: "SDK mode: the plate reader answered with an error, or cannot be reached",
    504: "SDK mode: the plate reader did not answer within UPSTREAM_TIMEOUT",
}


def fields(settings: Settings) -> tuple[Field, ...]:
    """Every form field parse_blur_request and read_upload read."""
    margins = tuple(
        Field(name, "number", default=0.0, minimum=0.0, maximum=100.0,
              description=f"exclusion margin ({side}), % of the image's height or width")
        for name, side in MARGIN_FIELDS
    )  # fmt: skip
    boxes = tuple(
        Field(name, "number", repeated=True, minimum=-MAX_COORDINATE, maximum=MAX_COORDINATE,
              description="exclusion boxes, pixels (the same count of each)")
        for name in BOX_FIELDS
    )  # fmt: skip
    return (
        *UPLOADS,
        Field("faces", "integer", settings.faces, -1, 10, description=f"faces: {INTENSITY}"),
        Field("plates", "integer", settings.plates, -1, 10, description=f"plates: {INTENSITY}"),
        Field("regions", repeated=True, description="region codes (default REGIONS)"),
        Field("skip_regexp", repeated=True, description="plates whose reading matches: kept"),
        Field(
            "logo",
            schema={"anyOf": [{"type": "string", "format": "binary"}, {"type": "string"}]},
            description="/logos/<file>, or an uploaded image: covers plates instead of blur",
        ),
        Field("config", json=CONFIG, description="JSON object merged over CONFIG (Snapshot's)"),
        *margins,
        *boxes,
        Field("split", "integer", 1, 0, MAX_SPLIT, description="vertical strips; 0, 1: none"),
        Field("overlap", "number", 20.0, 0.0, MAX_OVERLAP, description="strip overlap, %"),
        Field("camera_id", default=settings.camera_id or None, description="to Snapshot"),
        Field("snapshot_filename", description="file name to Snapshot (default: the upload's)"),
        Field("copy_metadata", "boolean", settings.copy_metadata, description="EXIF/XMP/ICC"),
        Field(
            "face_max_resolution",
            "integer",
            settings.face_max_resolution,
            64,
            8192,
            description="longest side faces are detected at",
        ),
    )


ANSWER = obj(
    faces=array(obj(box=ref("IntBox"), score=typed("number"))),
    plates=array(
        obj(
            polygon=array(array(typed("number"), minItems=2, maxItems=2)),
            result=ref("SnapshotResult"),
            skipped=typed("boolean"),
        )
    ),
    blur=typed(
        ["object", "null"],
        "the image (null when neither faces nor plates is above 0)",
        properties={
            "content_type": typed("string"),
            "filename": typed("string"),
            "base64": typed("string", contentEncoding="base64"),
        },
        required=["content_type", "filename", "base64"],
        additionalProperties=False,
    ),
)


def spec(settings: Settings) -> ApiSpec:
    """The Blur API's description."""
    blur = Operation(
        BLUR_PATHS,
        ("POST",),
        "Find faces and plates, and blur them",
        body=Body(FORM_TYPES, fields(settings)),
        answers=(Answer(200, "what was found, and the image", ANSWER),),
    )
    return ApiSpec(
        "blur",
        "Plate Recognizer's Blur API",
        (blur,),
        error=PLAIN_ERROR,
        errors=ERRORS_HERE,
        security=TOKEN_AUTH,
        secured=bool(settings.api_keys),
        schemas=SCHEMAS,
    )
