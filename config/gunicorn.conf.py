"""Gunicorn settings for both services (the same file in the container and in tests).

Environment: BIND (default 0.0.0.0:8001), WORKERS (1), THREADS (4), WORKER_TIMEOUT (120 s),
GRACEFUL_TIMEOUT (30 s), MAX_REQUESTS (1000, with 10% jitter), PRELOAD (false: each worker
loads its own models after fork; see README for the measurement), LOG_LEVEL (info).
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8001")
workers = int(os.environ.get("WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "1000"))
max_requests_jitter = max(1, max_requests // 10)
preload_app = os.environ.get("PRELOAD", "false").lower() in ("1", "true", "yes")
accesslog = None  # the app writes one structured JSON line per request instead
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
    },
}
