"""The Snapshot role's gunicorn entry point: ``gunicorn 'snapshot_stub.app:create_app()'``."""

from __future__ import annotations

from blur_sdk.apis.snapshot.routes import create_app

__all__ = ["create_app"]
