"""Kaze's optional per-key quotas (KAZE_QUOTAS): tasks counted in SQLite beside the task store,
so every process sharing TASKS_DIR counts against the same quota."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from blur_sdk.apis.kaze.errors import QuotaError
from blur_sdk.server.sqlite_file import connection, create, transaction


def key_id(key: str) -> str:
    """The stored form of a key (its sha256): keys are never written to disk."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class QuotaBook:
    """Tasks submitted per key, against each key's quota (keys without one are unlimited)."""

    def __init__(self, path: Path, quotas: dict[str, int]) -> None:
        self.path = path
        self.quotas = {key_id(k): v for k, v in quotas.items()}
        create(path, "CREATE TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY, count INTEGER)")

    def take(self, key: str) -> None:
        """Count one task for the key; QuotaError (nothing counted) when its quota is used up."""
        kid = key_id(key)
        with transaction(self.path) as db:
            row = db.execute("SELECT count FROM used WHERE key = ?", (kid,)).fetchone()
            used, total = (int(row[0]) if row else 0), self.quotas.get(kid)
            if total is not None and used >= total:
                raise QuotaError(f"quota used up: {used} of {total} tasks (KAZE_QUOTAS)")
            db.execute(
                "INSERT INTO used (key, count) VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET count = count + 1",
                (kid,),
            )

    def give_back(self, key: str) -> None:
        """Uncount one task take() counted (the task was refused after all)."""
        with connection(self.path) as db:
            db.execute("UPDATE used SET count = MAX(0, count - 1) WHERE key = ?", (key_id(key),))

    def report(self, key: str) -> dict[str, Any]:
        """{"total", "used", "remaining"}; total and remaining are null for an unlimited key."""
        kid = key_id(key)
        with connection(self.path) as db:
            row = db.execute("SELECT count FROM used WHERE key = ?", (kid,)).fetchone()
        used = int(row[0]) if row else 0
        total = self.quotas.get(kid)
        remaining = None if total is None else max(0, total - used)
        return {"total": total, "used": used, "remaining": remaining}
