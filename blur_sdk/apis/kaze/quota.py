"""Kaze's optional per-key quotas (KAZE_QUOTAS): tasks counted in SQLite beside the task store,
so every process sharing TASKS_DIR counts against the same quota."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from blur_sdk.apis.kaze.errors import QuotaError
from blur_sdk.server.quota import QuotaCounter


def key_id(key: str) -> str:
    """The stored form of a key (its sha256): keys are never written to disk."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _refusal(used: int, total: int) -> QuotaError:
    return QuotaError(f"quota used up: {used} of {total} tasks (KAZE_QUOTAS)")


class QuotaBook:
    """Tasks submitted per key, against each key's quota (keys without one are unlimited)."""

    def __init__(self, path: Path, quotas: dict[str, int]) -> None:
        self.counter = QuotaCounter(path, "kaze_used", {key_id(k): v for k, v in quotas.items()})

    def take(self, key: str) -> None:
        """Count one task for the key; QuotaError (nothing counted) when its quota is used up."""
        self.counter.take(key_id(key), _refusal)

    def give_back(self, key: str) -> None:
        """Uncount one task take() counted (the task was refused after all)."""
        self.counter.give_back(key_id(key))

    def report(self, key: str) -> dict[str, Any]:
        """{"total", "used", "remaining"}; total and remaining are null for an unlimited key."""
        kid = key_id(key)
        used, total = self.counter.used(kid), self.counter.quotas.get(kid)
        remaining = None if total is None else max(0, total - used)
        return {"total": total, "used": used, "remaining": remaining}
