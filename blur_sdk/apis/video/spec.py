"""OpenAPI description of the video API (the fields request.py parses, the task's answers)."""

from __future__ import annotations

from blur_sdk.apis.blur.spec import fields as blur_fields
from blur_sdk.apis.snapshot.spec import ERRORS, PLAIN_ERROR, SCHEMAS, TOKEN_AUTH
from blur_sdk.apis.video.request import DEFAULT_INTENSITY, FORMATS
from blur_sdk.apis.video.routes import VIDEO_PATH
from blur_sdk.core.video.process import MAX_SAMPLE
from blur_sdk.core.video.track import MAX_WINDOW
from blur_sdk.server.openapi_spec import (
    Answer,
    ApiSpec,
    Body,
    Field,
    Operation,
    obj,
    open_obj,
    typed,
)
from blur_sdk.settings import Settings
from blur_sdk.tasks.store import STATUSES

INTENSITY = "-1: not searched; 0: found only; 1..10: hidden at that intensity"
NOT_HERE = ("upload", "upload_url", "faces", "plates")


def fields(settings: Settings) -> tuple[Field, ...]:
    """The video, this API's own fields, then the Blur API's (faces and plates default 10)."""
    window = ("frames before (after) a detection that hide it too; default "
              "max(VIDEO_WINDOW, sample), at least sample - 1")  # fmt: skip
    return (
        Field("upload", "file", required=True, description="the video: MP4, MOV, MKV, WEBM, AVI"),
        Field("sample", "integer", settings.video_sample, 1, MAX_SAMPLE,
              description="faces and plates are searched every Nth frame (VIDEO_SAMPLE)"),
        Field("look_ahead", "integer", None, 0, MAX_WINDOW, description=window),
        Field("look_behind", "integer", None, 0, MAX_WINDOW, description=window),
        Field("format", enum=FORMATS,
              description="mp4 (MPEG-4 Part 2) or webm (VP9); default: webm for a WebM, else mp4"),
        Field("faces", "integer", DEFAULT_INTENSITY, -1, 10, description=f"faces: {INTENSITY}"),
        Field("plates", "integer", DEFAULT_INTENSITY, -1, 10, description=f"plates: {INTENSITY}"),
        *(f for f in blur_fields(settings) if f.name not in NOT_HERE),
    )  # fmt: skip


COUNT = typed(["integer", "null"], "the container's frame count (null: unknown)")
STATUS = open_obj(
    task_id=typed("string"),
    status=typed("string", enum=list(STATUSES)),
    result_url=typed(["string", "null"], "GET it for the video (success)", format="uri"),
    error=typed(["string", "null"], "failed / timeout: why"),
    frames=typed("integer", "frames written so far (all of them on success)", minimum=0),
    frames_total=COUNT,
)
for _name, _schema in (
    ("width", typed("integer")),
    ("height", typed("integer")),
    ("fps", typed("number")),
    ("format", typed("string", enum=list(FORMATS))),
    ("codec", typed("string", "the output's fourcc: mp4v or VP90")),
    ("searched", typed("integer", "frames the finders ran on")),
    ("found", typed("integer", "regions found in them")),
    ("tracks", typed("integer", "objects followed")),
    ("hidden", typed("integer", "regions hidden over every frame")),
    ("variable_frame_rate", typed("boolean", "the input's was (the output's is constant)")),
    ("timings", typed("object", "milliseconds per stage")),
):
    STATUS["properties"][_name] = _schema


def spec(settings: Settings) -> ApiSpec:
    """The video API's description."""
    submit = Operation(
        (VIDEO_PATH,),
        ("POST",),
        "Submit a video to anonymize (an async task)",
        body=Body(("multipart/form-data",), fields(settings)),
        answers=(Answer(202, "queued", obj(task_id=typed("string"),
                                           status_url=typed("string", format="uri"))),),
        errors={**ERRORS, 413: "the body or video is too large (VIDEO_MAX_BYTES, "
                "VIDEO_MAX_FRAMES, MAX_IMAGE_PIXELS)", 503: "the task queue cannot be reached"},
    )  # fmt: skip
    status = Operation(
        (f"{VIDEO_PATH}/<task_id>",),
        ("GET",),
        "A video task's state, progress and result URL",
        parameters=(Field("task_id", location="path", description="from the submission"),),
        answers=(Answer(200, "the task", STATUS),),
        errors={401: ERRORS[401], 403: ERRORS[403], 404: "no such video task (or expired)",
                500: ERRORS[500]},
    )  # fmt: skip
    return ApiSpec(
        "video",
        "Video anonymization: faces and plates hidden in every frame, tracked",
        (submit, status),
        error=PLAIN_ERROR,
        errors=ERRORS,
        security=TOKEN_AUTH,
        secured=bool(settings.api_keys),
        schemas=SCHEMAS,
    )
