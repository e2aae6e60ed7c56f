"""Gunicorn settings for both services (the same file in the container, `make`, and tests).

Environment (defaults in brackets): BIND [0.0.0.0:8001; docker/entrypoint.sh passes -b],
WORKERS [1], THREADS [4], WORKER_TIMEOUT [120 s], GRACEFUL_TIMEOUT [30 s], MAX_REQUESTS [1000,
0 = never recycle; 10% jitter], PRELOAD [false], LOG_LEVEL [info].

PRELOAD stays false: every worker loads its own models after the fork. Measured with 2 workers
(README, "Production server"): preloading saves ~90 MB PSS idle but only ~5% once warm, as
OpenVINO compiles per input shape in each worker after the fork anyway; and it breaks licensing
(the licence re-check thread runs in the master only: the workers' state is never re-checked,
their usage never reported). OpenVINO's thread pools are not fork-safe in general either.

SIGTERM (docker stop) is gunicorn's graceful shutdown: workers finish their requests within
GRACEFUL_TIMEOUT; worker_exit() below stops each worker's licence re-check thread and its task
consumer threads (a running task gets until the queue's shutdown timeout, 30 s, to finish).

Prometheus metrics (GET /metrics) run in prometheus_client's multiprocess mode: each worker writes
its counters to files in PROMETHEUS_MULTIPROC_DIR, merged when scraped. The master sets it when it
reads this file (before any worker imports the app): the folder given, emptied at start (one per
server), else a fresh one under /dev/shm, removed at exit; child_exit() marks dead workers.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
import time
from typing import Any

bind = os.environ.get("BIND", "0.0.0.0:8001")
workers = int(os.environ.get("WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "1000"))
max_requests_jitter = max(0, max_requests // 10)
preload_app = os.environ.get("PRELOAD", "false").strip().lower() in ("1", "true", "yes", "on")
# Worker heartbeats on tmpfs: an overlay filesystem can stall them (gunicorn's Docker advice).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True  # no gunicornc; several servers on one host would share the path
accesslog = None  # the app writes one structured JSON line per request instead
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s %(message)s"},
        "json": {"format": "%(message)s"},  # the access line is one JSON object as it is
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
        "blur_sdk.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}

_booted = time.monotonic()
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable
_METRICS_MASTER = "BLUR_SDK_METRICS_MASTER"  # pid of the master that emptied the folder
_METRICS_MADE = "BLUR_SDK_METRICS_MADE"  # the folder made by that master (removed at exit)


def metrics_dir(environ: Any = os.environ) -> str:
    """The metrics folder of this server, set in environ: PROMETHEUS_MULTIPROC_DIR emptied of
    stale files, or a fresh folder. A reload (HUP) in the same master keeps it as it is."""
    path = environ.get(METRICS_DIR) or ""
    if not path:
        path = tempfile.mkdtemp(prefix="blur-sdk-metrics-", dir=worker_tmp_dir)
        environ[_METRICS_MADE] = path
    environ[METRICS_DIR] = path
    if environ.get(_METRICS_MASTER) != str(os.getpid()):
        environ[_METRICS_MASTER] = str(os.getpid())
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    return str(path)


if __name__ == "__config__":  # gunicorn's master reading this file (tests read it with runpy)
    metrics_dir()


def post_fork(server: Any, worker: Any) -> None:
    """Note when the worker was forked, for post_worker_init's log line."""
    worker.blur_sdk_forked = time.monotonic()


def post_worker_init(worker: Any) -> None:
    """Log when a worker has loaded the app (models included): the start-up cost per worker."""
    now = time.monotonic()
    logging.getLogger("gunicorn.error").info(
        "worker %s ready: app loaded in %.1f s (%.1f s after the master started)",
        worker.pid,
        now - getattr(worker, "blur_sdk_forked", _booted),
        now - _booted,
    )


def pre_request(worker: Any, req: Any) -> None:
    """Close the connection after a body the app may refuse unread (oversize or chunked).

    The app answers 413 without reading an oversize body; gunicorn would then drain only part
    of it and keep the connection alive, so a client reusing it would see it dropped.
    """
    config = getattr(getattr(worker, "wsgi", None), "config", None)
    limit = config.get("MAX_CONTENT_LENGTH") if isinstance(config, dict) else None
    length = next((v for h, v in req.headers if h == "CONTENT-LENGTH"), "")
    chunked = any(h == "TRANSFER-ENCODING" for h, _ in req.headers)
    if chunked or (limit is not None and length.isdigit() and int(length) > limit):
        req.must_close = True


def worker_exit(server: Any, worker: Any) -> None:
    """Stop the worker's licence re-check thread and task consumers (graceful shutdown and
    max_requests recycling): a running task finishes, or is re-run after the restart."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    extensions = extensions if isinstance(extensions, dict) else {}
    licence = getattr(extensions.get("blur_sdk"), "licence", None)
    if licence is not None:
        licence.stop(timeout=min(15.0, graceful_timeout / 2))
    tasks = extensions.get("blur_sdk.tasks")
    if tasks is not None:
        tasks.close()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (in the master): drop its live gauge files; its counters stay counted."""
    if os.environ.get(METRICS_DIR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics folder this master made."""
    made = os.environ.get(_METRICS_MADE)
    if made and made == os.environ.get(METRICS_DIR):
        shutil.rmtree(made, ignore_errors=True)
