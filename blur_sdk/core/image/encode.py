"""Encode processed rasters back to the upload's format (JPEG, PNG, WEBP; others as PNG)."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image

from blur_sdk.core.image.decode import DecodedImage

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def output_format(input_format: str) -> str:
    """JPEG stays JPEG, PNG stays PNG, WEBP stays WEBP; other formats are written as PNG."""
    return input_format if input_format in CONTENT_TYPES else "PNG"


def encode_image(
    decoded: DecodedImage,
    rgb: npt.NDArray[np.uint8],
    *,
    quality: int = 95,
    copy_metadata: bool = False,
    fmt: str | None = None,
) -> tuple[bytes, str]:
    """Encode a processed raster in `fmt` (default: the input's); returns (bytes, content type)."""
    fmt = fmt or output_format(decoded.format)
    image = Image.fromarray(rgb, "RGB")
    if decoded.alpha is not None and fmt != "JPEG":
        image.putalpha(Image.fromarray(decoded.alpha, "L"))
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=False)
    elif fmt == "WEBP":
        options.update(quality=quality)
    elif fmt == "PNG":
        options.update(compress_level=3)
    if copy_metadata:
        if decoded.exif:
            options["exif"] = decoded.exif
        if decoded.icc_profile:
            options["icc_profile"] = decoded.icc_profile
        if decoded.xmp and fmt in ("JPEG", "PNG", "WEBP"):
            options["xmp"] = decoded.xmp
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue(), CONTENT_TYPES[fmt]
