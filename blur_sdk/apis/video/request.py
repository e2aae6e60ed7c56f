"""Turn a POST /v1/video form into a checked submission: the video, the Blur API's fields (they
become the task's Job in the worker), the sampling step, the windows and the output format."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import Request
from werkzeug.datastructures import FileStorage

from blur_sdk.apis.blur.request import (
    MAX_LOGO_BYTES,
    BlurDefaults,
    parse_blur_request,
)
from blur_sdk.core.pipeline import Job
from blur_sdk.core.video.io import SUFFIXES, VideoLimits, VideoReader, sniff_container
from blur_sdk.core.video.process import check_sample, check_windows, output_container
from blur_sdk.core.video.track import MAX_WINDOW, TrackOptions
from blur_sdk.errors import InputError, PayloadTooLargeError
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings

OWN_FIELDS = ("upload", "sample", "format", "look_ahead", "look_behind")  # not the Blur API's
DEFAULT_INTENSITY = 10  # a video is sent to be anonymized: faces and plates hidden unless asked
FORMATS = ("mp4", "webm")


@dataclass(frozen=True)
class VideoRequest:
    """A checked submission (the video itself is checked by probe())."""

    data: bytes
    filename: str
    fields: list[tuple[str, str]]  # the Blur API's fields, as sent (defaults added)
    logo: tuple[str, bytes] | None  # an uploaded logo file
    sample: int
    track: TrackOptions
    format: str | None  # mp4, webm; None: as the input (WebM stays WebM, others become MP4)


def video_limits(settings: Settings) -> VideoLimits:
    """VIDEO_MAX_FRAMES, and MAX_IMAGE_PIXELS per frame."""
    return VideoLimits(max_frames=settings.video_max_frames, max_pixels=settings.max_image_pixels)


def blur_fields(form: Form) -> list[tuple[str, str]]:
    """The Blur API's fields of the form, faces and plates defaulting to DEFAULT_INTENSITY."""
    fields = [(k, v) for k, v in form.values.items(multi=True) if k not in OWN_FIELDS]
    for name in ("faces", "plates"):
        if not form.text(name):
            fields = [(k, v) for k, v in fields if k != name] + [(name, str(DEFAULT_INTENSITY))]
    return fields


def job_of(fields: list[tuple[str, str]], logo: tuple[str, bytes] | None, settings: Settings,
           defaults: BlurDefaults) -> Job:  # fmt: skip
    """The Job the Blur API makes of these fields (checked: InputError naming the field)."""
    from io import BytesIO

    from werkzeug.datastructures import MultiDict

    upload = None
    if logo is not None:
        upload = FileStorage(BytesIO(logo[1]), filename=logo[0], name="logo")
    form = Form(MultiDict(fields), settings)
    return parse_blur_request(form, settings=settings, defaults=defaults, logo_upload=upload)


def _logo(request: Request) -> tuple[str, bytes] | None:
    upload = request.files.get("logo")
    if upload is None:
        return None
    data = upload.stream.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise PayloadTooLargeError(f"logo: larger than {MAX_LOGO_BYTES} bytes", "logo")
    return (upload.filename or "logo.png", data) if data or upload.filename else None


def parse_video_request(
    request: Request, form: Form, settings: Settings, defaults: BlurDefaults
) -> VideoRequest:
    """Every field checked (the Blur API's through its own parser), then the upload read."""
    sample = form.integer("sample", settings.video_sample, 1, 120)
    check_sample(sample)
    window = max(settings.video_window, sample)
    ahead = form.integer("look_ahead", window, 0, MAX_WINDOW)
    behind = form.integer("look_behind", window, 0, MAX_WINDOW)
    track = TrackOptions(look_ahead=ahead, look_behind=behind)
    check_windows(track, sample)
    fmt = form.text("format").lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"format: must be one of {', '.join(FORMATS)}, got {fmt[:20]!r}", "format")
    fields, logo = blur_fields(form), _logo(request)
    job = job_of(fields, logo, settings, defaults)
    if not job.redact:
        raise InputError("faces, plates: nothing to hide (give faces or plates 1..10)", "faces")
    upload = request.files.get("upload")
    if upload is None:
        raise InputError("upload: required (the video file, multipart/form-data)", "upload")
    limit = settings.video_max_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"upload: larger than {limit} bytes (VIDEO_MAX_BYTES)", "upload")
    return VideoRequest(data, upload.filename or "video", fields, logo, sample, track, fmt)


@dataclass(frozen=True)
class Probe:
    """What the first frame and the container say about a submitted video."""

    container: str  # of the input
    output: str  # the container the result is written in
    width: int
    height: int
    fps: float
    frames: int  # the container's count (0: unknown)


def probe(submission: VideoRequest, settings: Settings) -> Probe:
    """Open the video and decode its first frame now: a bad or too large one is refused at
    submission, not in the worker (InputError / PayloadTooLargeError naming `upload`)."""
    container = sniff_container(submission.data[:64])
    if container is None:
        raise InputError("upload: not a video (expected MP4, MOV, MKV, WEBM or AVI)", "upload")
    with tempfile.TemporaryDirectory(prefix="video-probe-") as folder:
        path = Path(folder) / f"input{SUFFIXES[container]}"
        path.write_bytes(submission.data)
        try:
            with VideoReader(path, video_limits(settings)) as reader:
                info = reader.info
        except InputError as e:
            raise type(e)(f"upload: {e}", "upload") from e
    output = output_container(container, submission.format)
    return Probe(container, output, info.width, info.height, info.fps, info.frames)
