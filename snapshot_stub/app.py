"""The Snapshot role's gunicorn entry point: ``gunicorn 'snapshot_stub.app:create_app()'``."""

from __future__ import annotations

from flask import Flask

from blur_sdk.core.find.engine import Engine
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.settings import Settings


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    licence: LicenceManager | None = None,
) -> Flask:
    """A server with the plate reader alone (port 8080 by default)."""
    from blur_sdk.server.app import create_app as create_server

    return create_server(settings, engine, licence, apis=("snapshot",))
