"""OpenAPI description of Watermarkly's Blur API (parameters as request.py parses them)."""

from __future__ import annotations

from blur_sdk.apis.watermarkly.errors import API_KEY_HEADER
from blur_sdk.apis.watermarkly.request import (
    FORMAT_ALIASES,
    FORMATS,
    MAX_FILE_SIZE,
    MAX_INTENSITY,
)
from blur_sdk.apis.watermarkly.routes import BODY_TYPES, PATH
from blur_sdk.core.image.output import MAX_OUTPUT_SIDE
from blur_sdk.server.openapi_spec import (
    BINARY,
    IMAGE_TYPES,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    obj,
    typed,
)
from blur_sdk.settings import Settings

ERROR = obj(message=typed("string", "what is wrong"))
ERRORS = {
    400: "a parameter, or an undecodable or corrupt image",
    403: "x-api-key missing or wrong, or the licence is refused",
    413: "the image is too large",
    429: "too many requests in progress (MAX_IN_FLIGHT)",
    500: "a server fault",
    503: "processing took longer than REQUEST_TIMEOUT",
}
FORMAT_NAMES = tuple(
    spelling for name in (*FORMATS, *FORMAT_ALIASES) for spelling in (name, name.lower())
)


def parameters() -> tuple[Field, ...]:
    """The query parameters parse_params reads."""
    q = "query"
    return (
        Field("url", format="uri", location=q, description="GET: the image to blur (http(s))"),
        Field("blur_intensity", "number", 1.0, 0.0, MAX_INTENSITY, location=q,
              description="0: nothing blurred; 1 already hides; 20 the strongest"),
        Field("width", "integer", None, 1, MAX_OUTPUT_SIDE, location=q,
              description="output width (one side: aspect kept; both: cover + centre-crop)"),
        Field("height", "integer", None, 1, MAX_OUTPUT_SIDE, location=q,
              description="output height"),
        Field("format", enum=FORMAT_NAMES, location=q,
              description="output format (default: the input's; AVIF/HEIF become JPEG)"),
        Field("file_size", "integer", None, 1, MAX_FILE_SIZE, location=q,
              description="best-effort output size in bytes"),
        Field("logo_url", location=q, description="http(s) or data: URL of a logo for plates"),
        Field("logo_size", "number", 1.0, 0.1, 1.0, location=q,
              description="the logo's share of the plate"),
        Field("plate_screws", "boolean", False, location=q,
              description="draw screw heads on the logo"),
    )  # fmt: skip


def spec(settings: Settings) -> ApiSpec:
    """Watermarkly's description."""
    answer = Answer(200, "the blurred image itself", BINARY, IMAGE_TYPES)
    get = Operation(
        (PATH,),
        ("GET",),
        "Blur the image at `url`",
        parameters=parameters(),
        answers=(answer,),
    )
    post = Operation(
        (PATH,),
        ("POST",),
        "Blur the posted image bytes",
        parameters=parameters(),
        body=Body((*BODY_TYPES, "image/*"), raw=BINARY, description="the raw image bytes"),
        answers=(answer,),
    )
    scheme = {
        "WatermarklyKey": {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "one of API_KEYS",
        }
    }
    return ApiSpec(
        "watermarkly",
        "Watermarkly's Blur API: the answer is the image",
        (get, post),
        error=ERROR,
        errors=ERRORS,
        security=scheme,
        secured=bool(settings.api_keys),
    )
