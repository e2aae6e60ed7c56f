"""The runners of the manifest's models by name: each file verified, its precision and shapes
as its manifest entry says."""

from __future__ import annotations

from dataclasses import replace

from blur_sdk.core.models.runner import OpenVinoRunner, RunnerConfig
from blur_sdk.core.models.store import ModelSpec, load_manifest, verify_model


def model_precision(precision: str, spec: ModelSpec) -> str:
    """What OV_PRECISION means for one model: 'auto' is bf16 where the CPU has it only for
    models whose manifest entry says bf16 costs them nothing (`auto_bf16`), else f32. On a CPU
    with bf16 (AMX), the plate models in bf16 found one Brazilian plate fewer of 80 and read
    2-3 % fewer exactly; CenterFace found the same faces within one of 1015, 1.9-2.4x faster."""
    if precision == "auto" and not spec.auto_bf16:
        return "f32"
    return precision


def model_runners(config: RunnerConfig, *names: str) -> list[OpenVinoRunner]:
    """The runners of these manifest models, each file verified against its sha256 first."""
    manifest = load_manifest()
    return [
        OpenVinoRunner.shared(
            verify_model(config.models_dir, manifest[name]),
            replace(
                config,
                precision=model_precision(config.precision, manifest[name]),
                shapes=manifest[name].shapes,
            ),
        )
        for name in names
    ]
