"""The edge between Settings and the core: option objects built once from the configuration."""

from __future__ import annotations

from blur_sdk.core.find.base import FaceOptions
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.image.decode import ImageLimits
from blur_sdk.core.models.runner import RunnerConfig
from blur_sdk.settings import Settings


def runner_config(settings: Settings) -> RunnerConfig:
    """MODELS_DIR, OV_PRECISION, OV_THREADS, OV_MAX_SHAPES, OV_CPU_PINNING,
    OV_DYNAMIC_FIRST_USE, OV_RELEASE_MEMORY, OV_RUNTIME_CACHE."""
    return RunnerConfig(
        models_dir=settings.models_dir,
        precision=settings.ov_precision,
        threads=settings.ov_threads,
        max_shapes=settings.ov_max_shapes,
        cpu_pinning=settings.ov_cpu_pinning,
        dynamic_first_use=settings.ov_dynamic_first_use,
        release_memory=settings.ov_release_memory,
        runtime_cache=settings.ov_runtime_cache,
    )


def finder_config(settings: Settings) -> FinderConfig:
    """The runner plus PLATE_DETECTORS, PLATE_MAX_RESOLUTION, PLATE_MIN_RESOLUTION,
    PLATE_FAINT_RESOLUTION, PLATE_READER and PLATEDET_*."""
    return FinderConfig(
        runner=runner_config(settings),
        plate_sources=settings.plate_detectors,
        plate_max_resolution=settings.plate_max_resolution,
        plate_min_resolution=settings.plate_min_resolution,
        plate_faint_resolution=settings.plate_faint_resolution,
        platedet_resolution=settings.platedet_resolution,
        platedet_threshold=settings.platedet_threshold,
        platedet_confirm_threshold=settings.platedet_confirm_threshold,
        platedet_promote_threshold=settings.platedet_promote_threshold,
        plate_reader=settings.plate_reader,
    )


def face_options(settings: Settings, max_resolution: int | None = None) -> FaceOptions:
    """The configured face options; a request may lower or raise the resolution cap."""
    cap = settings.face_max_resolution if max_resolution is None else max_resolution
    return FaceOptions(
        threshold=settings.face_threshold,
        max_resolution=cap,
        min_resolution=min(settings.face_min_resolution, cap),
        region_scale=settings.face_blur_scale,
        small_region_scale=max(settings.face_small_blur_scale, settings.face_blur_scale),
        coarse_resolution=settings.face_coarse_resolution,
    )


def image_limits(settings: Settings) -> ImageLimits:
    """MAX_IMAGE_PIXELS and MAX_IMAGE_SIDE."""
    return ImageLimits(settings.max_image_pixels, settings.max_image_side)
