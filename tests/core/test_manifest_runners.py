"""Tests for blur_sdk.core.models.manifest_runners: which manifest entry runs, at what precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from blur_sdk.core.models import manifest_runners
from blur_sdk.core.models.manifest_runners import cpu_has_int8_dot, model_precision, model_spec
from blur_sdk.core.models.store import load_manifest

FLAGS = "flags\t\t: fpu sse2 avx2 {extra}\nbugs\t\t: spectre_v1\n"


@pytest.mark.parametrize(
    ("extra", "has"),
    [("avx512f avx512_vnni", True), ("avx_vnni", True), ("amx_int8 amx_tile", True), ("", False)],
)
def test_int8_dot_products_from_the_cpu_flags(tmp_path: Path, extra: str, has: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\n" + FLAGS.format(extra=extra))
    assert cpu_has_int8_dot(cpuinfo) is has


def test_no_cpuinfo_means_no_int8(tmp_path: Path) -> None:
    assert cpu_has_int8_dot(tmp_path / "missing") is False


@pytest.mark.parametrize("precision", ["auto", "int8"])
@pytest.mark.parametrize("int8_cpu", [True, False])
def test_auto_runs_the_int8_text_detector_only_where_int8_is_fast(
    precision: str, int8_cpu: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_runners, "cpu_has_int8_dot", lambda: int8_cpu)
    manifest = load_manifest()
    chosen = model_spec(precision, "ppocr_det", manifest)
    assert chosen.name == ("ppocr_det_int8" if int8_cpu else "ppocr_det")
    assert model_precision(precision, chosen) == "f32"  # (its float layers; f32 without VNNI)
    for explicit in ("f32", "bf16", "f16"):  # the original model at that precision
        assert model_spec(explicit, "ppocr_det", manifest).name == "ppocr_det"
    for name in ("centerface", "ppocr_rec", "platedet", "platerec"):  # no INT8 variant: as auto
        assert model_spec(precision, name, manifest).name == name
        assert model_precision("int8", manifest[name]) == model_precision("auto", manifest[name])
