"""Shared by both Flask services: limits, auth, licence gate, JSON errors, request log lines."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from blur_sdk.errors import BusyError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.server.auth import check_authorization
from blur_sdk.server.errors import register_error_handlers
from blur_sdk.server.form import Form
from blur_sdk.server.openapi import is_doc_path
from blur_sdk.server.upload import body_limit, check_content_length
from blur_sdk.settings import Settings

access_log = logging.getLogger("blur_sdk.access")
INFO_PATHS = ("/info/", "/info")
METRICS_PATHS = ("/metrics",)  # guarded like /info/ (INFO_REQUIRES_AUTH)
OPEN_PATHS = ("/results/",)


@dataclass
class ServiceState:
    """Per-process state of one service: settings, licence, counters (attached to the app)."""

    settings: Settings
    licence: LicenceManager
    started: float = field(default_factory=time.time)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.settings.max_in_flight:
            self._slots = threading.BoundedSemaphore(self.settings.max_in_flight)

    def take_slot(self) -> bool:
        """One of MAX_IN_FLIGHT processing slots, at once or BusyError (True: one was taken)."""
        if self._slots is None:
            return False
        if not self._slots.acquire(blocking=False):
            raise BusyError(
                f"too many requests in progress (MAX_IN_FLIGHT={self.settings.max_in_flight}); "
                "retry shortly"
            )
        return True

    def release_slot(self) -> None:
        """Give back the slot take_slot() took."""
        if self._slots is not None:
            self._slots.release()

    def count_call(self) -> None:
        """One processed request: counted locally and reported to the licence server."""
        with self._lock:
            self.calls += 1
        self.licence.record_call()


def state() -> ServiceState:
    """The ServiceState of the current app."""
    from flask import current_app

    result: ServiceState = current_app.extensions["blur_sdk"]
    return result


def request_form() -> Form:
    """The current request's form fields, validated against the configured limits (cached)."""
    if "form" not in g:
        g.form = Form(request.form, state().settings)
    form: Form = g.form
    return form


def note_timings(timings: dict[str, float]) -> None:
    """Stage timings of this request, for its log line."""
    g.timings = {k: round(v, 1) for k, v in timings.items()}


def server_timing(timings: dict[str, float]) -> str:
    """Stage timings as a W3C Server-Timing header value: `decode;dur=3.8, faces;dur=52.1`."""
    return ", ".join(f"{name.removesuffix('_ms')};dur={ms}" for name, ms in timings.items())


def configure_service(
    app: Flask, settings: Settings, *, licence: LicenceManager | None = None
) -> ServiceState:
    """Apply limits, JSON errors, access control, the licence gate and request logging."""
    limit = body_limit(settings)  # per-field limits are checked by Form
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.config["MAX_FORM_MEMORY_SIZE"] = max(settings.max_field_length, limit)
    app.config["MAX_FORM_PARTS"] = settings.max_repeated_fields * 32
    app.json.sort_keys = False  # type: ignore[attr-defined]
    service = ServiceState(settings=settings, licence=licence or LicenceManager(settings))
    app.extensions["blur_sdk"] = service
    register_error_handlers(app)

    @app.before_request
    def _gate() -> None:
        g.started = time.perf_counter()
        api = app.extensions.get("blur_sdk.apis", {}).get(request.blueprint)
        is_info = request.path in INFO_PATHS or request.path in METRICS_PATHS
        is_info = is_info or is_doc_path(request.path)  # /openapi.json, /docs
        if request.path.startswith(OPEN_PATHS):
            return  # result files: unguessable URLs, fetched without credentials
        if api is not None and api.authorize is not None:
            api.authorize()
        elif not is_info or settings.info_requires_auth:
            check_authorization(request.headers.get("Authorization"), settings)
        methods = api.processing_methods if api is not None else ("POST",)
        if request.method in methods:
            check_content_length(request, settings, api.body_limit if api is not None else None)
            service.licence.require_valid()
            g.slot = service.take_slot()

    @app.teardown_request
    def _free(_error: BaseException | None) -> None:
        if g.pop("slot", False):
            service.release_slot()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("started", time.perf_counter())
        entry: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "bytes_in": request.content_length or 0,
            "bytes_out": response.calculate_content_length() or 0,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "client": request.remote_addr,
        }
        if "timings" in g:
            entry["timings"] = g.timings
            response.headers["Server-Timing"] = server_timing(g.timings)
        access_log.info(json.dumps(entry))
        return response

    return service
