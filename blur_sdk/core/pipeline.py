"""The core pipeline: bytes -> decode -> find regions -> exclude/skip -> redact -> encode, timed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import FaceOptions, PlateDetection, PlateOptions
from blur_sdk.core.find.engine import Detections, Engine
from blur_sdk.core.geometry import Box
from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.image.encode import encode_image, output_format
from blur_sdk.core.image.output import OutputOptions, encode_output
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.redact import Redaction, redact
from blur_sdk.core.regions import FACE, PLATE, Region, face_region, plate_region
from blur_sdk.errors import ProcessingTimeoutError


@dataclass(frozen=True)
class Exclusions:
    """Margins (percent of height/width) and boxes (pixels) where nothing is blurred."""

    top: float = 0.0
    left: float = 0.0
    bottom: float = 0.0
    right: float = 0.0
    boxes: tuple[Box, ...] = ()

    def excludes(self, box: Box, width: int, height: int) -> bool:
        """Whether a detection's centre lies in an excluded margin or box."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if cy < height * self.top / 100 or cy > height * (1 - self.bottom / 100):
            return True
        if cx < width * self.left / 100 or cx > width * (1 - self.right / 100):
            return True
        return any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in self.boxes)


@dataclass(frozen=True)
class Job:
    """What one request asks of the core: which kinds to find, how to hide each, the output.

    A kind with no finder options is not searched; a kind absent from `redact` is found and
    answered but not hidden. With nothing to hide no image is encoded.
    """

    faces: FaceOptions | None = None
    plates: PlateOptions | None = None
    redact: Mapping[str, Redaction] = field(default_factory=dict)
    face_shape: str = "ellipse"
    skip_patterns: tuple[re.Pattern[str], ...] = ()
    exclusions: Exclusions = field(default_factory=Exclusions)
    split: int = 1
    overlap: float = 20.0
    copy_metadata: bool = False
    jpeg_quality: int = 95
    limits: ImageLimits = field(default_factory=ImageLimits)
    timeout: float | None = None
    output: OutputOptions | None = None  # size, format, byte budget; None: as the input


def intensity_job(
    faces: int = 0,
    plates: int = 0,
    *,
    face_options: FaceOptions | None = None,
    plate_options: PlateOptions | None = None,
    style: str = "blur",
    plate_margin: float = 0.3,
    logo: npt.NDArray[np.uint8] | None = None,
    **rest: Any,
) -> Job:
    """A Job in intensities per kind: -1 not searched, 0 found only, 1..10 hidden that much
    (plates covered by `logo` when one is given); `rest` are Job's other fields."""
    redact: dict[str, Redaction] = {}
    if faces > 0:
        redact[FACE] = Redaction(style, faces)
    if plates > 0:
        redact[PLATE] = Redaction("logo" if logo is not None else style, plates, plate_margin, logo)
    return Job(
        faces=(face_options or FaceOptions()) if faces >= 0 else None,
        plates=(plate_options or PlateOptions()) if plates >= 0 else None,
        redact=redact,
        **rest,
    )


@dataclass
class Result:
    """What was found (regions, in finding order), the encoded output and stage timings."""

    width: int
    height: int
    regions: list[Region] = field(default_factory=list)
    image: bytes | None = None  # None when the job hides nothing
    content_type: str = ""
    format: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Region]:
        """The regions of one kind."""
        return [r for r in self.regions if r.kind == kind]


def _matches(plate: PlateDetection, patterns: tuple[re.Pattern[str], ...]) -> bool:
    readings = [plate.text, *(text for text, _ in plate.candidates[:1])]
    short = [text for text in readings if text and len(text) <= plate_text.MAX_MATCH_CHARS]
    return any(p.search(text) for p in patterns for text in short)


def deadline_checker(timeout: float | None, started: float) -> Callable[[str], None]:
    """A check to call after each stage: raises ProcessingTimeoutError once `timeout` is over."""
    deadline = started + timeout if timeout else None

    def check(stage: str) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise ProcessingTimeoutError(
                f"processing took longer than the REQUEST_TIMEOUT of {timeout:g} s "
                f"(stopped after {stage})"
            )

    return check


@dataclass
class PlateReading:
    """What the plate reader found in one image, with its size and stage timings."""

    width: int
    height: int
    plates: list[PlateDetection]
    timings: dict[str, float]


def read_plates(
    engine: Engine,
    data: bytes,
    options: PlateOptions,
    limits: ImageLimits,
    timeout: float | None = None,
) -> PlateReading:
    """Decode and read plates only (the Snapshot service's pipeline)."""
    started = time.perf_counter()
    check_deadline = deadline_checker(timeout, started)
    decoded = decode_image(data, limits)
    decode_ms = (time.perf_counter() - started) * 1000
    check_deadline("decode")
    found = engine.detect(decoded.rgb, plate_options=options)
    check_deadline("detection")
    timings = {"decode_ms": decode_ms, **found.timings}
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    return PlateReading(decoded.width, decoded.height, found.plates, timings)


def job_regions(found: Detections, job: Job, width: int, height: int) -> list[Region]:
    """The regions of what was found in an image of this size: excluded ones left out, plates
    matching skip_patterns marked skipped; faces first, in finding order."""
    excl = job.exclusions
    return [
        face_region(f, job.face_shape)
        for f in found.faces
        if not excl.excludes(f.region, width, height)
    ] + [
        plate_region(p, skipped=_matches(p, job.skip_patterns))
        for p in found.plates
        if not excl.excludes(p.box, width, height)
    ]


def hide_regions(
    rgb: npt.NDArray[np.uint8], regions: list[Region], job: Job, *, owned: bool = False
) -> npt.NDArray[np.uint8]:
    """The image with the regions of each kind in job.redact hidden (skipped ones left): in at
    most one copy of it, none when the caller owns it (`owned`: written over)."""
    for kind, redaction in job.redact.items():
        hidden = [r for r in regions if r.kind == kind and not r.skipped]
        if hidden:
            rgb = redact(rgb, hidden, redaction, in_place=owned)
            owned = True  # (the copy just made is ours)
    return rgb


def anonymize(engine: Engine, data: bytes, job: Job) -> Result:
    """Run the whole pipeline on one image's bytes: decode, find, exclude/skip, redact, encode."""
    started = time.perf_counter()
    check_deadline = deadline_checker(job.timeout, started)
    decoded = decode_image(data, job.limits)
    width, height = decoded.width, decoded.height
    result = Result(width=width, height=height, format=output_format(decoded.format))
    result.timings["decode_ms"] = (time.perf_counter() - started) * 1000
    check_deadline("decode")
    plate_options = job.plates
    if plate_options is not None and decoded.same_as_file:
        plate_options = replace(plate_options, source=data)
    found = engine.detect(
        decoded.rgb,
        face_options=job.faces,
        plate_options=plate_options,
        split=job.split,
        overlap=job.overlap,
    )
    result.timings.update(found.timings)
    check_deadline("detection")
    result.regions = job_regions(found, job, width, height)
    if not job.redact:
        return result
    render_started = time.perf_counter()
    owned = bool(decoded.rgb.flags.writeable)  # (decoded here: ours, unless Pillow's read-only)
    rgb = hide_regions(decoded.rgb, result.regions, job, owned=owned)
    result.timings["render_ms"] = (time.perf_counter() - render_started) * 1000
    encode_started = time.perf_counter()
    if job.output is None:
        result.image, result.content_type = encode_image(
            decoded, rgb, quality=job.jpeg_quality, copy_metadata=job.copy_metadata
        )
    else:
        result.image, result.content_type, result.format = encode_output(
            decoded, rgb, job.output, quality=job.jpeg_quality, copy_metadata=job.copy_metadata
        )
    result.timings["encode_ms"] = (time.perf_counter() - encode_started) * 1000
    result.timings["total_ms"] = (time.perf_counter() - started) * 1000
    return result
