"""Output options: size (one side keeps the aspect; both: cover, then centre-crop), format, and
a best-effort byte budget (lower quality first, then smaller), never an error."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.image.decode import DecodedImage
from blur_sdk.core.image.encode import CONTENT_TYPES, encode_image, output_format

Image8 = npt.NDArray[np.uint8]
QUALITY_STEPS = (85, 75, 65, 50, 35, 20)  # tried in order (JPEG, WEBP) before downscaling
DOWNSCALE_STEP = 0.8  # then each try is this much smaller, down to MIN_SIDE
MIN_SIDE = 16
MAX_OUTPUT_SIDE = 20_000


@dataclass(frozen=True)
class OutputOptions:
    """How the redacted image is written (detection always runs on the original)."""

    format: str | None = None  # JPEG, PNG or WEBP; None: the input's (encode.output_format)
    width: int | None = None  # pixels; one of width/height: the aspect is kept
    height: int | None = None
    max_bytes: int | None = None  # best effort: at most this many bytes where possible

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in CONTENT_TYPES:
            raise ValueError(f"format must be one of {sorted(CONTENT_TYPES)}, got {self.format}")
        for side in (self.width, self.height):
            if side is not None and not 1 <= side <= MAX_OUTPUT_SIDE:
                raise ValueError(f"width and height must be in 1..{MAX_OUTPUT_SIDE}, got {side}")
        if self.max_bytes is not None and self.max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {self.max_bytes}")


def target_size(width: int, height: int, options: OutputOptions) -> tuple[int, int, int, int]:
    """(scaled width, scaled height, crop width, crop height) for an image of width x height."""
    if options.width is None and options.height is None:
        return width, height, width, height
    if options.width is not None and options.height is not None:
        scale = max(options.width / width, options.height / height)  # cover both, then crop
        scaled = (
            max(options.width, round(width * scale)),
            max(options.height, round(height * scale)),
        )
        return (*scaled, options.width, options.height)
    if options.width is not None:
        new_h = max(1, round(height * options.width / width))
        return options.width, new_h, options.width, new_h
    assert options.height is not None
    new_w = max(1, round(width * options.height / height))
    return new_w, options.height, new_w, options.height


def _resample(plane: Image8, size: tuple[int, int]) -> Image8:
    h, w = plane.shape[:2]
    interpolation = cv2.INTER_AREA if size[0] * size[1] < w * h else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(plane, size, interpolation=interpolation), dtype=np.uint8)


def resized(decoded: DecodedImage, rgb: Image8, options: OutputOptions) -> DecodedImage:
    """The decoded image (metadata kept) holding `rgb` (and its alpha) at the output size."""
    height, width = rgb.shape[:2]
    sw, sh, cw, ch = target_size(width, height, options)
    alpha = decoded.alpha
    if (sw, sh) != (width, height):
        rgb = _resample(rgb, (sw, sh))
        alpha = _resample(alpha, (sw, sh)) if alpha is not None else None
    x0, y0 = (sw - cw) // 2, (sh - ch) // 2
    rgb = np.ascontiguousarray(rgb[y0 : y0 + ch, x0 : x0 + cw])
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha[y0 : y0 + ch, x0 : x0 + cw])
    return dataclasses.replace(decoded, rgb=rgb, alpha=alpha)


def encode_output(
    decoded: DecodedImage,
    rgb: Image8,
    options: OutputOptions,
    *,
    quality: int = 95,
    copy_metadata: bool = False,
) -> tuple[bytes, str, str]:
    """(bytes, content type, format) of the redacted raster written as the options say."""
    fmt = options.format or output_format(decoded.format)
    image = resized(decoded, rgb, options)

    def encode(img: DecodedImage, q: int) -> tuple[bytes, str]:
        return encode_image(img, img.rgb, quality=q, copy_metadata=copy_metadata, fmt=fmt)

    data, content_type = encode(image, quality)
    budget = options.max_bytes
    if budget is None or len(data) <= budget:
        return data, content_type, fmt
    steps = [q for q in QUALITY_STEPS if q < quality] if fmt in ("JPEG", "WEBP") else []
    for q in steps:  # lower quality first
        data, content_type = encode(image, q)
        if len(data) <= budget:
            return data, content_type, fmt
    q = steps[-1] if steps else quality
    while len(data) > budget and min(image.rgb.shape[:2]) * DOWNSCALE_STEP >= MIN_SIDE:
        width = image.rgb.shape[1]  # then smaller, a step at a time, at the lowest quality
        smaller = OutputOptions(width=max(1, math.floor(width * DOWNSCALE_STEP)))
        image = resized(image, image.rgb, smaller)
        data, content_type = encode(image, q)
    return data, content_type, fmt
