"""Small SQLite files that a host's server processes share (quotas, tokens, rate windows,
cached answers): short connections, a 10 s lock wait, immediate write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_WAIT = 10.0  # s a writer waits for another process's transaction


@contextmanager
def connection(path: Path) -> Iterator[sqlite3.Connection]:
    """An autocommit connection, closed afterwards."""
    db = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT; rolled back when the block raises (a refusal included)."""
    with connection(path) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def create(path: Path, *statements: str) -> None:
    """The file (and its folder) with these CREATE ... IF NOT EXISTS statements applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connection(path) as db:
        for statement in statements:
            db.execute(statement)
