"""Prometheus metrics at GET /metrics: requests, stage times, finds, compiles, queue, licence."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from blur_sdk import __version__
from blur_sdk.core.models import runner
from blur_sdk.server.service import METRICS_PATHS, ServiceState

EXTENSION = "blur_sdk.metrics"
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
COMPILE_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NOT_STAGES = frozenset({"total"})  # total_ms: the whole request is blur_sdk_request_seconds
LICENCE_STATES = ("community", "valid", "refused")
OPEN_TASK_STATES = ("queued", "processing")


def multiprocess() -> bool:
    """Whether metrics go to PROMETHEUS_MULTIPROC_DIR files (decided when prometheus_client was
    imported: gunicorn.conf.py sets the variable in the master, before any worker imports it)."""
    return values.ValueClass is not values.MutexValue


class RequestMetrics:
    """What the request hooks and note_found() record, in one registry (None: the multiprocess
    files of this process, merged at scrape time)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "blur_sdk_requests",
            "HTTP requests answered, by API (blueprint), method, URL rule and status.",
            ("api", "method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "blur_sdk_request_seconds",
            "Time from a request's arrival to its answer, by API and URL rule.",
            ("api", "route"),
            buckets=SECONDS,
            registry=registry,
        )
        self.stages = Histogram(
            "blur_sdk_stage_seconds",
            "Time in each processing stage (decode, faces, plates, render, encode, ...), by API.",
            ("api", "stage"),
            buckets=SECONDS,
            registry=registry,
        )
        self.found = Counter(
            "blur_sdk_objects_found",
            "Objects found in processed images, by API and kind (face, plate, ...).",
            ("api", "kind"),
            registry=registry,
        )


class CompileMetrics:
    """Model compilations (one per model and input shape, per process), from the runner's hook."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.compiles = Counter(
            "blur_sdk_model_compiles",
            "OpenVINO model compilations (one per model and input shape in each worker).",
            ("model",),
            registry=registry,
        )
        self.seconds = Histogram(
            "blur_sdk_model_compile_seconds",
            "Time spent compiling a model for one input shape.",
            ("model",),
            buckets=COMPILE_SECONDS,
            registry=registry,
        )

    def observe(self, model: str, shape: tuple[int, ...], seconds: float) -> None:
        """The runner's compile hook."""
        del shape  # unbounded: not a label
        self.compiles.labels(model).inc()
        self.seconds.labels(model).observe(seconds)


# no *_created series: the same output as in multiprocess mode
disable_created_metrics()  # type: ignore[no-untyped-call]
_process_registry = CollectorRegistry()  # process-wide metrics when not in multiprocess mode
_compile_metrics = CompileMetrics(None if multiprocess() else _process_registry)
runner.COMPILE_HOOKS.append(_compile_metrics.observe)  # at import: warm-up compiles count too
_shared: RequestMetrics | None = None  # multiprocess mode: one set per process, every app


def _shared_metrics() -> RequestMetrics:
    global _shared  # noqa: PLW0603
    if _shared is None:
        _shared = RequestMetrics(None)
    return _shared


class _Delegate:
    """Another registry's metrics, inside an app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class LiveCollector:
    """Read when scraped, from this worker's view: version, licence state, task queue."""

    def __init__(self, app: Flask, service: ServiceState) -> None:
        self.app = app
        self.service = service

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("blur_sdk_info", "The server's version.", labels=("version",))
        info.add_metric((__version__,), 1.0)
        yield info
        yield from self._licence()
        yield from self._queue()

    def _licence(self) -> Iterator[Metric]:
        status = self.service.licence.status()
        current = (
            "community"
            if status.get("mode") == "community"
            else ("valid" if status.get("valid") else "refused")
        )
        state = GaugeMetricFamily(
            "blur_sdk_licence_state",
            "1 for the licence's state: community (no licence), valid, or refused.",
            labels=("state",),
        )
        for name in LICENCE_STATES:
            state.add_metric((name,), 1.0 if name == current else 0.0)
        yield state
        yield GaugeMetricFamily(
            "blur_sdk_licence_calls_since_report",
            "Processed requests not yet reported to the licence server (this worker).",
            value=float(status.get("calls_since_report") or 0),
        )

    def _queue(self) -> Iterator[Metric]:
        tasks = self.app.extensions.get("blur_sdk.tasks")
        if tasks is None:
            return
        try:
            pending = float(tasks.huey.pending_count())
            records = tasks.store.unfinished()
        except Exception:  # noqa: BLE001  redis.ConnectionError, sqlite3 or file errors
            yield GaugeMetricFamily("blur_sdk_queue_up", "The task queue answers.", value=0.0)
            return
        yield GaugeMetricFamily("blur_sdk_queue_up", "The task queue answers.", value=1.0)
        yield GaugeMetricFamily(
            "blur_sdk_queue_pending", "Tasks waiting in the queue for a consumer.", value=pending
        )
        counts = collections.Counter(record.status for record in records)
        open_tasks = GaugeMetricFamily(
            "blur_sdk_tasks_open", "Unfinished tasks, by status.", labels=("status",)
        )
        for status in OPEN_TASK_STATES:
            open_tasks.add_metric((status,), float(counts[status]))
        yield open_tasks


def _current() -> RequestMetrics | None:
    if has_app_context():
        found: RequestMetrics | None = current_app.extensions.get(EXTENSION)
        if found is not None:
            return found
    return _shared_metrics() if multiprocess() else None


def _labels() -> tuple[str, str]:
    """(api, route) of the current request: its blueprint ("server" for the app's own routes,
    "none" when no route matched) and its URL rule (never the raw path)."""
    rule = request.url_rule
    if rule is None:
        return "none", "none"
    return request.blueprint or "server", rule.rule


def note_found(kind: str, n: int = 1, *, api: str | None = None) -> None:
    """Count n objects of this kind (face, plate, ...) found for this request's API (or `api`)."""
    metrics = _current()
    if metrics is None or n <= 0:
        return
    if api is None:
        api = _labels()[0] if has_request_context() else "none"
    metrics.found.labels(api, kind).inc(n)


def note_regions(regions: Iterable[Any]) -> None:
    """Count found regions (anything with .kind, e.g. a core Result's regions) by kind."""
    for kind, n in collections.Counter(str(r.kind) for r in regions).items():
        note_found(kind, n)


def install_metrics(app: Flask, service: ServiceState) -> RequestMetrics:
    """Serve GET /metrics (auth as for /info/) and record every request's metrics."""
    if multiprocess():
        metrics = _shared_metrics()
        registry = None
    else:
        registry = CollectorRegistry()
        metrics = RequestMetrics(registry)
        registry.register(_Delegate(_process_registry))
        registry.register(LiveCollector(app, service))
    app.extensions[EXTENSION] = metrics

    @app.after_request
    def _observe(response: Response) -> Response:
        api, route = _labels()
        method = request.method if request.method in METHODS else "other"
        metrics.requests.labels(api, method, route, str(response.status_code)).inc()
        started = g.get("started")
        if started is not None:
            metrics.latency.labels(api, route).observe(time.perf_counter() - started)
        for key, ms in g.get("timings", {}).items():
            stage = key.removesuffix("_ms")
            if stage not in NOT_STAGES and isinstance(ms, int | float) and ms >= 0:
                metrics.stages.labels(api, stage).observe(ms / 1000.0)
        return response

    def scrape() -> Response:
        source = registry
        if source is None:  # every worker's files, merged; live values from this worker
            source = CollectorRegistry()
            MultiProcessCollector(source)  # type: ignore[no-untyped-call]
            source.register(LiveCollector(app, service))
        return Response(generate_latest(source), headers={"Content-Type": CONTENT_TYPE_LATEST})

    for path in METRICS_PATHS:
        app.add_url_rule(path, f"metrics:{path}", scrape, methods=["GET"])
    return metrics
