"""One typed configuration, loaded once from config/*.yaml and environment variables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from blur_sdk import PROJECT_ROOT
from blur_sdk import setting_parsers as parse
from blur_sdk.core.find.config import PLATE_READERS
from blur_sdk.core.models.runner import RELEASES
from blur_sdk.core.redact.blur import FACE_SHAPES, STYLES
from blur_sdk.errors import ConfigError

PRECISIONS = ("auto", "bf16", "f16", "f32", "int8")
INPAINT_METHODS = ("patchmatch", "telea", "ns")
TASK_QUEUES = ("sqlite", "redis")


def _opt(parser: Callable[[Any, str], Any], default: Any, doc: str) -> Any:
    meta = {"parse": parser, "doc": doc}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every setting of the servers and the engine; env var name = field name upper-cased."""

    faces: int = _opt(parse.int_in(-1, 10), 0, "Face blur intensity: -1 off, 0 detect only, 1..10")
    plates: int = _opt(
        parse.int_in(-1, 10), 0, "Plate blur intensity: -1 off, 0 detect only, 1..10"
    )
    shape: str = _opt(parse.choice(FACE_SHAPES), "ellipse", "Face blur shape")
    blur_style: str = _opt(
        parse.choice(STYLES), "blur", "How faces and plates are hidden: blur, pixelate or fill"
    )
    logo: str = _opt(parse.text, "", "Logo file under LOGOS_DIR covering plates instead of blur")
    regions: tuple[str, ...] = _opt(parse.str_list, (), "Comma-separated region hints for Snapshot")
    skip_regexp: tuple[str, ...] = _opt(
        parse.regex_list, (), "Regex (or JSON list of regexes) of plates left unblurred"
    )
    config: dict[str, Any] = _opt(parse.json_object, {}, "JSON object forwarded to Snapshot")
    apis: tuple[str, ...] = _opt(
        parse.api_names,
        ("blur", "watermarkly", "faceblurest", "kaze", "textmark", "video"),
        "APIs served (Blur role): blur, watermarkly, faceblurest, kaze, textmark, video, snapshot",
    )
    sdk_url: str = _opt(parse.url, "", "Snapshot URL; empty = embedded engine")
    camera_id: str = _opt(parse.text, "", "Default camera_id forwarded to Snapshot")
    token: str = _opt(parse.text, "", "Plate Recognizer API token")
    license_key: str = _opt(parse.text, "", "Plate Recognizer licence key")
    copy_metadata: bool = _opt(parse.boolean, False, "Copy EXIF/XMP/ICC into the output")
    face_max_resolution: int = _opt(
        parse.int_in(64, 8192), 1920, "Longest side faces are detected at"
    )
    face_min_resolution: int = _opt(
        parse.int_in(64, 8192), 800, "Smaller images are upscaled to this long side (max 3x)"
    )
    face_coarse_resolution: int = _opt(
        parse.off_or_int_in(320, 8192),
        1280,
        "Larger face inputs: a pass at this long side, then full-resolution tiles (0 = off)",
    )
    plate_max_resolution: int = _opt(
        parse.int_in(320, 4096), 1280, "Longest side plate text is detected at"
    )
    plate_min_resolution: int = _opt(
        parse.int_in(320, 4096), 600, "Short side smaller images are upscaled to for plate text"
    )
    plate_faint_resolution: int = _opt(
        parse.off_or_int_in(160, 4096), 480, "Faint plate text: a copy at this long side (0 = off)"
    )
    platedet_resolution: int = _opt(
        parse.int_in(320, 2048), 512, "Longest side the plate detector (platedet) runs at"
    )
    platedet_threshold: float = _opt(
        parse.float_in(0.05, 1.0), 0.5, "Plate detector score for a plate on its own"
    )
    platedet_confirm_threshold: float = _opt(
        parse.float_in(0.05, 1.0), 0.25, "Plate detector score that confirms a text-found plate"
    )
    platedet_promote_threshold: float = _opt(
        parse.float_in(0.01, 1.0), 0.08, "Plate detector score of a weak hit read as a plate"
    )
    face_threshold: float = _opt(parse.float_in(0.01, 1.0), 0.18, "CenterFace score threshold")
    face_blur_scale: float = _opt(
        parse.float_in(1.0, 3.0), 1.8, "Blur region scale about face centre"
    )
    face_small_blur_scale: float = _opt(
        parse.float_in(1.0, 4.0), 2.4, "Blur region scale for faces <= 12 px high (ramps to 40 px)"
    )
    plate_detectors: tuple[str, ...] = _opt(
        parse.plate_detectors, ("ocr", "platedet"), "Plate sources: ocr (text), platedet, or both"
    )
    plate_reader: str = _opt(
        parse.choice(PLATE_READERS),
        "both",
        "Plate text: both (our recogniser backs PP-OCR where it fits no format) or ppocr",
    )
    plate_margin: float = _opt(parse.float_in(0.0, 1.0), 0.3, "Plate blur margin, fraction of size")
    models_dir: Path = _opt(
        parse.path, PROJECT_ROOT / "models", "Where `make models` puts the models"
    )
    logos_dir: Path = _opt(parse.path, PROJECT_ROOT / "logos", "Folder that logo paths resolve in")
    ov_precision: str = _opt(
        parse.choice(PRECISIONS), "auto", "OpenVINO precision (auto: per model; int8 = auto)"
    )
    ov_threads: int = _opt(parse.int_in(0, 256), 0, "OpenVINO CPU threads per model (0 = all)")
    ov_cpu_pinning: bool = _opt(
        parse.boolean, False, "Pin OpenVINO's threads to cores (off: concurrent requests overlap)"
    )
    ov_dynamic_first_use: bool = _opt(
        parse.boolean, True, "A new shape runs on a dynamic-shape model until its 2nd use"
    )
    ov_release_memory: str = _opt(
        parse.choice(RELEASES), "switch", "Free a shape's buffers (switch: when another runs)"
    )
    ov_max_shapes: int = _opt(
        parse.int_in(1, 64), 8, "Compiled input shapes kept per model (14-48 MB each, + buffers)"
    )
    ov_runtime_cache: int = _opt(
        parse.int_in(0, 100_000), 300, "Kernels kept per dynamic-shape model (shapes seen; memory)"
    )
    warm_up: tuple[tuple[int, int], ...] = _opt(
        parse.sizes, ((800, 600), (1920, 1080)), "Image sizes compiled at start-up (empty = none)"
    )
    max_upload_bytes: int = _opt(parse.int_in(1, None), 25 * 1024 * 1024, "Largest request body")
    max_image_pixels: int = _opt(parse.int_in(1, None), 50_000_000, "Largest image, width x height")
    max_image_side: int = _opt(parse.int_in(1, None), 12_000, "Largest image width or height")
    watermarkly_max_get_bytes: int = _opt(
        parse.int_in(1, None), 20 * 1024 * 1024, "Watermarkly: largest image fetched for GET /blur/"
    )
    watermarkly_max_post_bytes: int = _opt(
        parse.int_in(1, None), 6 * 1024 * 1024, "Watermarkly: largest POST /blur/ body"
    )
    watermarkly_max_side: int = _opt(
        parse.int_in(1, 100_000), 6000, "Watermarkly: largest image width or height"
    )
    faceblurest_users: tuple[str, ...] = _opt(
        parse.str_list, (), "FaceBlurest Basic credentials user:password (empty = open)"
    )
    faceblurest_max_request_bytes: int = _opt(
        parse.int_in(1, None), 5 * 1024 * 1024, "FaceBlurest: largest request body (code 1013)"
    )
    faceblurest_http_errors: bool = _opt(
        parse.boolean, False, "FaceBlurest: errors with their 4xx status instead of HTTP 200"
    )
    max_in_flight: int = _opt(
        parse.int_in(0, 1024), 4, "Requests processed at once per worker; more get 429 (0 = no cap)"
    )
    request_timeout: float = _opt(
        parse.float_in(1.0, 3600.0), 60.0, "Per-request processing timeout (s)"
    )
    upstream_timeout: float = _opt(
        parse.float_in(0.5, 600.0), 30.0, "Timeout for Snapshot calls (s)"
    )
    jpeg_quality: int = _opt(parse.int_in(50, 100), 95, "JPEG quality of blurred output")
    max_repeated_fields: int = _opt(parse.int_in(1, 10_000), 64, "Most values of a repeated field")
    max_field_length: int = _opt(
        parse.int_in(16, 10_000_000), 65_536, "Longest non-file form field"
    )
    url_allow_private: bool = _opt(
        parse.boolean, False, "upload_url may reach loopback/private hosts"
    )
    url_allow_networks: tuple[str, ...] = _opt(
        parse.str_list, (), "CIDRs upload_url may reach anyway"
    )
    url_max_redirects: int = _opt(parse.int_in(0, 20), 3, "Redirects followed for upload_url")
    url_connect_timeout: float = _opt(
        parse.float_in(0.1, 120.0), 5.0, "upload_url connect timeout (s)"
    )
    url_read_timeout: float = _opt(parse.float_in(0.1, 600.0), 15.0, "upload_url read timeout (s)")
    api_keys: tuple[str, ...] = _opt(
        parse.str_list, (), "Comma-separated keys; non-empty = auth on"
    )
    info_requires_auth: bool = _opt(
        parse.boolean, False, "GET /info/ also needs a key when auth is on"
    )
    inpaint_method: str = _opt(
        parse.choice(INPAINT_METHODS), "patchmatch", "Watermark fill: patchmatch, telea, ns"
    )
    watermark_overlay_only: bool = _opt(
        parse.boolean, True, "Automatic removal takes only overlay-like text (not signs, plates)"
    )
    tasks_dir: Path = _opt(
        parse.path, PROJECT_ROOT / "var" / "tasks", "Task state and result files (a volume)"
    )
    task_queue: str = _opt(
        parse.choice(TASK_QUEUES), "sqlite", "Task queue storage: sqlite (in TASKS_DIR) or redis"
    )
    redis_url: str = _opt(parse.text, "", "redis://host:port/db of the shared queue (TASK_QUEUE)")
    task_workers: int = _opt(
        parse.int_in(0, 64), 1, "Task consumer threads per server process (0 = separate workers)"
    )
    task_max_queued: int = _opt(
        parse.int_in(1, 1_000_000), 100, "Tasks waiting at most; more get that API's busy answer"
    )
    task_timeout: float = _opt(
        parse.float_in(1.0, 86400.0), 120.0, "A task processing longer is reported timeout (s)"
    )
    result_retention: float = _opt(
        parse.float_in(60.0, 365 * 86400.0), 86400.0, "Task results are deleted after this (s)"
    )
    public_url: str = _opt(
        parse.url, "", "Base of result URLs (https://host:port); empty = the request's host"
    )
    kaze_quotas: tuple[tuple[str, int], ...] = _opt(
        parse.key_counts, (), "Kaze: per-key task quotas key=count,... (empty = unlimited)"
    )
    textmark_apps: tuple[tuple[str, str], ...] = _opt(
        parse.app_secrets, (), "Text-watermark API: appId:appSecret,... (empty = open)"
    )
    textmark_app_ips: tuple[tuple[str, str], ...] = _opt(
        parse.app_secrets, (), "Text-watermark API: appId:ip|cidr|... allow-lists (empty = any)"
    )
    textmark_qps: int = _opt(
        parse.int_in(0, 100_000), 2, "Text-watermark API: requests per second per app (0 = none)"
    )
    textmark_quotas: tuple[tuple[str, int], ...] = _opt(
        parse.key_counts, (), "Text-watermark API: per-app usage quotas appId=count,..."
    )
    textmark_max_image_bytes: int = _opt(
        parse.int_in(1, None), 4 * 1024 * 1024, "Text-watermark API: largest image"
    )
    textmark_retention: float = _opt(
        parse.float_in(60.0, 30 * 86400.0), 5 * 3600.0, "Text-watermark API: results and cache (s)"
    )
    textmark_tokens_per_day: int = _opt(
        parse.int_in(1, 1_000_000), 100, "Text-watermark API: tokens issued per app per day"
    )
    video_max_bytes: int = _opt(
        parse.int_in(1, None), 500 * 1024 * 1024, "Video API: largest upload (bytes)"
    )
    video_max_frames: int = _opt(
        parse.int_in(1, None), 18_000, "Video API and CLI: most frames of a video"
    )
    video_sample: int = _opt(
        parse.int_in(1, 120), 1, "Video: faces/plates searched every Nth frame"
    )
    video_window: int = _opt(
        parse.int_in(0, 600), 8, "Video: frames before and after a detection hidden too (>= N)"
    )
    license_server_url: str = _opt(
        parse.url, "", "Licence validation endpoint (required with LICENSE_KEY and TOKEN)"
    )
    license_dir: Path = _opt(parse.path, PROJECT_ROOT / "license-state", "Licence state folder")
    license_grace_hours: float = _opt(parse.float_in(0.0, 8760.0), 72.0, "Offline grace period (h)")
    license_check_interval: float = _opt(
        parse.float_in(10.0, 86400.0), 3600.0, "Re-check period (s)"
    )


def _yaml_values(config_dir: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not config_dir.is_dir():
        return values
    for path in sorted(config_dir.glob("*.yaml")):
        if path.name == "models.yaml":
            continue
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: invalid YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of setting names to values")
        section = loaded.get("settings", loaded)
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: 'settings' must be a mapping")
        for key, value in section.items():
            values[str(key).lower()] = (value, f"{path.name}:{key}")
    return values


def load_settings(env: Mapping[str, str] | None = None, config_dir: Path | None = None) -> Settings:
    """Build Settings from defaults, then config/*.yaml, then environment variables."""
    env = os.environ if env is None else env
    config_dir = config_dir or Path(env.get("CONFIG_DIR", PROJECT_ROOT / "config"))
    from_yaml = _yaml_values(config_dir)
    unknown = sorted(set(from_yaml) - {f.name for f in dataclasses.fields(Settings)})
    if unknown:
        raise ConfigError(f"unknown setting(s) in {config_dir}: {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for spec in dataclasses.fields(Settings):
        parse = spec.metadata["parse"]
        env_name = spec.name.upper()
        if env_name in env:
            kwargs[spec.name] = parse(env[env_name], env_name)
        elif spec.name in from_yaml:
            value, where = from_yaml[spec.name]
            kwargs[spec.name] = parse(value, where)
    settings = Settings(**kwargs)
    if settings.task_queue == "redis" and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError("REDIS_URL: TASK_QUEUE=redis needs a redis://, rediss:// or unix:// URL")
    if settings.face_min_resolution > settings.face_max_resolution:
        raise ConfigError("FACE_MIN_RESOLUTION must not exceed FACE_MAX_RESOLUTION")
    return settings


def describe_settings() -> list[tuple[str, str, str]]:
    """(env name, default, description) for every setting, for docs and .env.example."""
    rows = []
    for spec in dataclasses.fields(Settings):
        default = spec.default if spec.default is not dataclasses.MISSING else {}
        if isinstance(default, tuple):
            shown = ",".join(v if isinstance(v, str) else "x".join(map(str, v)) for v in default)
        else:
            shown = str(default)
        rows.append((spec.name.upper(), shown, str(spec.metadata["doc"])))
    return rows
