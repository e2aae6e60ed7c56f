"""The watermark-removal pipeline: bytes -> decode -> mask (given or found) -> inpaint -> encode.

When no mask is given and the finder finds nothing, the input bytes come back untouched: a
removal never damages a picture it cannot fix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.image.encode import CONTENT_TYPES, encode_image, output_format
from blur_sdk.core.pipeline import deadline_checker
from blur_sdk.core.redact.inpaint import Mask8, inpaint
from blur_sdk.core.regions import Region
from blur_sdk.core.watermark.smear import smear_mask

if TYPE_CHECKING:
    from blur_sdk.core.find.base import RGBImage
    from blur_sdk.core.watermark.finder import TextMark, WatermarkFinding, WatermarkOptions


class WatermarkSource(Protocol):
    """What finds watermarks in an image (WatermarkFinder; a fake in tests)."""

    def find(self, rgb: RGBImage, options: WatermarkOptions | None = None) -> WatermarkFinding:
        """The watermarks found: their mask, texts, logos and regions."""
        ...


@dataclass(frozen=True)
class RemovalJob:
    """What one removal asks: a smear mask, or automatic finding; how to fill; the limits."""

    smear: bytes | None = None  # the client's mask image; None: find the watermarks
    find: WatermarkOptions | None = None  # finder options (None: the finder's defaults)
    mask: Mask8 | None = None  # a mask already built (e.g. from rectangles); wins over smear
    method: str = "patchmatch"  # a registered inpainter
    limits: ImageLimits = field(default_factory=ImageLimits)
    timeout: float | None = None
    jpeg_quality: int = 95
    format: str | None = None  # output format; None: the input's


@dataclass
class RemovalResult:
    """The cleaned image (or the input, unchanged), what was filled and where, stage timings."""

    width: int
    height: int
    image: bytes
    content_type: str
    format: str
    changed: bool  # False: nothing to remove, `image` is the input as it came
    mask_pixels: int = 0
    regions: list[Region] = field(default_factory=list)
    texts: list[TextMark] = field(default_factory=list)
    mask: Mask8 | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def remove_watermarks(
    finder: WatermarkSource | None, data: bytes, job: RemovalJob, *, fill: bool = True
) -> RemovalResult:
    """Remove the watermarks the job's mask marks, or those the finder finds (fill=False: only
    find and report them; the image comes back unchanged)."""
    started = time.perf_counter()
    check_deadline = deadline_checker(job.timeout, started)
    decoded = decode_image(data, job.limits)
    width, height = decoded.width, decoded.height
    timings = {"decode_ms": _ms(started)}
    check_deadline("decode")
    texts: list[TextMark] = []
    regions: list[Region] = []
    stage = time.perf_counter()
    if job.mask is not None:
        mask = job.mask
    elif job.smear is not None:
        mask = smear_mask(job.smear, width, height, job.limits)
    else:
        if finder is None:
            raise ValueError("automatic watermark finding needs a WatermarkFinder")
        finding = finder.find(decoded.rgb, job.find)
        mask, texts, regions = finding.mask, finding.texts, finding.regions
    timings["find_ms"] = _ms(stage)
    check_deadline("finding")
    pixels = int(np.count_nonzero(mask))
    fmt = job.format or output_format(decoded.format)
    if not fill or pixels == 0:
        same = job.format is None or fmt == output_format(decoded.format)
        image, content_type = (
            (data, CONTENT_TYPES[fmt])
            if same
            else encode_image(decoded, decoded.rgb, quality=job.jpeg_quality, fmt=fmt)
        )
        timings["total_ms"] = _ms(started)
        return RemovalResult(
            width, height, image, content_type, fmt, False, pixels, regions, texts, mask, timings
        )
    stage = time.perf_counter()
    rgb = inpaint(decoded.rgb, mask, job.method)
    timings["inpaint_ms"] = _ms(stage)
    check_deadline("inpainting")
    stage = time.perf_counter()
    image, content_type = encode_image(decoded, rgb, quality=job.jpeg_quality, fmt=fmt)
    timings["encode_ms"] = _ms(stage)
    timings["total_ms"] = _ms(started)
    return RemovalResult(
        width, height, image, content_type, fmt, True, pixels, regions, texts, mask, timings
    )
