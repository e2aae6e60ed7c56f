"""OpenAPI description of the Snapshot-compatible plate reader (fields as reading.py reads)."""

from __future__ import annotations

from blur_sdk.apis.snapshot.config import DEFAULT_MODE, MODES
from blur_sdk.apis.snapshot.reading import DETECTION_MODES, DETECTION_RULES, REGION_RULES
from blur_sdk.apis.snapshot.routes import READER_PATHS
from blur_sdk.server.openapi_spec import (
    FORM_TYPES,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    Schema,
    array,
    obj,
    open_obj,
    ref,
    typed,
)
from blur_sdk.settings import Settings

NUMBER = typed("number")
INT_BOX = obj(**{k: typed("integer") for k in ("xmin", "ymin", "xmax", "ymax")})
POLYGON = array(array(NUMBER, minItems=2, maxItems=2), description="the plate's quadrilateral")
RESULT: Schema = {
    "type": "object",
    "description": "A Snapshot `results` entry (with polygon); in SDK mode Snapshot's own keys",
    "properties": {
        "box": ref("IntBox"),
        "plate": typed("string", "the reading, lower case"),
        "region": obj(code=typed("string"), score=NUMBER),
        "score": NUMBER,
        "candidates": array(obj(score=NUMBER, plate=typed("string"))),
        "dscore": NUMBER,
        "vehicle": open_obj(score=NUMBER, type=typed("string"), box=ref("IntBox")),
        "polygon": POLYGON,
    },
    "required": ["box", "polygon"],
}
SCHEMAS = {"IntBox": INT_BOX, "SnapshotResult": RESULT}
PLAIN_ERROR = obj(error=typed("string", "<field>: what is wrong"))
ERRORS = {
    400: "a field is invalid (the message names it), or the image",
    401: "API_KEYS is set and no `Authorization: Token <key>` was sent",
    403: "wrong API key, or the licence is refused",
    405: "method not allowed",
    413: "the body, upload or image is too large",
    429: "too many requests in progress (MAX_IN_FLIGHT)",
    500: "a server fault",
    503: "processing took longer than REQUEST_TIMEOUT",
}
TOKEN_AUTH = {
    "Token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>` (or `Bearer <key>`), one of API_KEYS",
    }
}
CONFIG: Schema = {
    "type": "object",
    "properties": {
        "mode": typed("string", enum=list(MODES), default=DEFAULT_MODE),
        "threshold_d": typed(["number", "null"], minimum=0, maximum=1),
        "threshold_o": typed(["number", "null"], minimum=0, maximum=1),
        "text_formats": array(typed("string"), description="regexes of plate texts"),
        "region": typed("string", enum=list(REGION_RULES)),
        "detection_rule": typed("string", enum=list(DETECTION_RULES)),
        "detection_mode": typed("string", enum=list(DETECTION_MODES)),
    },
}
UPLOADS = (
    Field(
        "upload",
        schema={"anyOf": [{"type": "string", "format": "binary"}, {"type": "string"}]},
        description="the image: a file, or base64 (a data: URL too)",
    ),
    Field("upload_url", format="uri", description="fetch the image from there (wins)"),
)


def spec(settings: Settings) -> ApiSpec:
    """The plate reader's description."""
    fields = (
        *UPLOADS,
        Field("regions", repeated=True, description="region codes, comma-separated or repeated"),
        Field("camera_id", description="echoed in the answer"),
        Field("timestamp", format="date-time", description="ISO 8601; echoed (default: now)"),
        Field("mmc", "boolean", default=False, description="accepted; no make/model/colour"),
        Field("config", json=CONFIG, description="JSON object: Snapshot's config"),
    )
    answer = obj(
        processing_time=NUMBER,
        results=array(ref("SnapshotResult")),
        filename=typed("string"),
        version=typed("integer"),
        camera_id=typed(["string", "null"]),
        timestamp=typed("string"),
        image_width=typed("integer"),
        image_height=typed("integer"),
    )
    read = Operation(
        READER_PATHS,
        ("POST",),
        "Read the plates of an image",
        body=Body(FORM_TYPES, fields),
        answers=(Answer(201, "the plates read", answer),),
    )
    return ApiSpec(
        "snapshot",
        "Plate Recognizer Snapshot-compatible plate reader",
        (read,),
        error=PLAIN_ERROR,
        errors=ERRORS,
        security=TOKEN_AUTH,
        secured=bool(settings.api_keys),
        schemas=SCHEMAS,
    )
