"""Tests for blur_sdk.core.models.runner; those marked `models` use the real CenterFace model (small
shapes only)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from blur_sdk.core.find.base import FaceOptions
from blur_sdk.core.find.faces import SHAPE_STEP, CenterFaceDetector
from blur_sdk.core.models import runner as runner_module
from blur_sdk.core.models.inputs import U8Input
from blur_sdk.core.models.manifest_runners import model_precision
from blur_sdk.core.models.runner import (
    SMALL_SHAPE_PIXELS,
    _Compiled,
    bucket,
    eager_compiles,
    resolve_precision,
)
from blur_sdk.core.models.store import load_manifest, verify_model
from blur_sdk.errors import ConfigError, ModelError
from blur_sdk.options import runner_config
from blur_sdk.settings import load_settings
from tests.core.runners import runner_for


@pytest.fixture(scope="module")
def centerface_path() -> Path:
    try:
        return verify_model(load_settings(env={}).models_dir, load_manifest()["centerface"])
    except ModelError:
        pytest.skip("models missing: run `make models`")


def batch(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (1, 3, height, width)).astype(np.float32)


def test_bucket() -> None:
    assert bucket(1, 128) == 128
    assert bucket(128, 128) == 128
    assert bucket(129, 128) == 256
    assert bucket(0, 32) == 32


@pytest.mark.models
def test_odd_sizes_share_one_compiled_shape(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1, u8_input=U8Input())
    detector = CenterFaceDetector(runner)
    side = 4 * SHAPE_STEP
    options = FaceOptions(max_resolution=side, min_resolution=64)  # no resizing
    rng = np.random.default_rng(0)
    for height, width in [(side - 27, side - 11), (side - 30, side), (side - 1, side - 29)]:
        image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        detector.detect(image, options)
    assert list(runner._compiled) == [(1, side, side, 3)]


@pytest.mark.models
def test_threads_match_a_single_threaded_run(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1)
    inputs = [batch(64, 64, seed) for seed in range(4)]
    runner.infer(inputs[0])  # (the first use of a shape runs on the dynamic-shape model)
    expected = [runner.infer(b) for b in inputs]
    jobs = inputs * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(runner.infer, jobs))
    assert len(runner._compiled) == 1
    for i, outputs in enumerate(results):
        reference = expected[i % len(inputs)]
        assert len(outputs) == len(reference) == 4
        for got, want in zip(outputs, reference, strict=True):
            np.testing.assert_array_equal(got, want)
    # outputs are copies, not views of a pooled request's tensors
    assert not np.shares_memory(results[0][0], results[len(inputs)][0])


@pytest.mark.models
def test_precision(centerface_path: Path) -> None:
    assert runner_for(centerface_path, precision="f32").precision == "f32"
    assert resolve_precision("auto") in ("bf16", "f32")
    assert resolve_precision("f16") == "f16"
    with pytest.raises(ConfigError, match="OV_PRECISION"):
        runner_for(centerface_path, precision="int8")


def test_auto_precision_is_bf16_only_where_the_manifest_allows_it() -> None:
    manifest = load_manifest()
    # the same faces found, plates found and read in bf16 (README)
    for name in ("centerface", "platedet", "ppocr_rec"):
        assert manifest[name].auto_bf16
        assert model_precision("auto", manifest[name]) == "auto"
        assert model_precision("f32", manifest[name]) == "f32"
    for name in ("ppocr_det", "platerec"):
        assert not manifest[name].auto_bf16  # bf16 read fewer plates exactly (README)
        assert model_precision("auto", manifest[name]) == "f32"
        assert model_precision("bf16", manifest[name]) == "bf16"  # asked for: honoured


def test_unreadable_model_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="make models"):
        runner_for(broken, precision="f32")


@pytest.mark.models
def test_max_shapes_evicts_least_recently_used(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1, max_shapes=2)
    a, b, c = (1, 3, 32, 32), (1, 3, 32, 64), (1, 3, 64, 32)
    runner.infer(batch(64, 32))  # c: a first use, on the dynamic model
    for _ in range(2):  # a and b: used twice, compiled
        runner.infer(batch(32, 32))
        runner.infer(batch(32, 64))
    first_a = runner._compiled[a]
    runner.infer(batch(32, 32))  # a used again: b is now the oldest
    assert runner._compiled[a] is first_a  # a cache hit, not a recompile
    runner.infer(batch(64, 32))
    assert list(runner._compiled) == [a, c]
    runner.infer(batch(32, 64))
    assert list(runner._compiled) == [c, b]


@pytest.mark.models
@pytest.mark.parametrize(
    ("mode", "released"),
    [
        ("switch", [(1, 3, 32, 32), (1, 3, 32, 64)]),  # when the model runs another shape
        ("always", ["after"] * 5),  # every inference
        ("never", []),
    ],
)
def test_release_memory_frees_shapes_as_the_setting_says(
    centerface_path: Path, mode: str, released: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "SMALL_SHAPE_PIXELS", 0)  # (these shapes are tiny)
    runner = runner_for(centerface_path, precision="f32", threads=1, release_memory=mode)
    freed: list[object] = []
    monkeypatch.setattr(_Compiled, "release", lambda self: freed.append(self.shape))

    def infer(self: _Compiled, data: np.ndarray, *, release: bool = False) -> list[np.ndarray]:
        freed.extend(["after"] if release else [])
        return []

    monkeypatch.setattr(_Compiled, "infer", infer)
    with eager_compiles():
        for h, w in [(32, 32), (32, 32), (32, 64), (32, 64), (32, 32)]:
            runner.infer(batch(h, w))
    for shape, compiled in runner._compiled.items():
        assert compiled.shape == shape
    assert freed == released


@pytest.mark.models
def test_switch_keeps_small_shapes_buffers(
    centerface_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small shapes (recogniser lines, face tiles) keep their buffers when the model runs
    another shape, and running them frees no large shape's buffers either."""
    runner = runner_for(centerface_path, precision="f32", threads=1, release_memory="switch")
    freed: list[object] = []
    monkeypatch.setattr(_Compiled, "release", lambda self: freed.append(self.shape))
    tall, wide = (544, 512), (512, 544)  # 278,528 input pixels: above SMALL_SHAPE_PIXELS
    assert SMALL_SHAPE_PIXELS < 544 * 512
    with eager_compiles():
        for h, w in [tall, (32, 32), tall, (32, 64), (32, 32), wide, (32, 64), tall]:
            runner.infer(batch(h, w))
    assert freed == [(1, 3, *tall), (1, 3, *wide)]  # at switches between large shapes only


@pytest.mark.models
@pytest.mark.parametrize(("mode", "calls"), [("always", 1), ("switch", 0), ("never", 0)])
def test_glibc_returns_freed_memory_at_once_only_when_always(
    centerface_path: Path, mode: str, calls: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[None] = []
    monkeypatch.setattr(runner_module, "return_freed_buffers", lambda: made.append(None))
    runner_for(centerface_path, precision="f32", release_memory=mode)
    assert len(made) == calls


def test_arenas_and_kernel_cache_limited_once_when_the_process_core_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []
    monkeypatch.setattr(runner_module, "limit_arenas", lambda: made.append("arenas"))
    monkeypatch.setattr(runner_module, "limit_kernel_cache", lambda: made.append("kernels"))
    monkeypatch.setattr(runner_module, "_core", None)
    core = runner_module.shared_core()
    assert runner_module.shared_core() is core
    assert made == ["arenas", "kernels"]


@pytest.mark.models
def test_released_buffers_give_the_same_outputs_again(centerface_path: Path) -> None:
    kept = runner_for(centerface_path, precision="f32", threads=1, release_memory="never")
    freed = runner_for(centerface_path, precision="f32", threads=1, release_memory="always")
    with eager_compiles():
        for h, w in [(32, 32), (64, 32), (32, 32), (64, 32)]:  # each shape freed and reused
            data = batch(h, w, seed=h)
            for got, want in zip(freed.infer(data), kept.infer(data), strict=True):
                np.testing.assert_array_equal(got, want)


@pytest.mark.models
@pytest.mark.parametrize("dynamic", [False, True])
def test_inputs_are_read_in_place_and_not_kept(centerface_path: Path, dynamic: bool) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1)
    data = batch(32, 32, seed=3)
    with eager_compiles():
        first = runner.infer(data, dynamic=dynamic)
        data[:] = 0  # (the next call reads the new values: nothing of the first call is cached)
        runner.infer(data, dynamic=dynamic)
        data[:] = batch(32, 32, seed=3)
        again = runner.infer(data, dynamic=dynamic)
    for got, want in zip(again, first, strict=True):
        np.testing.assert_array_equal(got, want)
    compiled = runner._dynamic if dynamic else runner._compiled[(1, 3, 32, 32)]
    assert compiled is not None
    assert not np.shares_memory(compiled.request.get_input_tensor(0).data, data)


def test_release_memory_must_be_a_known_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OV_RELEASE_MEMORY"):
        runner_for(tmp_path / "unused.onnx", release_memory="sometimes")


@pytest.mark.models
@pytest.mark.parametrize("pinning", [False, True])
def test_cpu_pinning_is_what_the_setting_says(centerface_path: Path, pinning: bool) -> None:
    runner = runner_for(centerface_path, precision="f32", cpu_pinning=pinning)
    assert runner.compiled_for((1, 3, 64, 64)) is None  # (first use: the dynamic model)
    static = runner.compiled_for((1, 3, 64, 64))
    assert static is not None
    assert static.compiled.get_property("ENABLE_CPU_PINNING") is pinning


@pytest.mark.models
def test_a_shape_seen_once_runs_on_the_dynamic_model_then_gets_its_own(
    centerface_path: Path,
) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1)
    first = {shape: runner.infer(batch(*shape)) for shape in [(64, 96), (96, 64), (32, 32)]}
    assert list(runner._compiled) == []  # three sizes, no compile each: one dynamic model
    assert runner._dynamic is not None
    for (h, w), outputs in first.items():
        again = runner.infer(batch(h, w))  # the second use compiles it
        for got, want in zip(again, outputs, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
    assert list(runner._compiled) == [(1, 3, 64, 96), (1, 3, 96, 64), (1, 3, 32, 32)]


class _SpyCore:
    """The process's ov.Core, recording each compile's configuration."""

    def __init__(self, core: object) -> None:
        self.core = core
        self.configs: list[dict[str, object]] = []

    def compile_model(self, model: object, device: str, config: dict[str, object]) -> object:
        self.configs.append(dict(config))
        return self.core.compile_model(model, device, config)  # type: ignore[attr-defined]


@pytest.mark.models
def test_runtime_cache_bounds_only_the_dynamic_shape_model(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1, runtime_cache=7)
    spy = _SpyCore(runner.core)
    runner.core = spy  # type: ignore[assignment]
    runner.infer(batch(32, 32))  # a first use: the dynamic-shape model
    runner.infer(batch(32, 32))  # the second: its own static shape
    dynamic, static = spy.configs
    assert dynamic["CPU_RUNTIME_CACHE_CAPACITY"] == 7
    assert "CPU_RUNTIME_CACHE_CAPACITY" not in static  # (a static shape caches nothing)


def test_runtime_cache_is_what_the_setting_says() -> None:
    assert runner_config(load_settings(env={})).runtime_cache == 300
    settings = load_settings(env={"OV_RUNTIME_CACHE": "0"})
    assert runner_config(settings).runtime_cache == 0
    with pytest.raises(ConfigError, match="OV_RUNTIME_CACHE"):
        load_settings(env={"OV_RUNTIME_CACHE": "-1"})


def test_cpu_pinning_is_off_unless_set() -> None:
    assert load_settings(env={}).ov_cpu_pinning is False
    assert load_settings(env={"OV_CPU_PINNING": "true"}).ov_cpu_pinning is True
    with pytest.raises(ConfigError, match="OV_CPU_PINNING"):
        load_settings(env={"OV_CPU_PINNING": "sometimes"})


@pytest.mark.models
def test_without_dynamic_first_use_a_shape_compiles_on_its_first(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1, dynamic_first_use=False)
    runner.infer(batch(32, 32))
    assert list(runner._compiled) == [(1, 3, 32, 32)] and runner._dynamic is None
    assert load_settings(env={"OV_DYNAMIC_FIRST_USE": "false"}).ov_dynamic_first_use is False


@pytest.mark.models
def test_within_eager_compiles_a_shape_compiles_on_its_first_use(centerface_path: Path) -> None:
    runner = runner_for(centerface_path, precision="f32", threads=1)
    with eager_compiles():
        runner.infer(batch(32, 32))
    assert list(runner._compiled) == [(1, 3, 32, 32)] and runner._dynamic is None
    runner.infer(batch(32, 64))  # outside it again: a first use on the dynamic model
    assert list(runner._compiled) == [(1, 3, 32, 32)] and runner._dynamic is not None


@pytest.mark.models
def test_inputs_of_many_sizes_run_on_the_dynamic_model_only(centerface_path: Path) -> None:
    """infer(dynamic=True) (plate crops: each size seen about once) compiles no shape of its
    own, however often a size comes, and leaves the compiled shapes of common sizes alone."""
    runner = runner_for(centerface_path, precision="f32", threads=1, dynamic_first_use=False)
    runner.infer(batch(32, 32))
    for _ in range(3):
        runner.infer(batch(64, 96), dynamic=True)
    assert list(runner._compiled) == [(1, 3, 32, 32)] and runner._dynamic is not None


@pytest.mark.models
def test_a_dynamic_shapes_model_compiles_no_static_shape(
    centerface_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`shapes: dynamic` (the recognisers): every input runs on the one dynamic-shape model,
    even within eager_compiles() (start-up warm-up), with the outputs of a static compile;
    under `switch` its buffers are kept (they fit the largest input run so far)."""
    dynamic = runner_for(centerface_path, precision="f32", threads=1, shapes="dynamic")
    static = runner_for(centerface_path, precision="f32", threads=1, dynamic_first_use=False)
    released: list[tuple[int, ...]] = []
    original = _Compiled.infer

    def infer(self: _Compiled, data: np.ndarray, *, release: bool = False) -> list[np.ndarray]:
        if release:
            released.append(self.shape)
        return original(self, data, release=release)

    monkeypatch.setattr(_Compiled, "infer", infer)
    with eager_compiles():
        for h, w in [(32, 32), (64, 96), (544, 512), (32, 32)]:
            data = batch(h, w, seed=w)
            for got, want in zip(dynamic.infer(data), static.infer(data), strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert not dynamic._compiled and dynamic._dynamic is not None
    assert released == []


def test_shapes_must_be_static_or_dynamic(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="shapes"):
        runner_for(tmp_path / "unused.onnx", shapes="some")


def test_the_recognisers_run_on_one_dynamic_shape_model() -> None:
    """Their many line widths and batch sizes: one model each (README, Latency: 10 compiled
    shapes were ~220 MB of the server's peak RSS, at the same speed)."""
    manifest = load_manifest()
    assert {n for n, spec in manifest.items() if spec.shapes == "dynamic"} == {
        "ppocr_rec",
        "platerec",
    }
    assert manifest["ppocr_det"].shapes == "static"  # 20 % faster compiled per shape
