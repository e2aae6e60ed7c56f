"""Turn Watermarkly's query parameters into a validated core Job (and fetch the logo).

blur_intensity (0.0..20.0, default 1.0) maps onto the core's 1..10, where 1 already hides:
core = clamp(round(1 + (v - 1) * 9 / 19), 1, 10) for v > 0 (1.0 -> 1, 20.0 -> 10); 0.0 means no
blur at all, a logo_url is still drawn over the plates.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from dataclasses import dataclass

from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.image.decode import ImageLimits, sniff_format
from blur_sdk.core.image.output import MAX_OUTPUT_SIDE, OutputOptions
from blur_sdk.core.pipeline import Job
from blur_sdk.core.redact import Image8, Redaction
from blur_sdk.core.redact.logo import load_logo
from blur_sdk.core.regions import FACE, PLATE
from blur_sdk.errors import InputError, PayloadTooLargeError
from blur_sdk.options import face_options
from blur_sdk.server.form import Form
from blur_sdk.server.url_fetch import fetch_image_bytes
from blur_sdk.settings import Settings

MAX_INTENSITY = 20.0
FORMATS = ("JPEG", "PNG", "WEBP")
FORMAT_ALIASES = {"JPG": "JPEG"}
AS_JPEG = ("AVIF", "HEIF")  # inputs answered as JPEG unless a format is asked
MAX_LOGO_BYTES = 10 * 1024 * 1024
MAX_FILE_SIZE = 1 << 40
_DATA_URL = re.compile(
    r"data:(?P<type>[\w.+/-]*)(?P<params>(?:;[^,;]*)*?);base64,(?P<data>.*)", re.S
)


def core_intensity(value: float) -> int:
    """Watermarkly's blur_intensity (0..20) as the core's 1..10; 0 for no blur."""
    if value <= 0:
        return 0
    return max(1, min(10, round(1 + (value - 1) * 9 / 19)))


@dataclass(frozen=True)
class Params:
    """The validated query parameters (nothing fetched yet)."""

    url: str
    blur_intensity: float
    output: OutputOptions
    logo_url: str
    logo_size: float
    plate_screws: bool


def _format(form: Form) -> str | None:
    raw = form.text("format")
    if not raw:
        return None
    name = raw.upper()
    name = FORMAT_ALIASES.get(name, name)
    if name not in FORMATS:
        raise InputError(f"format: {raw[:40]!r} is not supported (use JPEG, PNG or WEBP)", "format")
    return name


def _optional_int(form: Form, name: str, lo: int, hi: int) -> int | None:
    if not form.has(name) or form.text(name) == "":
        return None
    return form.integer(name, 0, lo, hi)


def parse_params(form: Form) -> Params:
    """Every parameter checked (a refusal names it) before anything is fetched or decoded."""
    logo_url = form.text("logo_url")
    if logo_url and not logo_url.lower().startswith(("http://", "https://", "data:")):
        raise InputError("logo_url: expected an http(s) URL or a data: URL", "logo_url")
    output = OutputOptions(
        format=_format(form),
        width=_optional_int(form, "width", 1, MAX_OUTPUT_SIDE),
        height=_optional_int(form, "height", 1, MAX_OUTPUT_SIDE),
        max_bytes=_optional_int(form, "file_size", 1, MAX_FILE_SIZE),
    )
    return Params(
        url=form.text("url"),
        blur_intensity=form.number("blur_intensity", 1.0, 0.0, MAX_INTENSITY),
        output=output,
        logo_url=logo_url,
        logo_size=form.number("logo_size", 1.0, 0.1, 1.0),
        plate_screws=form.boolean("plate_screws", False),
    )


def _data_url_bytes(url: str) -> bytes:
    match = _DATA_URL.fullmatch(url.strip())
    if match is None:
        raise InputError(
            "logo_url: a data: URL must be base64 (data:image/png;base64,...)", "logo_url"
        )
    text = re.sub(r"\s+", "", match["data"]).replace("-", "+").replace("_", "/")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError("logo_url: the data: URL is not valid base64", "logo_url") from e
    if len(data) > MAX_LOGO_BYTES:
        raise PayloadTooLargeError(f"logo_url: larger than {MAX_LOGO_BYTES} bytes", "logo_url")
    return data


def fetch_logo(url: str, settings: Settings) -> Image8:
    """The logo a logo_url names (http(s) under the URL rules, or data:), as RGBA."""
    if url.lower().startswith("data:"):
        data = _data_url_bytes(url)
    else:
        limited = dataclasses.replace(
            settings, max_upload_bytes=min(settings.max_upload_bytes, MAX_LOGO_BYTES)
        )
        data, _ = fetch_image_bytes(url, limited, field="logo_url")
    try:
        return load_logo(data)
    except InputError as e:
        raise InputError(str(e).replace("logo:", "logo_url:", 1), "logo_url") from e


def build_job(params: Params, settings: Settings, data: bytes, logo: Image8 | None) -> Job:
    """The core Job: faces and plates hidden as blur_intensity says, plates under the logo."""
    level = core_intensity(params.blur_intensity)
    redact: dict[str, Redaction] = {}
    if level:
        redact[FACE] = Redaction(settings.blur_style, level)
    if logo is not None:
        redact[PLATE] = Redaction(
            "logo", level or 10, settings.plate_margin, logo,
            logo_size=params.logo_size, screws=params.plate_screws,
        )  # fmt: skip
    elif level:
        redact[PLATE] = Redaction(settings.blur_style, level, settings.plate_margin)
    output = params.output
    if output.format is None and sniff_format(data) in AS_JPEG:
        output = dataclasses.replace(output, format="JPEG")
    return Job(
        faces=face_options(settings) if FACE in redact else None,
        plates=PlateOptions(regions=settings.regions) if PLATE in redact else None,
        redact=redact,
        face_shape=settings.shape,
        jpeg_quality=settings.jpeg_quality,
        limits=ImageLimits(
            max_pixels=settings.max_image_pixels, max_side=settings.watermarkly_max_side
        ),
        timeout=settings.request_timeout,
        output=output,
    )
