"""What an API package gives the app factory: its routes, its error envelope, its /info/ part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response

from blur_sdk.core.find.engine import Engine
from blur_sdk.server.service import ServiceState
from blur_sdk.settings import Settings
from blur_sdk.tasks.queue import TaskQueue
from blur_sdk.tasks.store import TaskStore

ErrorBody = Callable[[str, int], Response]  # (message, status) -> that API's error answer


@dataclass(frozen=True)
class ServerContext:
    """What every API of one server shares: settings, the engine (models loaded once), state."""

    settings: Settings
    engine: Engine
    service: ServiceState
    tasks: TaskQueue | None = None  # the task queue, when a mounted API has tasks


@dataclass(frozen=True)
class Api:
    """One vendor API mounted on the server."""

    name: str
    blueprint: Blueprint
    error_body: ErrorBody
    info: Callable[[], dict[str, Any]] = field(default=dict)  # its keys in GET /info/
    authorize: Callable[[], None] | None = None  # its own auth check of flask.request (raises);
    # None: `Authorization: Token <key>` (or Bearer) against API_KEYS
    processing_methods: tuple[str, ...] = ("POST",)  # gated by licence, body and busy limits
    result_stores: tuple[TaskStore, ...] = ()  # more stores GET /results/<name> serves from
    body_limit: tuple[int, str] | None = None  # (bytes, setting) of its bodies, else the default


def json_error(message: str, status: int) -> Response:
    """Plate Recognizer's error envelope: {"error": "<field>: <what is wrong>"}."""
    from flask import jsonify

    response = jsonify({"error": message})
    response.status_code = status
    return response
