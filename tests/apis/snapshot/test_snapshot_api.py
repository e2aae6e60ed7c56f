"""The Snapshot-compatible plate reader through Flask's test client (fake and real engines)."""

from __future__ import annotations

import base64
import functools
import io
import json
from datetime import datetime

import numpy as np
import pytest
from flask.testing import FlaskClient

from bench.synthetic import PLATE_QUAD, encode, scene_with_plate
from blur_sdk.apis.snapshot.routes import mask_key
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.text_plates import ranking_formats
from blur_sdk.core.plates.regions import REGION_FORMATS, best_region, formats_of, matches
from blur_sdk.settings import Settings
from tests.clients import PATHS, client_of, error_of, ok, post
from tests.fakes import PLATE, FakePlateDetector

SMALL_QUAD = [(20.0, 20.0), (120.0, 20.0), (120.0, 45.0), (20.0, 45.0)]
read = functools.partial(post, filename="car.jpg", path=PATHS["snapshot"])  # b"": no upload


@pytest.fixture(scope="module")
def image_bytes() -> bytes:
    return encode(scene_with_plate(), "JPEG", quality=90)


@pytest.fixture
def fake() -> FakePlateDetector:
    return FakePlateDetector([(PLATE, "AB-123 CD"), (SMALL_QUAD, "ka 482 mx")])


@pytest.fixture
def client(settings: Settings, fake: FakePlateDetector) -> FlaskClient:
    return client_of("snapshot", settings, Engine(None, [fake]))


def test_answer_shape(client: FlaskClient, image_bytes: bytes) -> None:
    body = ok(read(client, image_bytes), 201)
    assert list(body)[:6] == [
        "processing_time", "results", "filename", "version", "camera_id", "timestamp",
    ]  # fmt: skip
    assert isinstance(body["processing_time"], float) and body["processing_time"] >= 0
    assert body["filename"] == "car.jpg"
    assert body["camera_id"] is None
    assert (body["image_width"], body["image_height"]) == (512, 512)
    datetime.fromisoformat(body["timestamp"])
    first = body["results"][0]
    assert set(first) >= {"box", "plate", "region", "score", "candidates", "dscore", "vehicle"}
    assert first["box"] == {"xmin": 300, "ymin": 392, "xmax": 482, "ymax": 440}
    assert first["polygon"] == [list(p) for p in PLATE]
    assert first["vehicle"] == {
        "score": 0, "type": "Unknown", "box": {"xmin": 0, "ymin": 0, "xmax": 0, "ymax": 0},
    }  # fmt: skip
    assert first["region"] == {"code": "unknown", "score": 0.0}
    assert read(client, image_bytes, path="/v1/plate-reader").status_code == 201


def test_plate_text_lowercased_without_separators(client: FlaskClient, image_bytes: bytes) -> None:
    results = read(client, image_bytes).get_json()["results"]
    assert [r["plate"] for r in results] == ["ab123cd", "ka482mx"]
    assert results[0]["candidates"] == [{"score": 0.8, "plate": "ab123cd"}]


def test_options_reach_the_detector(
    client: FlaskClient, fake: FakePlateDetector, image_bytes: bytes
) -> None:
    config = {
        "mode": "fast",
        "threshold_d": 0.2,
        "threshold_o": 0.7,
        "text_formats": ["[a-z]{2}[0-9]{3}[a-z]{2}"],
        "detection_rule": "strict",
        "unknown_key": [1, 2],
    }
    response = read(
        client, image_bytes, regions=["it", "gb"], camera_id="cam-7", config=json.dumps(config)
    )
    assert response.status_code == 201, response.get_json()
    [options] = fake.calls
    assert options.mode == "fast"
    assert (options.threshold_d, options.threshold_o) == (0.2, 0.7)
    assert options.regions == ("it", "gb")
    assert options.text_formats == ("[a-z]{2}[0-9]{3}[a-z]{2}",)  # the user's: also upstream
    formats = ranking_formats(options)  # the reader adds the region hints' formats after them
    assert formats[0] == "[a-z]{2}[0-9]{3}[a-z]{2}"
    assert set(REGION_FORMATS["gb"]) <= set(formats)
    assert set(REGION_FORMATS["it"]) <= set(formats)
    assert options.forward == {}  # camera_id is echoed in the answer, not needed to read
    assert response.get_json()["filename"] == "car.jpg"  # echoed
    assert "unknown_key" in config  # ... and accepted, as Snapshot does (201 above)
    results = response.get_json()["results"]
    assert len(results) == 2  # detection_rule=strict keeps plates: there is no vehicle detector
    assert results[0]["region"]["code"] == "it"


def test_defaults_reach_the_detector(
    client: FlaskClient, fake: FakePlateDetector, image_bytes: bytes
) -> None:
    read(client, image_bytes)
    [options] = fake.calls
    assert options.mode == "redaction"
    assert options.threshold_d is None and options.threshold_o is None
    assert options.text_formats == () and options.regions == ()


def test_regions_comma_separated_and_best_region(client: FlaskClient, image_bytes: bytes) -> None:
    body = read(client, image_bytes, regions="GB, fr").get_json()
    codes = {r["plate"]: r["region"]["code"] for r in body["results"]}
    assert codes == {"ab123cd": "fr", "ka482mx": "fr"}
    assert best_region("AB12CDE", ("fr", "gb")) == ("gb", "fr")
    assert best_region("XYZ", ("fr", "gb")) == ("fr", "gb")


def test_region_strict_drops_nonmatching_readings(client: FlaskClient, image_bytes: bytes) -> None:
    dropped = read(client, image_bytes, regions="es", config='{"region": "strict"}')
    assert dropped.status_code == 201
    assert dropped.get_json()["results"] == []
    kept = read(client, image_bytes, regions="fr", config='{"region": "strict"}').get_json()
    assert [r["plate"] for r in kept["results"]] == ["ab123cd", "ka482mx"]
    unknown = read(client, image_bytes, regions="zz", config='{"region": "strict"}').get_json()
    assert len(unknown["results"]) == 2


def test_camera_id_and_timestamp_echo(client: FlaskClient, image_bytes: bytes) -> None:
    stamp = "2024-05-01T12:30:00Z"
    body = read(client, image_bytes, camera_id="gate-1", timestamp=stamp, mmc="true").get_json()
    assert body["camera_id"] == "gate-1"
    assert body["timestamp"] == stamp


def test_large_multipart_uploads(client: FlaskClient) -> None:
    png = encode(scene_with_plate(), "PNG")
    assert len(png) > 256 * 1024
    response = read(client, png)
    assert response.status_code == 201, response.get_json()
    as_text = {"upload": base64.b64encode(png).decode()}
    response = client.post("/v1/plate-reader/", data=as_text, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == "image.jpg"


def test_base64_upload(client: FlaskClient, image_bytes: bytes) -> None:
    for text in (
        base64.b64encode(image_bytes).decode(),
        "data:image/jpeg;base64," + base64.b64encode(image_bytes).decode(),
    ):
        response = client.post("/v1/plate-reader/", data={"upload": text})
        assert response.status_code == 201, response.get_json()
        assert len(response.get_json()["results"]) == 2


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({}, "upload"),
        ({"upload": "%%% not base64 %%%"}, "upload"),
        ({"config": "{not json"}, "config"),
        ({"config": "[1, 2]"}, "config"),
        ({"config": '{"threshold_d": 1.5}'}, "config.threshold_d"),
        ({"config": '{"threshold_o": "high"}'}, "config.threshold_o"),
        ({"config": '{"threshold_d": true}'}, "config.threshold_d"),
        ({"config": '{"mode": "turbo"}'}, "config.mode"),
        ({"config": '{"mode": 3}'}, "config.mode"),
        ({"config": '{"text_formats": "abc"}'}, "config.text_formats"),
        ({"config": '{"text_formats": ["[a-z"]}'}, "config.text_formats"),
        ({"config": '{"text_formats": ["(a+)+"]}'}, "config.text_formats"),
        ({"config": '{"detection_rule": "loose"}'}, "config.detection_rule"),
        ({"config": '{"region": 1}'}, "config.region"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2024-13-01T00:00:00"}, "timestamp"),
        ({"regions": "not a region"}, "regions"),
        ({"mmc": "maybe"}, "mmc"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    client: FlaskClient,
    fake: FakePlateDetector,
    image_bytes: bytes,
    fields: dict[str, str],
    named: str,
) -> None:
    image = b"" if "upload" in fields or not fields else image_bytes
    assert named in error_of(read(client, image, **fields))
    assert fake.calls == []


def test_private_upload_url_is_refused(client: FlaskClient, fake: FakePlateDetector) -> None:
    assert "upload_url" in error_of(read(client, b"", upload_url="http://127.0.0.1:9/car.jpg"))
    assert fake.calls == []


def test_not_an_image_is_400(client: FlaskClient) -> None:
    assert "image" in error_of(read(client, b"GIF89a garbage"))


def test_oversize_upload_is_413(
    settings: Settings, fake: FakePlateDetector, image_bytes: bytes
) -> None:
    client = client_of("snapshot", settings, Engine(None, [fake]), max_upload_bytes=1000)
    assert "1000" in error_of(read(client, image_bytes), 413)
    encoded = base64.b64encode(image_bytes[:5000]).decode()
    assert client.post("/v1/plate-reader/", data={"upload": encoded}).status_code == 413
    assert fake.calls == []


def test_api_key_refused_is_403(
    settings: Settings, fake: FakePlateDetector, image_bytes: bytes
) -> None:
    client = client_of("snapshot", settings, Engine(None, [fake]), api_keys=("secret",))
    data = {"upload": (io.BytesIO(image_bytes), "car.jpg")}
    wrong = client.post("/v1/plate-reader/", data=data, headers={"Authorization": "Token nope"})
    assert wrong.status_code == 403
    data = {"upload": (io.BytesIO(image_bytes), "car.jpg")}
    right = client.post("/v1/plate-reader/", data=data, headers={"Authorization": "Token secret"})
    assert right.status_code == 201


def test_info_counts_successful_calls(client: FlaskClient, image_bytes: bytes) -> None:
    info = client.get("/info/").get_json()
    assert info["total_calls"] == 0 and info["usage"] == {"calls": 0}
    assert info["webhooks"] == [] and info["license_key"] == ""
    assert info["licence"]["mode"] == "community" and info["licence"]["valid"] is True
    assert read(client, image_bytes).status_code == 201
    assert read(client, b"").status_code == 400
    assert read(client, image_bytes).status_code == 201
    info = client.get("/info").get_json()
    assert info["total_calls"] == 2 and info["usage"] == {"calls": 2}
    assert (mask_key(""), mask_key("abc"), mask_key("platerec_1234")) == ("", "***", "pla***")


def test_wrong_method_and_path_are_json(client: FlaskClient) -> None:
    assert client.get("/v1/plate-reader/").status_code == 405
    missing = client.get("/nowhere")
    assert error_of(missing, 404)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("gb", "AB12CDE"), ("fr", "AB123CD"), ("de", "MAB1234"), ("it", "AB123CD"),
        ("es", "1234BCD"), ("nl", "12ABC3"), ("us-ca", "7ABC123"), ("us-ny", "ABC1234"),
        ("in", "KA01AB1234"), ("br", "ABC1D23"), ("cn", "皖AYL375"),
    ],
)  # fmt: skip
def test_region_table(code: str, text: str) -> None:
    assert matches(text, formats_of(code))
    assert not matches("A", formats_of(code))


def test_region_table_excludes_impossible_readings() -> None:
    assert not matches("皖AON718", formats_of("cn"))  # China issues no I or O
    assert not matches("1234ABC", formats_of("es"))  # Spain issues no vowels
    assert formats_of("zz") == () and formats_of("us-ny") == formats_of("us")


@pytest.mark.models
def test_real_engine_reads_synthetic_plate(
    settings: Settings, real_engine: Engine, image_bytes: bytes
) -> None:
    client = client_of("snapshot", settings, real_engine)
    [result] = ok(read(client, image_bytes, regions="fr"), 201)["results"]
    assert result["plate"] == "ka482mx"
    assert result["candidates"][0]["plate"] == "ka482mx"
    assert result["region"]["code"] == "fr"
    assert 0 < result["score"] <= 1 and 0 < result["dscore"] <= 1
    polygon = np.array(result["polygon"])
    assert np.abs(polygon - PLATE_QUAD).max() < 15
    box = result["box"]
    assert abs(box["xmin"] - 300) < 15 and abs(box["ymax"] - 440) < 15
