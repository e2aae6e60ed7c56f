"""Decode uploads to upright RGB, with integrity checks and limits checked before the raster."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pi_heif
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from blur_sdk.core.image.corrupt import PREFIX as CORRUPT
from blur_sdk.core.image.integrity import check_integrity
from blur_sdk.errors import ImageDecodeError, PayloadTooLargeError

pi_heif.register_heif_opener()  # HEIF/HEIC, decode only (pi-heif: libheif + libde265, LGPL)
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "HEIF")
ORIENTATION_TAG = 0x0112
Image.MAX_IMAGE_PIXELS = None  # our own limit is checked from the header, before decoding


@dataclass(frozen=True)
class ImageLimits:
    """Largest image accepted: total pixels and longest side."""

    max_pixels: int = 50_000_000
    max_side: int = 12_000


@dataclass
class DecodedImage:
    """An upright RGB raster plus what is needed to write it back in its own format."""

    rgb: npt.NDArray[np.uint8]
    format: str
    alpha: npt.NDArray[np.uint8] | None = None
    exif: bytes | None = None
    icc_profile: bytes | None = None
    xmp: bytes | None = None
    extra: dict[str, object] = field(default_factory=dict)
    rotated: bool = False  # EXIF orientation was applied: the raster differs from the file's
    jpeg_sampling: int = -1  # a JPEG's chroma subsampling (Pillow's: 0 4:4:4, 1 4:2:2, 2 4:2:0)

    @property
    def same_as_file(self) -> bool:
        """The file has this raster's geometry for any reader: no EXIF turn; JPEG or PNG."""
        return not self.rotated and self.format in ("JPEG", "PNG")

    @property
    def width(self) -> int:
        """Width in pixels (after EXIF orientation)."""
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels (after EXIF orientation)."""
        return int(self.rgb.shape[0])


def _to_rgb(image: Image.Image) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8] | None]:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raw = np.asarray(image, dtype=np.float64)
        top = raw.max() if raw.max() > 255 else 255.0
        gray = np.clip(raw / max(top, 1.0) * 255.0, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1)), None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # (convert would copy)
    return np.ascontiguousarray(np.asarray(rgb)), None


def decode_image(data: bytes, limits: ImageLimits | None = None) -> DecodedImage:
    """Bytes -> upright RGB; refuses empty, corrupt, unsupported and oversized images.

    A damaged file is refused ("image is corrupt: ..."), never decoded to grey or partial pixels:
    Pillow forgives some damage, so check_integrity walks the file's structure first.
    """
    limits = limits or ImageLimits()
    if not data:
        raise ImageDecodeError("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        check_integrity(data)  # a damaged file of a known format: say what is wrong with it
        raise ImageDecodeError(
            f"not a supported image (supported: {', '.join(SUPPORTED_FORMATS)})"
        ) from e
    fmt = "JPEG" if image.format == "MPO" else str(image.format)  # JPEG opens phones' MPO
    if fmt not in SUPPORTED_FORMATS:
        raise ImageDecodeError(
            f"unsupported image format {fmt} (supported: {', '.join(SUPPORTED_FORMATS)})"
        )
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageDecodeError(f"the image has no pixels ({width}x{height})")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise PayloadTooLargeError(
            f"image is {width}x{height}; the limit is {limits.max_side} px per side and "
            f"{limits.max_pixels} pixels"
        )
    check_integrity(data)
    try:
        image.load()
        exif = image.getexif()
        rotated = exif.get(ORIENTATION_TAG, 1) != 1
        upright = ImageOps.exif_transpose(image) if rotated else image
        rgb, alpha = _to_rgb(upright)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImageDecodeError(f"{CORRUPT}the {fmt} data is truncated or invalid ({e})") from e
    exif_bytes = None
    if len(exif):
        exif[ORIENTATION_TAG] = 1
        exif_bytes = exif.tobytes()
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    icc = image.info.get("icc_profile")
    if isinstance(icc, bytes) and icc[16:20] != b"RGB ":
        icc = None  # a CMYK or grey profile does not describe the RGB pixels written back
    return DecodedImage(
        rgb=rgb,
        format=fmt,
        alpha=alpha,
        exif=exif_bytes,
        icc_profile=icc,
        xmp=xmp.encode() if isinstance(xmp, str) else xmp,
        rotated=rotated,
        jpeg_sampling=JpegImagePlugin.get_sampling(image) if fmt == "JPEG" else -1,
    )


def sniff_format(data: bytes) -> str | None:
    """The format the image's header names (no pixels decoded); None if unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except Exception:  # noqa: BLE001  (decode_image refuses it properly later)
        return None
