"""GET /openapi.json and /docs: a valid OpenAPI 3.1 document that cannot drift from the code.

Drift is caught three ways: every routed (rule, method) must be documented (and every
documented one routed); every request field a parser reads, recorded while requests of each
API run, must be in its operation; every answer, success or refusal, must match its schema.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request as WerkzeugRequest

import blur_sdk.apis.faceblurest.request as faceblurest_request
from blur_sdk.server import openapi, service
from blur_sdk.server.app import create_app
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings
from tests.clients import noise_png
from tests.fakes import FakeEngine
from tests.videos import make_video

ALL = ("blur", "snapshot", "watermarkly", "faceblurest", "kaze", "textmark", "video")
PNG = noise_png()
B64 = base64.b64encode(PNG).decode()
Reads = dict[tuple[str, str], set[str]]
VIDEO: list[bytes] = []


def make_app(settings: Settings, apis: tuple[str, ...] = ALL, **changes: Any) -> Flask:
    app = create_app(dataclasses.replace(settings, **changes), FakeEngine(), apis=apis)
    if "openapi" not in app.blueprints:  # until app.py registers it
        app.register_blueprint(openapi.openapi_blueprint())
    return app


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = make_app(settings)
    yield app
    app.extensions["blur_sdk.tasks"].close()


def doc_of(app: Flask) -> dict[str, Any]:
    return openapi.document(app)


# -- the document and the routes ---------------------------------------------------------------


@pytest.mark.parametrize("apis", [ALL, ("blur",), ("snapshot",), ("watermarkly", "kaze")])
def test_every_route_is_documented_and_every_operation_routed(
    settings: Settings, apis: tuple[str, ...]
) -> None:
    app = make_app(settings, apis)
    doc = doc_of(app)
    validate(doc)
    routed = {(openapi.openapi_path(r.rule), m.lower()) for r, m in openapi.routes(app)}
    documented = {(p, m) for p, item in doc["paths"].items() for m in item}
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set()
    declared = {
        (openapi.openapi_path(path), method.lower())
        for spec in openapi.mounted_specs(app)
        for op in spec.operations
        for path in op.paths
        for method in op.methods
    }
    if apis == ALL:  # with every API mounted, every operation declared is routed
        assert declared - routed == set(), "spec operations no route serves (stale)"
    if "blur_sdk.tasks" in app.extensions:
        app.extensions["blur_sdk.tasks"].close()


def test_served_once_and_the_docs_page_is_local(app: Flask) -> None:
    client = app.test_client()
    served = client.get("/openapi.json")
    assert served.status_code == 200 and served.get_json() == doc_of(app)
    assert openapi.document(app) is openapi.document(app)  # built once per app
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js"):
        assert f"docs/assets/{name}" in text
        asset = client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200 and len(asset.data) > 100
    assert client.get("/docs/assets/../app.py").status_code == 404


def test_create_app_registers_the_blueprint(settings: Settings) -> None:
    app = create_app(settings, FakeEngine(), apis=("blur",))
    if "openapi" not in app.blueprints:
        pytest.skip("blur_sdk/server/app.py does not register openapi_blueprint() yet")
    assert app.test_client().get("/openapi.json").status_code == 200


def test_doc_paths_are_guarded_like_info(settings: Settings) -> None:
    if not hasattr(service, "is_doc_path"):
        pytest.skip("service._gate does not treat the doc paths like /info/ yet")
    client = make_app(settings, ("blur",), api_keys=("k",)).test_client()
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    closed = make_app(settings, ("blur",), api_keys=("k",), info_requires_auth=True)
    assert closed.test_client().get("/openapi.json").status_code == 401


def test_security_follows_the_settings(settings: Settings) -> None:
    open_doc = doc_of(make_app(settings, ("blur",)))
    keyed = doc_of(make_app(settings, ("blur",), api_keys=("k",)))
    assert open_doc["paths"]["/"]["post"]["security"] == [{}]
    assert keyed["paths"]["/"]["post"]["security"] == [{"Token": []}]


# -- recording what the parsers read -------------------------------------------------------------


class Recorder:
    """Which field names each (rule, method) read, while not paused."""

    def __init__(self) -> None:
        self.reads: Reads = {}
        self.paused = 0

    def log(self, key: Any) -> None:
        rule = flask.request.url_rule
        if not self.paused and rule is not None and isinstance(key, str):
            self.reads.setdefault((rule.rule, flask.request.method), set()).add(key)


def recording_multidict(recorder: Recorder, inner: MultiDict[str, Any]) -> MultiDict[str, Any]:
    class Recording(MultiDict):  # type: ignore[type-arg]
        def __getitem__(self, key: Any) -> Any:
            recorder.log(key)
            return super().__getitem__(key)

        def __contains__(self, key: object) -> bool:
            recorder.log(key)
            return super().__contains__(key)

        def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
            recorder.log(key)
            return super().get(key, default, type)

        def getlist(self, key: Any, type: Any = None) -> Any:  # type: ignore[override]
            recorder.log(key)
            return super().getlist(key, type)

    return Recording(inner)


def recording_dict(recorder: Recorder, inner: Any) -> Any:
    if not isinstance(inner, dict):
        return inner

    class Recording(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: Any) -> Any:
            recorder.log(key)
            return super().__getitem__(key)

        def __contains__(self, key: object) -> bool:
            recorder.log(key)
            return super().__contains__(key)

        def get(self, key: Any, default: Any = None) -> Any:
            recorder.log(key)
            return super().get(key, default)

    return Recording(inner)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Flask's request.form / args / files and get_json(), and FaceBlurest's json.loads, record
    the names read; Form's own limit checks (every field sent) are not reads."""
    rec = Recorder()
    for name in ("form", "args", "files"):
        original = getattr(WerkzeugRequest, name)

        def read(self: Any, original: Any = original, name: str = name) -> Any:
            value = original.__get__(self, type(self))
            if name == "files" and self.method == "GET":
                return value  # a GET has no body: no file can be sent
            return recording_multidict(rec, value)

        monkeypatch.setattr(flask.Request, name, property(read))
    get_json = flask.Request.get_json
    monkeypatch.setattr(
        flask.Request,
        "get_json",
        lambda self, *a, **k: recording_dict(rec, get_json(self, *a, **k)),
    )
    loads = types.SimpleNamespace(loads=lambda raw: recording_dict(rec, json.loads(raw)))
    monkeypatch.setattr(faceblurest_request, "json", loads)
    form_init = Form.__init__

    def init(self: Form, values: Any, settings: Settings) -> None:
        rec.paused += 1
        try:
            form_init(self, values, settings)
        finally:
            rec.paused -= 1

    monkeypatch.setattr(Form, "__init__", init)
    return rec


def multipart(**fields: Any) -> dict[str, Any]:
    return {"data": fields, "content_type": "multipart/form-data"}


def file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(PNG), "car.png"


def requests_of_every_api(c: FlaskClient) -> Iterator[TestResponse]:
    """The kinds of requests each API's tests send: successes, refusals, each image source."""
    for path in ("/", "/v1/blur"):
        yield c.post(path, **multipart(upload=file(), faces="5", plates="5", regions="fr"))
    yield c.post("/", data={"upload": B64, "faces": "11"})  # refused: faces out of range
    yield c.post("/", **multipart(upload_url="http://127.0.0.1:1/x.png"))
    for path in ("/v1/plate-reader/", "/v1/plate-reader"):
        yield c.post(path, **multipart(upload=file(), regions="fr", config='{"mode": "fast"}'))
    yield c.post("/v1/plate-reader/", **multipart(upload=file(), timestamp="yesterday"))
    yield c.post("/blur/?blur_intensity=5&width=64&format=webp", data=PNG,
                 content_type="application/octet-stream")  # fmt: skip
    yield c.get("/blur/?url=http://127.0.0.1:1/x.png")
    yield c.post("/blur/?blur_intensity=99", data=PNG, content_type="application/octet-stream")
    for path in ("/faceblurest.aspx", "/faceblurest"):
        yield c.post(path, json={"base64_Photo_String": B64, "photo_url": "NO"})
    yield c.post("/faceblurest.aspx", json={"base64_Photo_String": "NO", "photo_url": "NO"})
    yield c.post("/faceblurest.aspx", json={"photo_url": "http://127.0.0.1:1/x.png"})
    kaze = "/api/ext/v1/"
    submitted = c.post(kaze + "submit_watermark_removal",
                       json={"image_base64": B64, "smear_base64": B64})  # fmt: skip
    yield submitted
    task = (submitted.get_json()["data"] or {}).get("task_id", "x")
    yield c.post(kaze + "submit_watermark_removal", json={"image_url": "http://127.0.0.1:1/"})
    yield c.post(kaze + "get_task_result", json={"task_id": task})
    yield c.post(kaze + "get_task_result", json={"task_id": "nope"})
    yield c.post(kaze + "get_quota")
    yield c.get(kaze + "get_quota")  # refused: code 1001
    remove, token = "/api/text-watermark/remove", "/api/text-watermark/token"
    yield c.post(remove, **multipart(image_file=file(), rectangles="[[1, 1, 20, 20]]", show="1"))
    yield c.post(remove, **multipart(image_base64=B64, watermarkNames='["SAMPLE"]', ocrOnly="1"))
    yield c.post(remove, **multipart(image_url="http://127.0.0.1:1/x.png"))
    yield c.get(remove, query_string={"image_base64": B64, "excludeKeywords": '["a"]'})
    yield c.post(remove, **multipart(offset="[1, 2, 3, 4]"))  # refused: no image
    yield c.put(remove)
    yield c.post(token, data={"appId": "x", "appSecret": "y"})
    yield c.post(token, json={"appId": "x", "appSecret": "y"})
    yield c.get(token)
    clip = video_bytes()
    sent = c.post("/v1/video", **multipart(upload=(io.BytesIO(clip), "a.mp4"), sample="2"))
    yield sent
    yield c.get(f"/v1/video/{(sent.get_json() or {}).get('task_id', 'x')}")
    yield c.get("/v1/video/nope")
    yield c.post("/v1/video", **multipart(upload=(io.BytesIO(PNG), "a.png"), look_ahead="3"))
    for path in ("/info/", "/info", "/metrics", "/demo", "/demo/assets/app.css", "/results/x",
                 "/openapi.json", "/docs", "/docs/assets/docs.js"):  # fmt: skip
        yield c.get(path)


def video_bytes() -> bytes:
    """A short test video (tests/videos.py), made once."""
    if not VIDEO:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "clip.mp4"
            make_video(path, frames=6)
            VIDEO.append(path.read_bytes())
    return VIDEO[0]


def documented_names(op: dict[str, Any]) -> set[str]:
    names = set()
    for param in op.get("parameters", []):
        names |= {param["name"], *param.get("x-aliases", [])}
    for media in op.get("requestBody", {}).get("content", {}).values():
        for name, prop in media["schema"].get("properties", {}).items():
            names |= {name, *prop.get("x-aliases", [])}
    return names


def test_every_field_a_parser_reads_is_documented(app: Flask, recorder: Recorder) -> None:
    for _ in requests_of_every_api(app.test_client()):
        pass
    doc = doc_of(app)
    assert len(recorder.reads) >= 12, recorder.reads  # the recording works
    missing = {}
    for (rule, method), names in recorder.reads.items():
        op = doc["paths"][openapi.openapi_path(rule)][method.lower()]
        if undocumented := names - documented_names(op):
            missing[f"{method} {rule}"] = sorted(undocumented)
    assert missing == {}, "fields read but not in the OpenAPI document"


# -- answers against their schemas ---------------------------------------------------------------


def answer_checker(app: Flask) -> Callable[[TestResponse], None]:
    doc = doc_of(app)
    urls = app.url_map.bind("localhost")
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(doc))

    def escape(part: str) -> str:
        return part.replace("~", "~0").replace("/", "~1")

    def check(response: TestResponse) -> None:
        request = response.request
        rule, _ = urls.match(request.path, request.method, return_rule=True)
        path = openapi.openapi_path(rule.rule)
        method = request.method.lower()
        answers = doc["paths"][path][method]["responses"]
        status = str(response.status_code)
        where = f"{request.method} {request.path} -> {status}"
        assert status in answers, f"{where}: status not documented"
        content = answers[status].get("content", {})
        assert response.mimetype in content, f"{where}: {response.mimetype} not documented"
        if response.mimetype != "application/json":
            return
        pointer = "/".join(
            escape(p) for p in ("paths", path, method, "responses", status, "content",
                                response.mimetype, "schema")
        )  # fmt: skip
        schema = {"$ref": f"urn:openapi#/{pointer}"}
        errors = list(Draft202012Validator(schema, registry=registry).iter_errors(response.json))
        assert not errors, f"{where}: {errors[0].message[:300]} at {list(errors[0].path)}"

    return check


def test_every_answer_matches_its_schema(app: Flask) -> None:
    check = answer_checker(app)
    statuses = set()
    for response in requests_of_every_api(app.test_client()):
        check(response)
        statuses.add(response.status_code)
    assert {200, 201, 202, 400, 404, 405} <= statuses


def test_answers_with_http_errors_and_auth_on(settings: Settings) -> None:
    app = make_app(settings, ("faceblurest", "watermarkly"), faceblurest_http_errors=True,
                   api_keys=("k",))  # fmt: skip
    check = answer_checker(app)
    c = app.test_client()
    for response in (
        c.post("/faceblurest.aspx", json={"base64_Photo_String": B64}),  # 401
        c.post("/faceblurest.aspx", data="{", headers={"Authorization": "Basic eDpr"}),  # 400
        c.post("/blur/", data=PNG, content_type="application/octet-stream"),  # 403
    ):
        assert response.status_code in (400, 401, 403)
        check(response)


# -- limits and choices in the spec are the parser's ---------------------------------------------


def probes(field: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(accepted, refused) values for a documented field's bounds, choices or boolean type."""
    schema = field.get("items", field)
    kind, lo, hi = schema.get("type"), schema.get("minimum"), schema.get("maximum")
    if "enum" in schema:
        return [str(v) for v in schema["enum"]], ["not-a-choice"]
    if kind == "boolean":
        return ["true", "false"], ["maybe"]
    if lo is None or hi is None:
        return [], []
    step = 1 if kind == "integer" else (hi - lo) / 10
    fmt = (lambda v: str(int(v))) if kind == "integer" else repr
    return [fmt(lo), fmt(hi)], [fmt(lo - step), fmt(hi + step)]


@pytest.mark.parametrize(
    ("path", "method"), [("/", "post"), ("/blur/", "get"), ("/v1/video", "post")]
)
def test_documented_limits_are_the_parsers(app: Flask, path: str, method: str) -> None:
    """Each bound, choice and boolean of the spec, probed: no upload / no url, so only the
    fields are parsed; a refusal must name the field, an accepted value must not be refused."""
    op = doc_of(app)["paths"][path][method]
    if "requestBody" in op:
        fields = op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    else:
        fields = {p["name"]: p["schema"] for p in op["parameters"]}
    c, probed = app.test_client(), 0

    def message(value: str, name: str) -> str:
        if method == "get":
            response = c.get(path, query_string={name: value})
        else:
            response = c.post(path, **multipart(**{name: value}))
        body = response.get_json()
        return str(body.get("error") or body.get("message") or "") if response.status_code else ""

    for name, field in fields.items():
        accepted, refused = probes(field)
        for value in accepted:
            assert not message(value, name).startswith(f"{name}:"), (name, value)
        for value in refused:
            assert message(value, name).startswith(f"{name}:"), (name, value)
        probed += len(accepted) + len(refused)
    assert probed >= 12
