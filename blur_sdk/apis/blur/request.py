"""Turn a Blur API form (Plate Recognizer's field names) into a validated core Job."""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import numpy.typing as npt
from werkzeug.datastructures import FileStorage

from blur_sdk.apis.snapshot.config import plate_config
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.pipeline import Exclusions, Job, intensity_job
from blur_sdk.core.plates.regions import validate_codes
from blur_sdk.core.redact.logo import load_logo
from blur_sdk.core.regex_guard import compile_regexes
from blur_sdk.errors import ConfigError, InputError, PayloadTooLargeError
from blur_sdk.options import face_options, image_limits
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings

Logo = npt.NDArray[np.uint8]
LOGO_PREFIX = "logos"
DEFAULT_LOGO = "logo.png"
MAX_LOGO_BYTES = 10 * 1024 * 1024
MAX_SPLIT = 32
MAX_TEXT_FORMATS = 64
MAX_OVERLAP = 90.0
MAX_COORDINATE = 1_000_000.0
BOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")
MARGIN_FIELDS = (("et", "top"), ("el", "left"), ("eb", "bottom"), ("er", "right"))


@dataclass(frozen=True)
class BlurDefaults:
    """What the environment sets, validated and loaded once per worker (never written later)."""

    logo: Logo | None
    skip_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> BlurDefaults:
        """Load LOGO and compile SKIP_REGEXP; a bad value is a ConfigError naming it."""
        try:
            logo = resolve_logo(settings.logo, settings.logos_dir) if settings.logo else None
            patterns = compile_regexes(list(settings.skip_regexp), "SKIP_REGEXP")
            validate_codes(settings.regions, "REGIONS")
            plate_config(settings.config, MAX_TEXT_FORMATS, "CONFIG")
        except InputError as e:
            message = str(e).replace("logo:", "LOGO:", 1)
            raise ConfigError(message) from e
        return cls(logo=logo, skip_patterns=tuple(patterns))


def logo_path(value: str, logos_dir: Path) -> Path:
    """The file a logo path names: "/logos/x.png", "logos/x.png" or "x.png", inside logos_dir.

    The folder itself ("/logos/") names its default logo, logo.png.
    """
    text = value.strip().replace("\\", "/")
    if "\x00" in text:
        raise InputError("logo: the path contains a NUL character", "logo")
    parts = PurePosixPath(text).parts
    if parts[:1] == ("/",):
        if parts[1:2] != (LOGO_PREFIX,):
            raise InputError(f"logo: {value!r} is outside /logos (give /logos/<file>)", "logo")
        parts = parts[2:]
    elif parts[:1] == (LOGO_PREFIX,):
        parts = parts[1:]
    if any(p in ("..", ".") or ":" in p for p in parts):
        raise InputError(f"logo: {value!r} is outside /logos (no '..' allowed)", "logo")
    root = logos_dir.resolve()
    path = (root.joinpath(*parts) if parts else root).resolve()
    if path == root:
        path = root / DEFAULT_LOGO
    if not path.is_relative_to(root):
        raise InputError(f"logo: {value!r} is outside /logos", "logo")
    if not path.is_file():
        raise InputError(f"logo: {value!r} not found in /logos", "logo")
    return path


@functools.lru_cache(maxsize=16)
def _load_logo_file(path: Path, mtime_ns: int, size: int) -> Logo:
    if size > MAX_LOGO_BYTES:
        raise InputError(f"logo: {path.name} is larger than {MAX_LOGO_BYTES} bytes", "logo")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"logo: {path.name} cannot be read: {e.strerror}", "logo") from e
    logo = load_logo(data)
    logo.flags.writeable = False  # cached and shared by threads: read-only
    return logo


def resolve_logo(value: str, logos_dir: Path) -> Logo:
    """Load the logo a path under logos_dir names (decoded once per file version)."""
    path = logo_path(value, logos_dir)
    stat = path.stat()
    return _load_logo_file(path, stat.st_mtime_ns, stat.st_size)


def _regions(form: Form, settings: Settings) -> tuple[str, ...]:
    if form.has("regions"):
        return validate_codes(form.texts("regions"))
    return validate_codes(settings.regions, "REGIONS")


def _exclusions(form: Form) -> Exclusions:
    margins = {attr: form.number(name, 0.0, 0.0, 100.0) for name, attr in MARGIN_FIELDS}
    columns = {name: form.numbers(name, -MAX_COORDINATE, MAX_COORDINATE) for name in BOX_FIELDS}
    counts = {name: len(values) for name, values in columns.items()}
    if len(set(counts.values())) > 1:
        given = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise InputError(
            f"xmin/ymin/xmax/ymax: incomplete exclusion box(es): got {given}; "
            "send the same number of each",
            "xmin",
        )
    boxes = []
    for i, (x0, y0, x1, y1) in enumerate(zip(*columns.values(), strict=True)):
        if x1 <= x0 or y1 <= y0:
            field = "xmax" if x1 <= x0 else "ymax"
            raise InputError(
                f"{field}: exclusion box #{i + 1} is inverted or empty "
                f"(xmin={x0:g}, ymin={y0:g}, xmax={x1:g}, ymax={y1:g})",
                field,
            )
        boxes.append((x0, y0, x1, y1))
    return Exclusions(boxes=tuple(boxes), **margins)


def _skip_patterns(form: Form, defaults: BlurDefaults) -> tuple[re.Pattern[str], ...]:
    if not form.has("skip_regexp"):
        return defaults.skip_patterns
    patterns = [v.strip() for v in form.values.getlist("skip_regexp") if v.strip()]
    return tuple(compile_regexes(patterns, "skip_regexp"))


def _logo(
    form: Form, upload: FileStorage | None, settings: Settings, defaults: BlurDefaults
) -> Logo | None:
    if upload is not None:
        data = upload.stream.read(MAX_LOGO_BYTES + 1)
        if len(data) > MAX_LOGO_BYTES:
            raise PayloadTooLargeError(f"logo: larger than {MAX_LOGO_BYTES} bytes", "logo")
        if data or upload.filename:  # a form's empty file input sends neither: not a logo
            return load_logo(data)
    if form.has("logo"):
        value = form.text("logo")
        return resolve_logo(value, settings.logos_dir) if value else None
    return defaults.logo


def parse_blur_request(
    form: Form,
    *,
    settings: Settings,
    defaults: BlurDefaults,
    logo_upload: FileStorage | None = None,
) -> Job:
    """Validate every Blur API field (env settings as defaults) into one core Job.

    faces / plates: -1 not searched, 0 found only, 1..10 hidden at that intensity. The upload
    itself is read later; with_snapshot_filename then adds its name.
    """
    faces = form.integer("faces", settings.faces, -1, 10)
    plates = form.integer("plates", settings.plates, -1, 10)
    config = {**settings.config, **form.json_object("config")}
    max_resolution = form.integer("face_max_resolution", settings.face_max_resolution, 64, 8192)
    split = form.integer("split", 1, 0, MAX_SPLIT)
    overlap = form.number("overlap", 20.0, 0.0, MAX_OVERLAP)
    logo = _logo(form, logo_upload, settings, defaults)
    faces_opts = face_options(settings, max_resolution)
    plate_opts = PlateOptions(
        regions=_regions(form, settings),
        forward={
            "camera_id": form.text("camera_id", settings.camera_id),
            "filename": form.text("snapshot_filename"),
            "config": config,
        },
        **plate_config(config, MAX_TEXT_FORMATS),
    )
    return intensity_job(
        faces,
        plates,
        face_options=faces_opts,
        plate_options=plate_opts,
        style=settings.blur_style,
        plate_margin=settings.plate_margin,
        logo=logo,
        face_shape=settings.shape,
        skip_patterns=_skip_patterns(form, defaults),
        exclusions=_exclusions(form),
        split=max(split, 1),
        overlap=overlap,
        copy_metadata=form.boolean("copy_metadata", settings.copy_metadata),
        jpeg_quality=settings.jpeg_quality,
        limits=image_limits(settings),
        timeout=settings.request_timeout,
    )


def with_snapshot_filename(job: Job, filename: str) -> Job:
    """The job with Snapshot's filename defaulting to the upload's (snapshot_filename wins)."""
    if job.plates is None or job.plates.forward.get("filename"):
        return job
    options = dataclasses.replace(job.plates, forward={**job.plates.forward, "filename": filename})
    return dataclasses.replace(job, plates=options)
