"""Plate Recognizer's Blur API (port 8001): POST / and /v1/blur."""

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
    """A server with the Blur API alone."""
    from blur_sdk.server.app import create_app as create_server

    return create_server(settings, engine, licence, apis=("blur",))
