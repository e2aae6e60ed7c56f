"""Text-watermark API answer cache: repeats within TEXTMARK_RETENTION get the stored answer."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blur_sdk.server.sqlite_file import connection, create, transaction


def cache_key(image_md5: str, params: Mapping[str, Any], *, app_id: str = "") -> str:
    """A stable sha256 of the app, the image md5 and the parameters (None values dropped).

    Parameter order is irrelevant (sorted JSON). Pass app_id when auth is on so that two apps
    sending the same image never share an answer (its result URL)."""
    normalised = {str(k): v for k, v in params.items() if v is not None}
    text = json.dumps(
        [app_id, image_md5.lower(), normalised],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class AnswerCache:
    """Answers (JSON) by cache_key() in SQLite under TASKS_DIR; expired after `retention` s."""

    def __init__(self, path: Path, retention: float) -> None:
        self.path = path
        self.retention = retention
        create(
            path,
            "CREATE TABLE IF NOT EXISTS textmark_answers "
            "(key TEXT PRIMARY KEY, stored REAL NOT NULL, answer TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS textmark_answers_stored ON textmark_answers (stored)",
        )

    def get(self, key: str, now: float | None = None) -> dict[str, Any] | None:
        """The answer stored under key less than `retention` s ago, else None."""
        now = time.time() if now is None else now
        with connection(self.path) as db:
            row = db.execute(
                "SELECT answer FROM textmark_answers WHERE key = ? AND stored > ?",
                (key, now - self.retention),
            ).fetchone()
        if row is None:
            return None
        answer = json.loads(row[0])
        return answer if isinstance(answer, dict) else None

    def put(self, key: str, answer: dict[str, Any], now: float | None = None) -> None:
        """Store (or replace) the answer under key; expired entries are dropped on the way."""
        now = time.time() if now is None else now
        text = json.dumps(answer, separators=(",", ":"))
        with transaction(self.path) as db:
            db.execute("DELETE FROM textmark_answers WHERE stored <= ?", (now - self.retention,))
            db.execute(
                "INSERT INTO textmark_answers (key, stored, answer) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET stored = excluded.stored, answer = excluded.answer",
                (key, now, text),
            )

    def sweep(self, now: float | None = None) -> int:
        """Delete expired entries; how many were deleted."""
        now = time.time() if now is None else now
        with connection(self.path) as db:
            cursor = db.execute(
                "DELETE FROM textmark_answers WHERE stored <= ?", (now - self.retention,)
            )
            return int(cursor.rowcount)
