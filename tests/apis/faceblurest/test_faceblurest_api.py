"""FaceBlurest's Face Blur API over fake engines: answer, boxes, photo, auth, error codes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bench.synthetic import FACE_BOX, astronaut, encode, noise
from blur_sdk.apis.faceblurest.answer import TAG_ID
from blur_sdk.core.find.base import FaceDetection, FaceOptions, RGBImage
from blur_sdk.core.find.engine import Engine
from blur_sdk.errors import BusyError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.server.app import create_app
from blur_sdk.settings import Settings
from tests.apis.faceblurest.helpers import (
    PATH,
    answer_of,
    basic,
    client_of,
    error_code,
    photo_rgb,
    send,
)
from tests.clients import ok, post, region_changed, serving
from tests.fakes import FakeEngine

ASTRONAUT = astronaut()
PNG = encode(ASTRONAUT, "PNG")
CREATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# -- the answer ------------------------------------------------------------------------------


def test_answer_shape_and_key_order(settings: Settings) -> None:
    body = answer_of(send(client_of(settings), PNG))
    assert list(body) == ["created", "predictions", "final_photo"]
    assert CREATED.match(body["created"]), body["created"]
    [face] = body["predictions"]
    assert list(face) == ["probability", "tagId", "tagName", "boundingBox", "boundingBoxPhoto"]
    assert list(face["boundingBox"]) == ["left", "top", "width", "height"]
    assert face["tagId"] == TAG_ID and face["tagName"] == "Human Face"
    assert face["probability"] == pytest.approx(0.9)
    assert face["boundingBoxPhoto"] == ""
    assert all(0.0 <= v <= 1.0 for v in face["boundingBox"].values())


def test_both_paths(settings: Settings) -> None:
    client = client_of(settings)
    for path in ("/faceblurest.aspx", "/faceblurest"):
        assert answer_of(send(client, PNG, path=path))["predictions"]


def test_boxes_match_the_blur_api(settings: Settings) -> None:
    engine = FakeEngine(faces=[FACE_BOX, (20.5, 30.2, 90.7, 120.9)])
    client = create_app(settings, engine, apis=("blur", "faceblurest")).test_client()
    blur = ok(post(client, PNG, faces="5", plates="-1"))
    ours = answer_of(send(client, PNG))
    h, w = ASTRONAUT.shape[:2]
    assert len(blur["faces"]) == len(ours["predictions"]) == 2
    for theirs, prediction in zip(blur["faces"], ours["predictions"], strict=True):
        box, frac = theirs["box"], prediction["boundingBox"]
        assert frac["left"] == pytest.approx(box["xmin"] / w, abs=1e-6)
        assert frac["top"] == pytest.approx(box["ymin"] / h, abs=1e-6)
        assert frac["width"] == pytest.approx((box["xmax"] - box["xmin"]) / w, abs=1e-5)
        assert frac["height"] == pytest.approx((box["ymax"] - box["ymin"]) / h, abs=1e-5)
        assert prediction["probability"] == pytest.approx(theirs["score"], abs=1e-3)


def test_final_photo_blurs_the_face(settings: Settings) -> None:
    image = noise(400, 300)
    body = answer_of(
        send(client_of(settings, FakeEngine(faces=[(100, 80, 220, 200)])), encode(image, "PNG"))
    )
    out = photo_rgb(body)
    assert out.shape == image.shape
    assert region_changed(image, out, (130, 110, 190, 170)) > 0.9  # inside the ellipse
    assert region_changed(image, out, (300, 220, 400, 300)) == 0.0  # far from the face


def test_no_face_answers_the_photo(settings: Settings) -> None:
    image = noise(64, 48)
    body = answer_of(send(client_of(settings, FakeEngine(faces=[])), encode(image, "PNG")))
    assert body["predictions"] == []
    assert photo_rgb(body).shape == image.shape


class _ScoredFaces:
    name = "scored-faces"

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        return [
            FaceDetection((10, 10, 50, 50), (10, 10, 50, 50), score=0.19),
            FaceDetection((60, 10, 100, 50), (60, 10, 100, 50), score=0.2),
        ]


def test_faint_faces_are_blurred_not_listed(settings: Settings) -> None:
    image = noise(128, 64)
    body = answer_of(send(client_of(settings, Engine(_ScoredFaces(), [])), encode(image, "PNG")))
    assert [p["probability"] for p in body["predictions"]] == [0.2]
    assert region_changed(image, photo_rgb(body), (20, 20, 40, 40)) > 0.9


def test_plates_are_not_searched(settings: Settings) -> None:
    engine = FakeEngine()
    answer_of(send(client_of(settings, engine), PNG))
    assert engine.plates.calls == []


def test_call_counted_and_info(settings: Settings) -> None:
    client = client_of(settings)
    answer_of(send(client, PNG))
    info = client.get("/info/").get_json()
    assert info["total_calls"] == 1
    assert info["faceblurest"]["auth"] is False


# -- photo_url -------------------------------------------------------------------------------


@pytest.fixture
def image_server() -> Iterator[str]:
    with serving({"/face.png": PNG}) as base:
        yield base


def test_photo_url(settings: Settings, image_server: str) -> None:
    client = client_of(settings, url_allow_private=True)
    by_url = answer_of(send(client, url=f"{image_server}/face.png"))
    by_photo = answer_of(send(client, PNG))
    assert by_url["predictions"] == by_photo["predictions"]
    assert photo_rgb(by_url).shape == ASTRONAUT.shape


def test_photo_url_refused_or_unreachable_is_2001(settings: Settings, image_server: str) -> None:
    private = client_of(settings)  # loopback refused by the URL rules
    assert error_code(send(private, url=f"{image_server}/face.png")) == "2001"
    allowed = client_of(settings, url_allow_private=True)
    assert error_code(send(allowed, url=f"{image_server}/missing.png")) == "2001"
    assert error_code(send(allowed, url="http://127.0.0.1:9/x.png")) == "2001"


# -- authorization ---------------------------------------------------------------------------


def test_basic_auth(settings: Settings) -> None:
    client = client_of(settings, faceblurest_users=("alice:s3cret", "bob:pw:with:colons"))
    answer_of(send(client, PNG, auth=basic("alice", "s3cret")))
    answer_of(send(client, PNG, auth=basic("bob", "pw:with:colons")))
    assert error_code(send(client, PNG)) == "1001"  # missing
    assert error_code(send(client, PNG, auth=basic("alice", "wrong"))) == "1001"
    assert error_code(send(client, PNG, auth=basic("mallory", "s3cret"))) == "1001"
    assert error_code(send(client, PNG, auth="Token s3cret")) == "1001"  # not Basic
    assert error_code(send(client, PNG, auth="Basic !!notbase64")) == "1001"
    assert client.get("/info/").status_code == 200  # /info/ is not FaceBlurest's


def test_basic_auth_with_http_errors(settings: Settings) -> None:
    client = client_of(settings, faceblurest_users=("alice:s3cret",), faceblurest_http_errors=True)
    response = send(client, PNG, auth=basic("alice", "nope"))
    assert error_code(response, 401) == "1001"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    answer_of(send(client, PNG, auth=basic("alice", "s3cret")))


def test_open_without_users(settings: Settings) -> None:
    answer_of(send(client_of(settings), PNG, auth="Basic whatever"))


def test_api_keys_protect_it_when_no_users_are_configured(settings: Settings) -> None:
    """An operator who turned auth on with API_KEYS gets no open FaceBlurest endpoint."""
    client = client_of(settings, api_keys=("k1",))
    assert error_code(send(client, PNG)) == "1001"
    assert error_code(send(client, PNG, auth=basic("any", "wrong"))) == "1001"
    answer_of(send(client, PNG, auth=basic("any", "k1")))  # the key as the password
    users = client_of(settings, api_keys=("k1",), faceblurest_users=("alice:s3cret",))
    assert error_code(send(users, PNG, auth=basic("any", "k1"))) == "1001"  # users win
    answer_of(send(users, PNG, auth=basic("alice", "s3cret")))


def test_bad_users_setting(settings: Settings) -> None:
    from blur_sdk.errors import ConfigError

    with pytest.raises(ConfigError, match="FACEBLUREST_USERS"):
        client_of(settings, faceblurest_users=("nopassword",))


# -- error codes -----------------------------------------------------------------------------


def _raw(client: Any, data: bytes, content_type: str = "application/json") -> Any:
    return client.post(PATH, data=data, content_type=content_type)


def _cases() -> list[tuple[str, int, Any]]:
    """(code, its status with FACEBLUREST_HTTP_ERRORS, a request making it) for each code."""
    big = b"0" * 2048
    return [
        ("1013", 413, lambda c: _raw(c, b'{"base64_Photo_String": "' + big + b'"}')),
        ("1013", 413, lambda c: _raw(c, b"")),  # nothing to upload
        ("1014", 400, lambda c: _raw(c, b"{not json")),
        ("1014", 400, lambda c: _raw(c, b"[1, 2]")),
        ("1014", 400, lambda c: send(c, PNG, url="http://example.com/a.png")),  # both
        ("1014", 400, send),  # neither
        ("1014", 400, lambda c: _raw(c, b'{"base64_Photo_String": "@@@", "photo_url": "NO"}')),
        ("1014", 400, lambda c: _raw(c, b'{"base64_Photo_String": 12, "photo_url": "NO"}')),
        ("2001", 400, lambda c: send(c, b"this is not an image")),
        ("2001", 400, lambda c: send(c, PNG[: len(PNG) // 2])),  # truncated
        ("2001", 400, lambda c: send(c, encode(noise(80, 20), "PNG"))),  # over MAX_IMAGE_SIDE
    ]


@pytest.mark.parametrize("http_errors", [False, True])
def test_error_codes(settings: Settings, http_errors: bool) -> None:
    client = client_of(
        settings,
        max_image_side=64,
        faceblurest_http_errors=http_errors,
    )
    small = client_of(
        settings, faceblurest_max_request_bytes=1024, faceblurest_http_errors=http_errors
    )
    for i, (code, status, make) in enumerate(_cases()):
        target = small if i == 0 else client
        response = make(target)
        assert error_code(response, status if http_errors else 200) == code, i


@pytest.mark.parametrize("http_errors", [False, True])
def test_licence_refused_is_1004(settings: Settings, http_errors: bool) -> None:
    licensed = dataclasses.replace(
        settings,
        license_key="KEY",
        token="TOKEN",
        license_server_url="http://127.0.0.1:9",
        faceblurest_http_errors=http_errors,
    )  # nothing listens there: no successful check, so refused
    app = create_app(licensed, FakeEngine(), LicenceManager(licensed), apis=("faceblurest",))
    assert error_code(send(app.test_client(), PNG), 403 if http_errors else 200) == "1004"


class _RaisingFaces:
    name = "raising-faces"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        raise self.error


@pytest.mark.parametrize("http_errors", [False, True])
def test_busy(settings: Settings, http_errors: bool) -> None:
    engine = Engine(_RaisingFaces(BusyError("busy")), [])
    response = send(client_of(settings, engine, faceblurest_http_errors=http_errors), PNG)
    assert error_code(response, 429 if http_errors else 200) == "4290"


@pytest.mark.parametrize("http_errors", [False, True])
def test_fault_is_500(settings: Settings, http_errors: bool) -> None:
    engine = Engine(_RaisingFaces(RuntimeError("secret detail")), [])
    response = send(client_of(settings, engine, faceblurest_http_errors=http_errors), PNG)
    assert error_code(response, 500) == "5000"
    assert "secret detail" not in response.get_data(as_text=True)


def test_body_over_the_server_limit_is_1013(settings: Settings) -> None:
    client = client_of(settings, max_upload_bytes=1024)  # the app-wide gate refuses it
    data = b'{"base64_Photo_String": "' + b"A" * 400_000 + b'"}'  # over 1024 * 4/3 + 256 KiB
    assert error_code(_raw(client, data)) == "1013"


def test_method_not_allowed_is_not_an_answer(settings: Settings) -> None:
    assert client_of(settings).get(PATH).status_code == 405


def test_parse_request() -> None:
    from blur_sdk.apis.faceblurest.errors import FaceBlurestError, FaceBlurestTooLong
    from blur_sdk.apis.faceblurest.request import parse_request

    assert (
        parse_request(b'{"base64_Photo_String": "data:image/png;base64,QUJD"}', 99).data == b"ABC"
    )
    assert parse_request(b'{"photo_url": "http://x/a.jpg", "base64_Photo_String": "no"}', 99).url
    with pytest.raises(FaceBlurestTooLong):  # a body with no Content-Length is measured too
        parse_request(b'{"base64_Photo_String": "QUJD"}', 10)
    with pytest.raises(FaceBlurestError):
        parse_request(b'{"base64_Photo_String": "", "photo_url": " NO "}', 99)
