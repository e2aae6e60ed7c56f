"""The try-it page over the test client: served to browsers at / and at /demo, assets cached
by content hash, public when API_KEYS is set, and every non-browser request to / unchanged."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from flask.testing import FlaskClient

from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from blur_sdk.web.routes import STATIC_DIR
from tests.clients import error_of, ok, post
from tests.fakes import FakeEngine

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
NOT_BROWSERS = ("application/json", "*/*", "", "application/json, text/html;q=0.5")


def client_for(settings: Settings, apis: tuple[str, ...] = ("blur", "kaze")) -> FlaskClient:
    return create_app(settings, FakeEngine(), apis=apis).test_client()


def config_of(html: str) -> dict[str, object]:
    found = re.search(r'<script id="server-config" type="application/json">(.*?)</script>', html)
    assert found, html[:300]
    config: dict[str, object] = json.loads(found.group(1))
    return config


@pytest.mark.parametrize("path", ["/", "/demo"])
def test_a_browser_gets_the_page(settings: Settings, path: str) -> None:
    response = client_for(settings).get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<input id="file-input" type="file" accept="image/*" multiple>' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing from elsewhere
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    config = config_of(html)
    assert config["base"] == "/" and config["auth"] is False
    assert [t["api"] for t in config["tools"]] == ["blur", "kaze"]  # type: ignore[attr-defined]


def test_the_page_lists_only_mounted_tools(settings: Settings) -> None:
    html = client_for(settings, ("blur",)).get("/demo").get_data(as_text=True)
    assert [t["api"] for t in config_of(html)["tools"]] == ["blur"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("accept", NOT_BROWSERS)
def test_get_root_for_a_non_browser_answers_as_before(settings: Settings, accept: str) -> None:
    client = client_for(settings)
    headers = {"Accept": accept} if accept else {}
    response = client.get("/", headers=headers)
    assert "Method Not Allowed" in error_of(response, 405)
    assert "Vary" not in response.headers


def test_post_root_is_still_the_blur_api(settings: Settings) -> None:
    client = client_for(settings)
    response = client.post(
        "/", data={"faces": "5"}, headers={"Accept": BROWSER}, content_type="multipart/form-data"
    )
    assert "upload" in error_of(response, 400)  # the Blur API's refusal, not the page
    assert ok(post(client, faces="5", plates="5"))["blur"] is not None
    allow = client.options("/").headers["Allow"]
    assert set(allow.split(", ")) == {"OPTIONS", "POST"}  # no GET added to the route


def test_assets_are_cached_by_content_hash(settings: Settings) -> None:
    client = client_for(settings)
    html = client.get("/demo").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/demo/assets/[^"]+)"', html)
    assert len(urls) == 2, urls
    for url in (u.replace("&amp;", "&") for u in urls):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        name = url.split("/")[-1].split("?")[0]
        assert response.get_data() == (STATIC_DIR / name).read_bytes()
        assert response.mimetype == {"app.css": "text/css", "app.js": "text/javascript"}[name]
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        unversioned = client.get(url.split("?")[0])
        assert unversioned.headers["Cache-Control"] == "no-cache"
    assert error_of(client.get("/demo/assets/index.html"), 404)
    assert error_of(client.get("/demo/assets/..%2Froutes.py"), 404)


def test_the_page_needs_no_key_but_the_apis_do(settings: Settings) -> None:
    client = client_for(dataclasses.replace(settings, api_keys=("k1",)))
    page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200 and config_of(page.get_data(as_text=True))["auth"] is True
    asset = re.findall(r'src="(/demo/assets/[^"]+)"', page.get_data(as_text=True))[0]
    assert client.get(asset.replace("&amp;", "&")).status_code == 200
    assert client.get("/demo").status_code == 200
    assert error_of(client.get("/"), 401)  # a non-browser GET / is gated as before
    assert error_of(post(client, faces="5"), 401)


def test_the_static_files_fetch_nothing_from_elsewhere() -> None:
    for name in ("index.html", "app.css", "app.js"):
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name
        assert "@import" not in text and "url(http" not in text, name
