"""The runners of the manifest's models by name: each file verified, its precision, shapes,
input type and INT8 variant as its manifest entry says."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from blur_sdk.core.models.inputs import U8Input
from blur_sdk.core.models.runner import OpenVinoRunner, RunnerConfig
from blur_sdk.core.models.store import ModelSpec, load_manifest, verify_model
from blur_sdk.errors import ModelError

# CPU flags of one-instruction int8 dot products (VNNI, AMX): OpenVINO's INT8 kernels beat f32
# only with them (on an AMD EPYC with AVX2 only, INT8 ran at 0.85-0.91x the f32 speed,
# docs/latency-history.md)
INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
CPUINFO = Path("/proc/cpuinfo")


@cache
def cpu_has_int8_dot(cpuinfo: Path = CPUINFO) -> bool:
    """Whether this CPU has VNNI or AMX (Linux's /proc/cpuinfo flags; False where unreadable)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return not INT8_FLAGS.isdisjoint(flags)


def acting(precision: str) -> str:
    """OV_PRECISION as it acts: 'int8' (the INT8 text detector's opt-in before it became the
    default) is 'auto'."""
    return "auto" if precision == "int8" else precision


def model_spec(precision: str, name: str, manifest: dict[str, ModelSpec]) -> ModelSpec:
    """The manifest entry to run for `name`: with OV_PRECISION=auto (or int8, the same) on a CPU
    with VNNI or AMX, its INT8 variant where it has one (`int8`: the text detector, its neck
    and head in INT8, 1.6x faster, its text boxes as close to f32's as f32's own under one grey
    level of noise, README); else the original (f32, bf16, f16: always)."""
    spec = manifest[name]
    if acting(precision) == "auto" and spec.int8 and cpu_has_int8_dot():
        return manifest[spec.int8]
    return spec


def model_precision(precision: str, spec: ModelSpec) -> str:
    """What OV_PRECISION means for one model: 'auto' (and 'int8', its old opt-in name) is
    bf16 where the CPU has it only for models whose manifest entry says bf16 costs them nothing
    (`auto_bf16`), else f32. On a CPU with bf16 (AMX), every plate model in bf16 found one
    Brazilian plate fewer of 80 and read 2-3 % fewer exactly; CenterFace found the same faces
    within one of 1015, 1.9-2.4x faster. The plate detector alone in bf16 (AVX-512 bf16) found
    and read the same plates on every set, 1.8x faster; PP-OCR's recogniser alone in bf16 read
    as many plates and text watermarks within the noise of a placement, 1.6-1.7x faster
    (README, Speed)."""
    precision = acting(precision)
    if precision == "auto" and not spec.auto_bf16:
        return "f32"
    return precision


def u8_input(spec: ModelSpec) -> U8Input | None:
    """How the model takes u8 images, from its manifest entry's `u8_input` (None: float32)."""
    if spec.u8_input is None:
        return None
    try:
        return U8Input(**spec.u8_input)
    except TypeError as e:
        raise ModelError(f"config/models.yaml: {spec.name}: u8_input: {e}") from e


def model_runners(config: RunnerConfig, *names: str) -> list[OpenVinoRunner]:
    """The runners of these manifest models, each file verified against its sha256 first."""
    manifest = load_manifest()
    runners = []
    for name in names:
        spec = model_spec(config.precision, name, manifest)
        runner_config = replace(
            config,
            precision=model_precision(config.precision, spec),
            shapes=spec.shapes,
            u8_input=u8_input(spec),
        )
        path = verify_model(config.models_dir, spec)
        runners.append(OpenVinoRunner.shared(path, runner_config))
    return runners
