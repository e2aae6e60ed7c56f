"""The core pipeline: bytes -> decode -> detect -> exclude/skip -> render -> encode, timed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import (
    Box,
    FaceDetection,
    FaceOptions,
    PlateDetection,
    PlateOptions,
)
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.image.decode import ImageLimits, decode_image, encode_image, output_format
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.redact import blur as render
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
class BlurRequest:
    """Everything one request asks for; intensities: -1 skip, 0 detect only, 1..10 blur."""

    face_intensity: int = 0
    plate_intensity: int = 0
    shape: str = "ellipse"
    style: str = "blur"  # blur, pixelate or fill (render.STYLES)
    logo: npt.NDArray[np.uint8] | None = None
    skip_patterns: tuple[re.Pattern[str], ...] = ()
    exclusions: Exclusions = field(default_factory=Exclusions)
    split: int = 1
    overlap: float = 20.0
    copy_metadata: bool = False
    jpeg_quality: int = 95
    plate_margin: float = 0.3
    face_options: FaceOptions = field(default_factory=FaceOptions)
    plate_options: PlateOptions = field(default_factory=PlateOptions)
    limits: ImageLimits = field(default_factory=ImageLimits)
    timeout: float | None = None


@dataclass
class PlateOutcome:
    """A plate and whether skip_regexp kept it unblurred."""

    plate: PlateDetection
    skipped: bool = False


@dataclass
class BlurResult:
    """What was found, the encoded output (None when nothing is blurred) and stage timings."""

    width: int
    height: int
    faces: list[FaceDetection] = field(default_factory=list)
    plates: list[PlateOutcome] = field(default_factory=list)
    image: bytes | None = None
    content_type: str = ""
    format: str = ""
    timings: dict[str, float] = field(default_factory=dict)


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


def anonymize(engine: Engine, data: bytes, request: BlurRequest) -> BlurResult:
    """Run the whole pipeline on one image's bytes."""
    started = time.perf_counter()
    check_deadline = deadline_checker(request.timeout, started)
    decoded = decode_image(data, request.limits)
    width, height = decoded.width, decoded.height
    result = BlurResult(width=width, height=height, format=output_format(decoded.format))
    result.timings["decode_ms"] = (time.perf_counter() - started) * 1000
    check_deadline("decode")
    plate_options = request.plate_options
    if decoded.same_as_file:
        plate_options = replace(plate_options, source=data)
    found = engine.detect(
        decoded.rgb,
        face_options=request.face_options if request.face_intensity >= 0 else None,
        plate_options=plate_options if request.plate_intensity >= 0 else None,
        split=request.split,
        overlap=request.overlap,
    )
    result.timings.update(found.timings)
    check_deadline("detection")
    excl = request.exclusions
    result.faces = [f for f in found.faces if not excl.excludes(f.region, width, height)]
    result.plates = [
        PlateOutcome(p, skipped=_matches(p, request.skip_patterns))
        for p in found.plates
        if not excl.excludes(p.box, width, height)
    ]
    if max(request.face_intensity, request.plate_intensity) <= 0:
        return result
    render_started = time.perf_counter()
    rgb = decoded.rgb
    polygons = [np.array(o.plate.polygon) for o in result.plates if not o.skipped]
    if request.plate_intensity > 0 and polygons:
        if request.logo is not None:
            rgb = render.cover_with_logo(rgb, polygons, request.logo, request.plate_margin)
        else:
            rgb = render.blur_plates(
                rgb, polygons, request.plate_intensity, request.plate_margin, request.style
            )
    if request.face_intensity > 0 and result.faces:
        regions = [f.region for f in result.faces]
        rgb = render.blur_faces(
            rgb, regions, request.face_intensity, request.shape, style=request.style
        )
    result.timings["render_ms"] = (time.perf_counter() - render_started) * 1000
    encode_started = time.perf_counter()
    result.image, result.content_type = encode_image(
        decoded, rgb, quality=request.jpeg_quality, copy_metadata=request.copy_metadata
    )
    result.timings["encode_ms"] = (time.perf_counter() - encode_started) * 1000
    result.timings["total_ms"] = (time.perf_counter() - started) * 1000
    return result
