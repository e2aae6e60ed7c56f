"""Text-watermark API limits: per-app QPS (TEXTMARK_QPS) and usage quotas, in shared SQLite."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from blur_sdk.apis.textmark.auth import TextmarkAuthError
from blur_sdk.errors import BusyError
from blur_sdk.server.quota import QuotaCounter
from blur_sdk.server.sqlite_file import create, transaction


class QpsLimiter:
    """At most `qps` requests per app per 1-second window (fixed windows, epoch seconds).

    The counters live in SQLite beside the task store, not in memory: gunicorn's worker
    processes must share one budget, and SQLite needs no extra service (a Redis INCR + EXPIRE
    would do the same for deployments already running Redis). One short write per request."""

    def __init__(self, path: Path, qps: int) -> None:
        self.path = path
        self.qps = qps
        create(
            path,
            "CREATE TABLE IF NOT EXISTS textmark_hits "
            "(app TEXT PRIMARY KEY, second INTEGER NOT NULL, count INTEGER NOT NULL)",
        )

    def hit(self, app_id: str, now: float | None = None) -> None:
        """Count one request; BusyError (not counted) above the limit; qps 0 never refuses."""
        if self.qps <= 0:
            return
        now = time.time() if now is None else now
        second = math.floor(now)
        with transaction(self.path) as db:
            row = db.execute(
                "SELECT second, count FROM textmark_hits WHERE app = ?", (app_id,)
            ).fetchone()
            count = int(row[1]) if row and int(row[0]) == second else 0
            if count >= self.qps:
                raise BusyError(
                    f"too many requests: more than {self.qps} per second for this app "
                    f"(TEXTMARK_QPS={self.qps})"
                )
            db.execute(
                "INSERT INTO textmark_hits (app, second, count) VALUES (?, ?, ?) "
                "ON CONFLICT(app) DO UPDATE SET second = excluded.second, count = excluded.count",
                (app_id, second, count + 1),
            )


def _refusal(used: int, total: int) -> TextmarkAuthError:
    return TextmarkAuthError(
        f"usage quota used up: {used} of {total} requests (TEXTMARK_QUOTAS)", 403
    )


class UsageBook:
    """Processed requests per app against its optional quota (TEXTMARK_QUOTAS, long-term).

    take() counts a request before it is processed (atomically: a quota is never overrun by
    concurrent requests), give_back() uncounts one that was refused or failed."""

    def __init__(self, path: Path, quotas: dict[str, int]) -> None:
        self.counter = QuotaCounter(path, "textmark_usage", quotas)

    def take(self, app_id: str) -> None:
        """Count one request now, atomically against the quota: TextmarkAuthError(403), and
        nothing counted, when it is used up (concurrent requests cannot overrun it)."""
        self.counter.take(app_id, _refusal)

    def give_back(self, app_id: str) -> None:
        """Uncount a request take() counted that was refused or failed after all."""
        self.counter.give_back(app_id)

    def report(self, app_id: str) -> dict[str, Any]:
        """The vendor's usage fields; -1 = unlimited (no quota); limited-term ones are unused."""
        used, total = self.counter.used(app_id), self.counter.quotas.get(app_id)
        remaining = -1 if total is None else max(0, total - used)
        return {
            "remainingUsage": remaining,
            "allUsedCount": used,
            "longTermUsageCount": remaining,
            "limitedTermUsageCount": 0,
            "limitedTermExpireTimes": None,
        }
