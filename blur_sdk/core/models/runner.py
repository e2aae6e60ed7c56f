"""The one OpenVINO runner: read, reshape, compile (cached per shape), infer; thread-safe."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openvino as ov

from blur_sdk.core.models.inputs import Batch, U8Input, for_batch
from blur_sdk.core.models.malloc import limit_arenas, limit_kernel_cache, return_freed_buffers
from blur_sdk.errors import ConfigError, ModelError

log = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float32]

CompileHook = Callable[[str, tuple[int, ...], float], None]  # (model file stem, shape, seconds)
COMPILE_HOOKS: list[CompileHook] = []  # called after each compile (e.g. by the server's metrics)

_core_lock = threading.Lock()
_core: ov.Core | None = None


def shared_core() -> ov.Core:
    """One ov.Core per process (it owns the CPU plugin and its thread pools); glibc's arenas
    and oneDNN's kernel cache limited when it is made (process-wide, before any model loads)."""
    global _core  # noqa: PLW0603
    with _core_lock:
        if _core is None:
            limit_arenas()
            limit_kernel_cache()
            _core = ov.Core()
        return _core


def resolve_precision(precision: str, core: ov.Core | None = None) -> str:
    """Map 'auto' to bf16 where the CPU supports it, else f32."""
    if precision != "auto":
        return precision
    capabilities = (core or shared_core()).get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "bf16" if "BF16" in capabilities else "f32"


def input_pixels(shape: tuple[int, ...], channels_last: bool = False) -> int:
    """Batch x height x width of an NCHW (or NHWC) shape."""
    return int(np.prod(shape)) // max(1, shape[-1] if channels_last else shape[1])


def bucket(value: int, step: int) -> int:
    """Round value up to a multiple of step, so odd sizes share a compiled shape."""
    return max(step, -(-value // step) * step)


@dataclass(frozen=True)
class RunnerConfig:
    """Where verified models are and how OpenVINO runs them (built from OV_* settings)."""

    models_dir: Path
    precision: str = "auto"
    threads: int = 0
    max_shapes: int = 8
    cpu_pinning: bool = False  # see OpenVinoRunner._config
    dynamic_first_use: bool = True  # see OpenVinoRunner.compiled_for
    release_memory: str = "switch"  # see OpenVinoRunner.infer
    shapes: str = "static"  # per model, from its manifest entry: see OpenVinoRunner.infer
    runtime_cache: int = 300  # see OpenVinoRunner._compile
    u8_input: U8Input | None = None  # per model, from its manifest entry: see U8Input


SHAPE_MODES = ("static", "dynamic")  # a manifest entry's `shapes`: see OpenVinoRunner.infer
RELEASES = ("switch", "always", "never")  # OV_RELEASE_MEMORY: see OpenVinoRunner.infer
# OV_RELEASE_MEMORY=switch keeps the buffers of shapes of at most this many input pixels (batch
# x height x width: a few MB each): a request alternates recogniser widths and batch sizes, and
# face tiles with the coarse pass, and freeing those buffers each time cost more CPU than they
# hold (bench/latency.py --method platerecognizer, docs/latency-history.md)
SMALL_SHAPE_PIXELS = 1 << 18
STATIC_AFTER = 2  # uses of an input shape before it gets a compiled model of its own
MAX_COUNTED_SHAPES = 4096  # shapes whose uses are counted (the count restarts beyond)
_eager = threading.local()  # set by eager_compiles() in this thread


@contextmanager
def eager_compiles() -> Iterator[None]:
    """Within it (start-up warm-up), a shape is compiled on its first use in this thread."""
    previous = getattr(_eager, "on", False)
    _eager.on = True
    try:
        yield
    finally:
        _eager.on = previous


_runners_lock = threading.Lock()
_runners: dict[tuple[Path, RunnerConfig], OpenVinoRunner] = {}


class _Compiled:
    """A model compiled for one input shape, with one infer request behind a lock.

    The CPU plugin runs one inference at a time with every core (latency hint, one stream),
    so concurrent requests would only queue: one infer request per shape is enough.
    """

    def __init__(self, compiled: ov.CompiledModel, shape: tuple[int, ...]) -> None:
        self.compiled = compiled
        self.shape = shape
        self.request = compiled.create_infer_request()
        self._own_input = self.request.get_input_tensor(0)  # (never written: see infer)
        self.lock = threading.Lock()

    def infer(self, batch: Batch, *, release: bool = False) -> list[FloatArray]:
        """Outputs for one batch; `release` frees the intermediate buffers afterwards (the
        dynamic-shape model: it would otherwise keep the largest shape's). The batch is read
        in place, not copied into the request's own input (1-2 ms per large input at 800x600;
        the same outputs), and not kept referenced afterwards (that held ~20 MB more)."""
        with self.lock:
            self.request.infer({0: batch}, share_inputs=True)  # (no copy: read in place)
            outputs = [
                np.array(self.request.get_output_tensor(i).data)
                for i in range(len(self.compiled.outputs))
            ]
            self.request.set_input_tensor(self._own_input)  # (the batch is not kept alive)
            if release:
                self.compiled.release_memory()
            return outputs

    def release(self) -> None:
        """Free the intermediate buffers now (the next inference allocates them again)."""
        with self.lock:
            self.compiled.release_memory()


def _compiled_hooks(model: str, shape: tuple[int, ...], seconds: float) -> None:
    for hook in list(COMPILE_HOOKS):
        try:
            hook(model, shape, seconds)
        except Exception:  # a hook's fault must never fail inference
            log.exception("compile hook %r failed", hook)


class OpenVinoRunner:
    """Compile-once-per-shape inference of one model file on the CPU."""

    def __init__(self, path: Path, config: RunnerConfig | None = None) -> None:
        """Read the model file; `config` (its models_dir unused: `path` is the file) says how
        it runs, RunnerConfig's defaults when None."""
        config = config or RunnerConfig(path.parent)
        self.path = path
        self.runtime_cache = config.runtime_cache
        self.u8_input = config.u8_input
        self.core = shared_core()
        self.precision = resolve_precision(config.precision, self.core)
        if self.precision not in ("bf16", "f16", "f32"):
            raise ConfigError(f"OV_PRECISION: unsupported precision {config.precision!r}")
        self.threads = config.threads
        self.max_shapes = config.max_shapes
        self.cpu_pinning = config.cpu_pinning
        self.static_after = STATIC_AFTER if config.dynamic_first_use else 1
        if config.release_memory not in RELEASES:
            raise ConfigError(
                f"OV_RELEASE_MEMORY: expected one of {RELEASES}, not {config.release_memory!r}"
            )
        self.release_memory = config.release_memory
        if config.shapes not in SHAPE_MODES:
            raise ConfigError(
                f"{path.name}: shapes must be one of {SHAPE_MODES}, not {config.shapes!r}"
            )
        self.static_shapes = config.shapes == "static"
        if config.release_memory == "always":
            return_freed_buffers()
        self._holding: _Compiled | None = None  # the static shape whose buffers are kept
        try:
            self.model = self.core.read_model(str(path))
        except RuntimeError as e:
            raise ModelError(f"cannot read model {path}: {e}; run `make models`") from e
        self._compiled: OrderedDict[tuple[int, ...], _Compiled] = OrderedDict()
        self._uses: dict[tuple[int, ...], int] = {}
        self._dynamic: _Compiled | None = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, path: Path, config: RunnerConfig) -> OpenVinoRunner:
        """The process's one runner for this file and configuration (compiled shapes shared)."""
        key = (path.resolve(), replace(config, models_dir=Path()))
        with _runners_lock:
            runner = _runners.get(key)
            if runner is None:
                runner = _runners[key] = cls(path, config)
            return runner

    def _config(self) -> dict[str, Any]:
        """Latency hint (one inference uses every core). CPU pinning is off by default: with it,
        inferences of concurrent requests and the Python work between them were pinned onto
        the same cores and queued (bench/latency.py --method platerecognizer, 4 clients:
        611 -> 506 ms per call at 800x600, 1095 -> 915 at 1080p; one client unchanged)."""
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": self.precision,
            "PERFORMANCE_HINT": "LATENCY",
            "ENABLE_CPU_PINNING": self.cpu_pinning,
        }
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        return config

    def compiled_for(self, shape: tuple[int, ...]) -> _Compiled | None:
        """The compiled model for this static input shape (LRU-cached), compiled on its
        STATIC_AFTER-th use (its first with OV_DYNAMIC_FIRST_USE off or within
        eager_compiles()); None before that (the dynamic-shape model serves it: mixed image
        sizes cost no compile stall each, for ~150 MB more, measured with their benchmark's
        four sizes)."""
        with self._lock:
            hit = self._compiled.get(shape)
            if hit is not None:
                self._compiled.move_to_end(shape)
                return hit
            if len(self._uses) >= MAX_COUNTED_SHAPES:
                self._uses.clear()
            self._uses[shape] = self._uses.get(shape, 0) + 1
            if self._uses[shape] < self.static_after and not getattr(_eager, "on", False):
                return None
            compiled = self._compile(shape)
            self._compiled[shape] = compiled
            while len(self._compiled) > self.max_shapes:
                self._compiled.popitem(last=False)
            return compiled

    def _dynamic_model(self) -> _Compiled:
        """One model compiled for any input shape: ~7-13 % slower per inference than a
        static one, but no 0.3-0.5 s compile for a shape seen once (mixed image sizes: 60
        distinct text-detection shapes on openlpr_val's 260 photos)."""
        with self._lock:
            if self._dynamic is None:
                spatial = [-1] * (len(self.model.inputs[0].partial_shape) - 2)
                self._dynamic = self._compile(
                    (-1, *spatial, 3) if self.u8_input else (-1, 3, *spatial)
                )
            return self._dynamic

    def _compile(self, shape: tuple[int, ...]) -> _Compiled:
        """Compile for this input shape (-1: dynamic dimensions; the caller holds self._lock).

        A dynamic-shape model keeps the kernels of the shapes it ran in its runtime cache, up
        to OV_RUNTIME_CACHE entries (the CPU plugin's default, 5,000, held 390 MB for the text
        detector and 133 MB for CenterFace after 120 photos of mixed sizes; at 300 the
        recogniser's common shapes still hit it, docs/latency-history.md)."""
        model = for_batch(self.model, shape, self.u8_input)
        log.info("compiling %s for input %s (%s)", self.path.name, shape, self.precision)
        started = time.perf_counter()
        config = self._config()
        if -1 in shape:
            config["CPU_RUNTIME_CACHE_CAPACITY"] = self.runtime_cache
        compiled = _Compiled(self.core.compile_model(model, "CPU", config), shape)
        _compiled_hooks(self.path.stem, shape, time.perf_counter() - started)
        return compiled

    def infer(self, batch: Batch, dynamic: bool = False) -> list[FloatArray]:
        """Run the model on one NCHW float32 batch (NHWC u8 with U8Input); outputs in the
        model's order. dynamic: on the dynamic-shape model whatever the shape (inputs of many
        sizes: no static compile, which would also push the compiled shapes of the common sizes
        out of the LRU cache).

        A model whose manifest entry says `shapes: dynamic` always runs on its one
        dynamic-shape model: each compiled static shape holds 15-40 MB of its own that
        release_memory() does not free, besides its buffers, and the recognisers' many line
        widths and batch sizes ran as fast on one model (docs/latency-history.md). Its buffers
        fit the largest input it has run and serve every smaller one; only `always` frees them.

        Each compiled static shape holds its intermediate buffers (5-130 MB) after an inference
        unless released (OV_RELEASE_MEMORY): `always` frees them after each inference
        (allocating them again costs 7-25 ms per large inference, less with glibc's huge
        pages: malloc.HUGE_PAGES_TUNABLE; their method's peak RSS -100 to -140 MiB for 15-30 %
        more time per call, docs/latency-history.md); `switch` (default) frees a shape's when
        this model next runs another large shape, so a camera's fixed size pays nothing and
        mixed sizes hold one large shape's buffers per model (small shapes,
        SMALL_SHAPE_PIXELS, keep theirs);
        `never` keeps every shape's. (Freeing only large inputs' buffers after each inference
        saved ~100 MB in one thread but nothing with 4 concurrent clients, where each model's
        buffers are in use most of the time.)"""
        shape = tuple(int(d) for d in batch.shape)
        if (batch.dtype == np.uint8) != (self.u8_input is not None):
            wanted = "uint8 NHWC" if self.u8_input else "float32 NCHW"
            raise ModelError(f"{self.path.name}: {batch.dtype} input, expected {wanted}")
        release = self.release_memory == "always"
        if not self.static_shapes:
            return self._dynamic_model().infer(batch, release=release)
        compiled = None if dynamic else self.compiled_for(shape)
        if compiled is None:
            return self._dynamic_model().infer(batch, release=True)
        outputs = compiled.infer(batch, release=release)
        large = input_pixels(shape, self.u8_input is not None) > SMALL_SHAPE_PIXELS
        if self.release_memory == "switch" and large:
            with self._lock:
                previous, self._holding = self._holding, compiled
            if previous is not None and previous is not compiled:
                previous.release()
        return outputs

    def metadata(self, *keys: str) -> str:
        """A string from the model's runtime info (e.g. ONNX metadata_props)."""
        return str(self.model.get_rt_info(list(keys)).astype(str))
