"""The Blur API through Flask's test client: answer shape, formats, metadata, info, errors."""

from __future__ import annotations

import base64
import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import responses
from PIL import Image, ImageCms, ImageOps

from bench.synthetic import FACE_BOX, encode, noise, save
from blur_sdk.apis.blur import create_app
from blur_sdk.apis.blur.answer import output_filename
from blur_sdk.apis.snapshot.client import SnapshotClient
from blur_sdk.core import find as detectors
from blur_sdk.core.find.engine import Engine
from blur_sdk.errors import ConfigError
from blur_sdk.licence.manager import LicenceManager
from blur_sdk.settings import Settings
from tests.clients import (
    blur_client,
    error_of,
    ok,
    output_image,
    output_rgb,
    post,
    region_changed,
)
from tests.fakes import PLATE, FakeEngine, FakeFaceDetector

SDK_URL = "http://snapshot.test:8080"


# -- answer shape ----------------------------------------------------------------------------


def test_answer_shape(settings: Settings) -> None:
    body = ok(post(blur_client(settings), faces="10", plates="10"))
    assert list(body) == ["faces", "plates", "blur"]
    assert body["faces"] == [
        {"box": {"xmin": 178, "ymin": 60, "xmax": 272, "ymax": 178}, "score": 0.9}
    ]
    (plate,) = body["plates"]
    assert plate["polygon"] == [list(p) for p in PLATE]
    assert plate["skipped"] is False
    result = plate["result"]
    assert set(result) >= {"box", "plate", "region", "score", "candidates", "dscore", "vehicle"}
    assert result["box"] == {"xmin": 300, "ymin": 392, "xmax": 482, "ymax": 440}
    assert result["plate"] == "ka482mx"
    assert result["candidates"] == [{"score": 0.8, "plate": "ka482mx"}]
    blur = body["blur"]
    assert set(blur) == {"content_type", "filename", "base64"}
    assert blur["content_type"] == "image/png" and blur["filename"] == "car.png"


def test_no_blur_when_no_intensity(settings: Settings) -> None:
    body = ok(post(blur_client(settings)))  # FACES=PLATES=0 by default: detect only
    assert body["blur"] is None
    assert len(body["faces"]) == 1 and len(body["plates"]) == 1


@pytest.mark.parametrize("path", ["/", "/v1/blur", "/v1/blur/"])
def test_paths(settings: Settings, path: str) -> None:
    body = ok(post(blur_client(settings), path=path, faces="5"))
    assert body["blur"] is not None


def test_urlencoded_base64_upload(settings: Settings) -> None:
    client = blur_client(settings)
    data = {"upload": base64.b64encode(encode(noise(64, 48), "PNG")).decode(), "plates": "3"}
    body = ok(client.post("/", data=data))  # application/x-www-form-urlencoded
    assert output_image(body).size == (64, 48)


def test_get_is_refused_with_json(settings: Settings) -> None:
    assert "Method Not Allowed" in error_of(blur_client(settings).get("/"), 405)


# -- formats, size, orientation, metadata ----------------------------------------------------


FORMATS = [  # input format, upload name, output content type, output name, output format
    ("JPEG", "car.jpg", "image/jpeg", "car.jpg", "JPEG"),
    ("PNG", "shot.png", "image/png", "shot.png", "PNG"),
    ("WEBP", "x.webp", "image/webp", "x.webp", "WEBP"),
    ("BMP", "old.bmp", "image/png", "old.png", "PNG"),
]


@pytest.mark.parametrize("case", FORMATS)
def test_same_format_out(settings: Settings, case: tuple[str, str, str, str, str]) -> None:
    fmt, filename, content_type, out_name, out_format = case
    image = encode(noise(300, 200), fmt)
    body = ok(post(blur_client(settings), image, filename, faces="10", plates="10"))
    assert body["blur"]["content_type"] == content_type
    assert body["blur"]["filename"] == out_name
    out = output_image(body)
    assert out.format == out_format and out.size == (300, 200)


def test_jpeg_stays_high_quality(settings: Settings) -> None:
    smooth = np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], (300, 1, 3))
    body = ok(post(blur_client(settings, FakeEngine([], [])), encode(smooth, "JPEG"), plates="5"))
    out = output_rgb(body).astype(int)
    assert np.abs(out - smooth.astype(int)).mean() < 2.0


def test_exif_rotated_input_comes_out_upright(settings: Settings) -> None:
    stored = noise(120, 80)
    stored[:10, :10] = (255, 0, 0)  # a red mark at the stored top-left
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise
    data = save(image, "JPEG", quality=95, exif=exif.tobytes())
    body = ok(post(blur_client(settings, FakeEngine([], [])), data, plates="5"))
    out = output_image(body)
    displayed = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert out.size == displayed.size == (80, 120)
    assert out.getexif().get(0x0112, 1) == 1
    red = np.asarray(out.convert("RGB"))[2:8, -8:-2].mean(axis=(0, 1))
    assert red[0] > 200 and red[1] < 60  # the mark is now at the displayed top-right


def _with_metadata() -> bytes:
    image = Image.fromarray(noise(160, 120))
    exif = image.getexif()
    exif[0x010F] = "BlurSdkTestCam"  # Make
    exif[0x0112] = 1
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return save(image, "JPEG", quality=95, exif=exif.tobytes(), icc_profile=icc)


def test_copy_metadata_keeps_exif_and_icc(settings: Settings) -> None:
    client = blur_client(settings)
    out = output_image(
        ok(post(client, _with_metadata(), "m.jpg", plates="4", copy_metadata="true"))
    )
    assert out.getexif().get(0x010F) == "BlurSdkTestCam"
    assert out.info.get("icc_profile")
    plain = output_image(ok(post(client, _with_metadata(), "m.jpg", plates="4")))
    assert plain.getexif().get(0x010F) is None and not plain.info.get("icc_profile")


def test_copy_metadata_from_env_and_overridden(settings: Settings) -> None:
    client = blur_client(settings, copy_metadata=True)
    out = output_image(ok(post(client, _with_metadata(), "m.jpg", plates="4")))
    assert out.getexif().get(0x010F) == "BlurSdkTestCam"
    off = output_image(ok(post(client, _with_metadata(), "m.jpg", plates="4", copy_metadata="0")))
    assert off.getexif().get(0x010F) is None


# -- info and counting -----------------------------------------------------------------------


def test_info_embedded_and_call_count(settings: Settings) -> None:
    client = blur_client(settings)
    ok(post(client, faces="1"))
    error_of(post(client, faces="11"))  # refused requests are not counted
    ok(post(client, plates="1"))
    for path in ("/info/", "/info"):
        info = client.get(path).get_json()
        assert info["version"] and info["snapshot"] is None and "snapshot_error" not in info
        assert info["mode"] == "embedded"
        assert info["detectors"] == {"faces": "fake-faces", "plates": ["fake-plates"]}
        assert info["licence"]["valid"] is True
        assert info["total_calls"] == 2


def _sdk_engine(settings: Settings, **changes: Any) -> Engine:
    client = SnapshotClient(dataclasses.replace(settings, sdk_url=SDK_URL, **changes))
    return Engine(FakeFaceDetector([FACE_BOX]), [client])


@responses.activate
def test_info_sdk_mode(settings: Settings) -> None:
    upstream = {"version": "1.2.3", "license_key": "abc***"}
    responses.get(f"{SDK_URL}/info/", json=upstream)
    info = blur_client(settings, _sdk_engine(settings)).get("/info/").get_json()
    assert info["mode"] == "sdk" and info["snapshot"] == upstream
    assert info["detectors"]["plates"] == ["snapshot"]


@responses.activate
def test_info_sdk_unreachable(settings: Settings) -> None:
    responses.get(f"{SDK_URL}/info/", body=requests.ConnectionError("refused"))
    info = blur_client(settings, _sdk_engine(settings)).get("/info/").get_json()
    assert info["snapshot"] is None and "unreachable" in info["snapshot_error"]


# -- SDK mode through the app ----------------------------------------------------------------


@responses.activate
def test_sdk_mode_blurs_upstream_plates(settings: Settings) -> None:
    result = {
        "box": {"xmin": 40, "ymin": 300, "xmax": 160, "ymax": 330},
        "plate": "ab123cd",
        "region": {"code": "gb", "score": 0.7},
        "score": 0.9,
        "candidates": [{"score": 0.9, "plate": "ab123cd"}],
        "dscore": 0.8,
        "vehicle": {
            "score": 0.5,
            "type": "Sedan",
            "box": {"xmin": 0, "ymin": 0, "xmax": 9, "ymax": 9},
        },
    }
    responses.post(f"{SDK_URL}/v1/plate-reader/", json={"results": [result]}, status=201)
    image = noise()
    body = ok(post(blur_client(settings, _sdk_engine(settings)), encode(image, "PNG"), plates="10"))
    (plate,) = body["plates"]
    assert plate["result"]["plate"] == "ab123cd" and plate["result"]["region"]["code"] == "gb"
    assert plate["result"]["vehicle"]["type"] == "Sedan"
    assert region_changed(image, output_rgb(body), (60, 305, 140, 325)) > 0.9
    assert region_changed(image, output_rgb(body), (0, 0, 512, 250)) == 0


@responses.activate
def test_sdk_errors_are_502_with_upstream_message(settings: Settings) -> None:
    responses.post(f"{SDK_URL}/v1/plate-reader/", json={"detail": "disk on fire"}, status=500)
    message = error_of(post(blur_client(settings, _sdk_engine(settings)), plates="5"), 502)
    assert "disk on fire" in message and "HTTP 500" in message


@responses.activate
def test_sdk_timeout_is_504(settings: Settings) -> None:
    responses.post(f"{SDK_URL}/v1/plate-reader/", body=requests.ReadTimeout("slow"))
    message = error_of(post(blur_client(settings, _sdk_engine(settings)), plates="5"), 504)
    assert "did not answer" in message


def test_plates_off_needs_no_upstream(settings: Settings) -> None:
    body = ok(post(blur_client(settings, _sdk_engine(settings)), plates="-1", faces="3"))
    assert body["plates"] == [] and len(body["faces"]) == 1


def test_build_engine_sdk_mode(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detectors, "create", lambda kind, name, s: FakeFaceDetector([]))
    app = create_app(dataclasses.replace(settings, sdk_url=SDK_URL))
    info = app.test_client().get("/info/").get_json()
    assert info["mode"] == "sdk"


# -- licence and access ----------------------------------------------------------------------


def test_licence_refused_is_403(settings: Settings) -> None:
    licensed = dataclasses.replace(
        settings, license_key="KEY", token="TOKEN", license_server_url="http://127.0.0.1:9"
    )  # nothing listens there: no successful check, so refused
    app = create_app(licensed, FakeEngine(), LicenceManager(licensed))
    message = error_of(post(app.test_client(), faces="1"), 403)
    assert "licence" in message
    assert app.test_client().get("/info/").status_code == 200


def test_api_keys(settings: Settings) -> None:
    client = blur_client(settings, api_keys=("k1",))
    error_of(post(client), 401)
    response = client.post(
        "/",
        data={"upload": (io.BytesIO(encode(noise(32, 32), "PNG")), "a.png")},
        headers={"Authorization": "Token k1"},
    )
    ok(response)


def test_output_filename() -> None:
    assert output_filename("dir/Car.JPG", "JPEG") == "Car.jpg"
    assert output_filename("C:\\x\\y.tif", "PNG") == "y.png"
    assert output_filename("", "PNG") == "image.png"


def test_bad_env_is_config_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LOGO"):
        create_app(dataclasses.replace(settings, logo="nope.png"), FakeEngine())
    with pytest.raises(ConfigError, match="SKIP_REGEXP"):
        create_app(dataclasses.replace(settings, skip_regexp=("(a+)+",)), FakeEngine())
    with pytest.raises(ConfigError, match="CONFIG"):
        create_app(dataclasses.replace(settings, config={"mode": "slow"}), FakeEngine())


# -- the error table -------------------------------------------------------------------------

BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"faces": "abc"}, "faces"),
    ({"faces": "11"}, "faces"),
    ({"plates": "-2"}, "plates"),
    ({"plates": "1.5"}, "plates"),
    ({"skip_regexp": "("}, "skip_regexp"),
    ({"skip_regexp": "(a+)+$"}, "skip_regexp"),
    ({"config": "{bad"}, "config"),
    ({"config": "[1, 2]"}, "config"),
    ({"config": '{"mode": "slow"}'}, "config"),
    ({"config": '{"threshold_d": 2}'}, "config"),
    ({"config": '{"text_formats": "abc"}'}, "config"),
    ({"et": "101"}, "et"),
    ({"el": "-1"}, "el"),
    ({"eb": "abc"}, "eb"),
    ({"er": "nan"}, "er"),
    ({"xmin": "10"}, "xmin"),
    ({"xmin": ["1", "2"], "ymin": ["1", "2"], "xmax": ["5", "6"], "ymax": ["5"]}, "xmin"),
    ({"xmin": "10", "ymin": "0", "xmax": "5", "ymax": "5"}, "xmax"),
    ({"xmin": "0", "ymin": "9", "xmax": "5", "ymax": "9"}, "ymax"),
    ({"xmin": "x", "ymin": "0", "xmax": "5", "ymax": "5"}, "xmin"),
    ({"split": "abc"}, "split"),
    ({"split": "100"}, "split"),
    ({"overlap": "95"}, "overlap"),
    ({"logo": "/etc/passwd"}, "logo"),
    ({"logo": "../conftest.py"}, "logo"),
    ({"logo": "/logos/../../etc/passwd"}, "logo"),
    ({"logo": "missing.png"}, "logo"),
    ({"logo": (io.BytesIO(b"not an image"), "logo.png")}, "logo"),
    ({"copy_metadata": "maybe"}, "copy_metadata"),
    ({"face_max_resolution": "10"}, "face_max_resolution"),
    ({"regions": "us ca!"}, "regions"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_FIELDS)
def test_bad_field_is_400_naming_it(settings: Settings, fields: dict[str, Any], field: str) -> None:
    message = error_of(post(blur_client(settings), **fields))
    named = (f"{field}:", f"{field}.")  # "config.mode: ..." names a key inside config
    assert message.startswith(named) or f"{field}/" in message, message


@pytest.mark.parametrize(
    ("image", "extra", "field"),
    [
        (b"", {}, "upload"),  # nothing sent
        (b"GIF89a garbage", {}, "upload"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, {}, "upload"),
        (b"", {"upload": "!!notbase64!!"}, "upload"),
        (b"", {"upload_url": "http://127.0.0.1:9/x.png"}, "upload_url"),
        (b"", {"upload_url": "ftp://example.com/x.png"}, "upload_url"),
    ],
)
def test_bad_image_is_400_naming_it(
    settings: Settings, image: bytes, extra: dict[str, Any], field: str
) -> None:
    message = error_of(post(blur_client(settings), image, **extra))
    assert message.startswith(f"{field}:"), message


def test_empty_file_is_400(settings: Settings) -> None:
    client = blur_client(settings)
    response = client.post("/", data={"upload": (io.BytesIO(b""), "empty.jpg")})
    assert error_of(response).startswith("upload:")


def test_oversize_is_413(settings: Settings) -> None:
    client = blur_client(settings, max_upload_bytes=1000)
    assert "larger than" in error_of(post(client, encode(noise(200, 200), "PNG")), 413)
    client = blur_client(settings, max_image_pixels=100 * 100)
    message = error_of(post(client, encode(noise(200, 200), "PNG")), 413)
    assert message.startswith("upload:") and "200x200" in message


def test_too_many_values_is_400(settings: Settings) -> None:
    client = blur_client(settings, max_repeated_fields=3)
    message = error_of(post(client, regions=["gb", "fr", "de", "it"]))
    assert message.startswith("regions:")
