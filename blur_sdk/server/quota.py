"""Uses counted per key against each key's optional quota, in a SQLite file every process on the
host shares: a take is atomic (concurrent requests never overrun a quota) and can be given back."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from blur_sdk.errors import BlurSdkError
from blur_sdk.server.sqlite_file import connection, create, transaction

Refusal = Callable[[int, int], BlurSdkError]  # (used, total) -> the API's own error


class QuotaCounter:
    """One table of (key, count); keys without a quota are counted and never refused."""

    def __init__(self, path: Path, table: str, quotas: dict[str, int]) -> None:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"table name {table!r}: lower-case letters and _ only")
        self.path, self.table, self.quotas = path, table, dict(quotas)
        create(path, f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, count INTEGER)")

    def used(self, key: str) -> int:
        """How many uses of the key are counted."""
        with connection(self.path) as db:
            row = db.execute(f"SELECT count FROM {self.table} WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def take(self, key: str, refuse: Refusal) -> None:
        """Count one use; raise refuse(used, total), counting nothing, when the quota is used up."""
        total = self.quotas.get(key)
        with transaction(self.path) as db:
            row = db.execute(f"SELECT count FROM {self.table} WHERE key = ?", (key,)).fetchone()
            used = int(row[0]) if row else 0
            if total is not None and used >= total:
                raise refuse(used, total)
            db.execute(
                f"INSERT INTO {self.table} (key, count) VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET count = count + 1",
                (key,),
            )

    def give_back(self, key: str) -> None:
        """Uncount one use take() counted (refused or failed after all)."""
        with connection(self.path) as db:
            db.execute(f"UPDATE {self.table} SET count = MAX(0, count - 1) WHERE key = ?", (key,))
