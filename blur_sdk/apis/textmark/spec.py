"""OpenAPI description of the text-watermark removal API (fields as request.py parses them)."""

from __future__ import annotations

from blur_sdk.apis.textmark.answer import HTTP_MESSAGES
from blur_sdk.apis.textmark.matching import (
    ABSOLUTE,
    DEFAULT,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    SIMILAR,
)
from blur_sdk.apis.textmark.process import MESSAGES
from blur_sdk.apis.textmark.request import FORMATS, MAX_RECTANGLES
from blur_sdk.apis.textmark.routes import ALL_METHODS, PATH, TOKEN_PATH
from blur_sdk.server.openapi_spec import (
    FORM_TYPES,
    JSON,
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    Schema,
    array,
    obj,
    one_of,
    open_obj,
    typed,
)
from blur_sdk.settings import Settings

INT = typed("integer")
RECT = one_of(obj(x=INT, y=INT, w=INT, h=INT), array(typed("number"), minItems=4, maxItems=4))
KEYWORDS = array(
    one_of(
        typed("string", maxLength=MAX_KEYWORD_CHARS),
        {"type": "object", "properties": {
            "value": typed("string", maxLength=MAX_KEYWORD_CHARS),
            "rule": typed("string", enum=[SIMILAR, ABSOLUTE, DEFAULT])}, "required": ["value"]},
    ),
    maxItems=MAX_KEYWORDS,
)  # fmt: skip
USAGE = {
    "remainingUsage": typed("integer", "-1: unlimited"),
    "allUsedCount": INT,
    "longTermUsageCount": INT,
    "limitedTermUsageCount": INT,
    "limitedTermExpireTimes": typed("null"),
}
LOCATION = obj(x=INT, y=INT, w=INT, h=INT, lineCount=INT, word=typed("string"))
DATA = open_obj(
    processStatus=typed("integer", enum=sorted(MESSAGES)),
    processMsg=typed("string"),
    processCount=INT,
    processLocation=array(LOCATION),
    url=typed("string", "the cleaned image ('' when none)"),
)


def envelope(data: Schema = DATA, failure: bool = False) -> Schema:
    """The answer envelope; a refusal adds msgInnerReferer and location."""
    extra = {"msgInnerReferer": typed("string"), "location": typed("string")} if failure else {}
    return obj(
        httpCode=typed("integer", enum=sorted(HTTP_MESSAGES)),
        httpMsg=typed("string"),
        returnType=typed("string", const="json"),
        **USAGE,
        data=data,
        encryptedInfo=obj(sign=typed("string"), imageUniqueIdentification=typed("string")),
        **extra,
    )


ERRORS = {
    400: "a field or the image is invalid (processStatus 52001)",
    401: "credentials missing or wrong, token expired",
    403: "IP not allowed, quota used up, daily token limit",
    405: "method not allowed",
    413: "the image is too large",
    429: "more than TEXTMARK_QPS requests per second",
    500: "a server fault, or processing timed out (52003, 52004)",
}


def remove_fields(query: bool) -> tuple[Field, ...]:
    """The fields parse_params and read_image read (all in the query for GET)."""
    where = "query" if query else "body"
    image: tuple[Field, ...] = (
        Field("image_url", format="uri", location=where, description="or the image's URL"),
        Field("image_base64", location=where, description="or the image in base64"),
    )
    if not query:
        image = (Field("image_file", "file", description="the image (wins)"), *image)
    return (
        *image,
        Field("appId", location=where, aliases=("app_id",), description="signature: the app"),
        Field("salt", location=where, description="signature: 8 digits, the first not 0"),
        Field("rectangles", location=where, json=array(RECT, maxItems=MAX_RECTANGLES),
              description="remove exactly these (no OCR)"),
        Field("watermarkNames", location=where, aliases=("watermark_names",), json=KEYWORDS,
              description="remove only the blocks matching one"),
        Field("excludeKeywords", location=where, aliases=("exclude_keywords",), json=KEYWORDS,
              description="remove all blocks but those matching one"),
        Field("offset", location=where, json=RECT, description="added to every rectangle"),
        Field("sync", "boolean", False, location=where,
              description="true: answer 52000 now, POST the answer to callback"),
        Field("callback", format="uri", location=where, description="required with sync=true"),
        Field("ocrOnly", "boolean", False, location=where, aliases=("ocr_only",),
              description="report the blocks, change nothing"),
        Field("show", "boolean", False, location=where, description="draw the rectangles"),
    )  # fmt: skip


HEADERS = (
    Field("x-access-api-sign", location="header", description="md5(appId+imageMd5+salt+secret)"),
    Field("x-access-api-token", location="header", description="a token from /token (wins)"),
)


def spec(settings: Settings) -> ApiSpec:
    """The text-watermark API's description."""
    formats = ", ".join(FORMATS)
    answers = (Answer(200, "the blocks removed and the image URL (or a 304 repeat)", envelope()),)
    token_data = open_obj(token=typed("string"), expiresAt=INT, expiresIn=INT)
    token_fields = (
        Field("appId", aliases=("app_id",), required=True),
        Field("appSecret", aliases=("app_secret",), required=True),
    )
    ops = (
        Operation((PATH,), ("GET",), "Remove text watermarks (fields in the query)",
                  parameters=(*HEADERS, *remove_fields(True)), answers=answers),
        Operation((PATH,), ("POST",), "Remove text watermarks", parameters=HEADERS,
                  body=Body(FORM_TYPES, remove_fields(False),
                            description=f"the image: {formats}"), answers=answers),
        Operation((PATH,), tuple(m for m in ALL_METHODS if m not in ("GET", "POST")),
                  "Refused: 405, use GET or POST", refused=True),
        Operation((TOKEN_PATH,), ("POST",), "Issue a token (30 minutes)",
                  body=Body((*FORM_TYPES, JSON), token_fields),
                  answers=(Answer(200, "the token", envelope(token_data)),)),
        Operation((TOKEN_PATH,), tuple(m for m in ALL_METHODS if m != "POST"),
                  "Refused: 405, use POST", refused=True),
    )  # fmt: skip
    schemes = {
        "TextmarkToken": {"type": "apiKey", "in": "header", "name": "x-access-api-token"},
        "TextmarkSign": {"type": "apiKey", "in": "header", "name": "x-access-api-sign",
                         "description": "with the appId and salt fields"},
    }  # fmt: skip
    return ApiSpec(
        "textmark",
        "Text-watermark removal (the vendor's envelope; HTTP status = httpCode)",
        ops,
        error=envelope(failure=True),
        errors=ERRORS,
        security=schemes,
        secured=bool(settings.textmark_apps),
    )
