"""The try-it page: `GET /` for browsers (content negotiation) and `GET /demo`, plus its assets.

The page is plain HTML, CSS and JavaScript from `static/`, read once when the blueprint is
registered; it calls the same server's APIs with fetch(). Nothing is fetched from elsewhere.

- `GET /` answers the page only when the request prefers `text/html` over JSON (a browser's
  navigation); any other request to `/` is left to the normal routing untouched (the Blur
  API's `POST /`, and its `405` for a non-browser `GET /`).
- The page and its assets are public (no secret in them): they are served before the
  service's API-key gate, so a browser can load the page and then send the key the user types.
- Assets are addressed by content hash (`/demo/assets/app.js?v=<hash>`) and cached for a year,
  immutable; the page itself is revalidated (`no-cache` with an ETag).
"""

from __future__ import annotations

import hashlib
import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import NotFound

NAME = "web"
STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
PAGE_PATHS = ("/",)  # served to browsers only; /demo always
YEAR = 365 * 24 * 3600
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob: http: https:; connect-src 'self' http: https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
API_LABELS = {"blur": "Faces & plates", "kaze": "Watermark removal"}  # the page's tools


@dataclass(frozen=True)
class Asset:
    """One static file, in memory, with the hash that versions its URL."""

    body: bytes
    content_type: str
    version: str


def load_assets(folder: Path = STATIC_DIR) -> dict[str, Asset]:
    """The page's CSS and JS (index.html is the template, read by load_template)."""
    assets = {}
    for name, kind in ASSET_TYPES.items():
        body = (folder / name).read_bytes()
        assets[name] = Asset(body, kind, hashlib.sha256(body).hexdigest()[:12])
    return assets


def load_template(folder: Path = STATIC_DIR) -> str:
    """index.html, whose {{css}}, {{js}} and {{config}} are filled per request."""
    return (folder / "index.html").read_text(encoding="utf-8")


def prefers_html() -> bool:
    """True when the request's Accept ranks text/html above JSON (a browser's navigation).

    `*/*`, no Accept header, or JSON first (curl, requests, API clients) are not browsers.
    """
    accept = request.accept_mimetypes
    best = accept.best_match(["application/json", "text/html"])
    return best == "text/html" and accept["text/html"] > accept["application/json"]


def page_config() -> dict[str, Any]:
    """What the page needs to know about this server: its tools, whether a key is needed."""
    service = current_app.extensions.get("blur_sdk")
    settings = getattr(service, "settings", None)
    mounted = current_app.extensions.get("blur_sdk.apis", {})
    return {
        "base": request.script_root + "/",
        "tools": [{"api": n, "label": label} for n, label in API_LABELS.items() if n in mounted],
        "auth": bool(getattr(settings, "api_keys", ())),
        "shape": getattr(settings, "shape", "ellipse"),
    }


def render_page(template: str, assets: dict[str, Asset]) -> Response:
    """The page with versioned asset URLs and this server's config, revalidated on each load."""

    def asset_url(name: str) -> str:
        return html.escape(url_for(f"{NAME}.asset", name=name, v=assets[name].version))

    config = json.dumps(page_config()).replace("<", "\\u003c")
    body = (
        template.replace("{{css}}", asset_url("app.css"))
        .replace("{{js}}", asset_url("app.js"))
        .replace("{{config}}", config)
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:16])
    response.make_conditional(request)
    return response


def asset_response(assets: dict[str, Asset], name: str) -> Response:
    """A CSS/JS file: immutable for a year at its hashed URL, revalidated at any other."""
    asset = assets.get(name)
    if asset is None:
        raise NotFound()
    response = Response(asset.body, content_type=asset.content_type)
    versioned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = (
        f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(asset.version)
    response.make_conditional(request)
    return response


def web_blueprint(folder: Path = STATIC_DIR) -> Blueprint:
    """The page's blueprint; register it after the APIs' (it takes over browser GETs of /)."""
    template, assets = load_template(folder), load_assets(folder)
    routes = Blueprint(NAME, __name__)

    def demo() -> Response:
        return render_page(template, assets)

    def asset(name: str) -> Response:
        return asset_response(assets, name)

    views: dict[str, Callable[..., Response]] = {"demo": demo, "asset": asset}
    routes.add_url_rule("/demo", "demo", demo, methods=["GET"])
    routes.add_url_rule("/demo/assets/<name>", "asset", asset, methods=["GET"])

    def serve_first() -> Response | None:
        """Before the API-key gate: browser GETs of / and this blueprint's own routes."""
        if request.method not in ("GET", "HEAD"):
            return None
        g.setdefault("started", time.perf_counter())  # the request log's and metrics' clock
        if request.path in PAGE_PATHS and prefers_html():
            return render_page(template, assets)
        endpoint = (request.endpoint or "").removeprefix(f"{NAME}.")
        if request.blueprint == NAME and endpoint in views:
            return views[endpoint](**(request.view_args or {}))
        return None

    def install(state: BlueprintSetupState) -> None:
        state.app.before_request_funcs.setdefault(None, []).insert(0, serve_first)

    routes.record_once(install)
    return routes
