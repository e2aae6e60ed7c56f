"""Hostile and odd inputs through both HTTP apps: every refusal a 4xx JSON naming the problem."""

from __future__ import annotations

import dataclasses
import functools
import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from urllib3 import encode_multipart_formdata
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from bench import synthetic
from bench.synthetic import encode, save
from blur_sdk.apis.blur.request import BlurDefaults, parse_blur_request
from blur_sdk.core.find.engine import Engine
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings, load_settings
from tests.clients import OK, PATHS, SERVICES, app_of, error_of, post
from tests.fakes import FakeEngine

PLATE = [(60.0, 60.0), (100.0, 60.0), (100.0, 80.0), (60.0, 80.0)]
MAX_UPLOAD = 300_000
MAX_FIELD = 100_000
MAX_REPEATS = 8
EXIF_ORIENTATION = 0x0112


# -- images made in code ---------------------------------------------------------------------


def noise(width: int = 96, height: int = 96, channels: int = 3) -> np.ndarray:
    """Random pixels (seeded), small by default."""
    return synthetic.noise(width, height, channels, seed=5)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_raw(
    width: int,
    height: int,
    *,
    depth: int = 8,
    color: int = 2,
    extra: bytes = b"",
    idat: bytes = b"",
) -> bytes:
    """A PNG from its parts: the header says width x height, the data may say otherwise."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    data = idat or zlib.compress(b"\0" * 16)
    chunks = png_chunk(b"IHDR", header) + extra + png_chunk(b"IDAT", data)
    return b"\x89PNG\r\n\x1a\n" + chunks + png_chunk(b"IEND", b"")


def png_rgb16(width: int = 24, height: int = 16) -> bytes:
    """A valid 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    pixels = np.random.default_rng(3).integers(0, 65536, (height, width, 3), dtype=np.uint16)
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in pixels)
    return png_raw(width, height, depth=16, color=2, idat=zlib.compress(rows))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    good = encode(noise(16, 16), "JPEG")
    at = good.find(b"\xff\xc0")
    return good[: at + 5] + struct.pack(">HH", height, width) + good[at + 9 :]


def gif_bomb(side: int = 65535) -> bytes:
    """A ~40-byte GIF whose screen and frame declare side x side pixels."""
    screen = struct.pack("<HHBBB", side, side, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, side, side, 0)
    return b"GIF89a" + screen + frame + b"\x02\x02\x4c\x01\x00;"


def exif_jpeg(orientation: int, width: int = 40, height: int = 20) -> bytes:
    """A JPEG with an EXIF Orientation tag."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return save(Image.fromarray(noise(width, height)), "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    """A two-frame animated GIF (only the first frame is processed)."""
    frames = [Image.fromarray(noise(32, 24)).convert("P"), Image.new("P", (32, 24), 3)]
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


def mpo() -> bytes:
    """A multi-picture JPEG (MPO), as many phones write them."""
    first, second = Image.fromarray(noise(32, 24)), Image.new("RGB", (32, 24), (9, 9, 9))
    return save(first, "MPO", save_all=True, append_images=[second])


def palette_with_transparency() -> bytes:
    """A palette PNG whose colour 0 is transparent."""
    image = Image.fromarray(noise(32, 24)).convert("P", palette=Image.Palette.ADAPTIVE)
    return save(image, "PNG", transparency=0)


VALID_IMAGES: dict[str, Callable[[], bytes]] = {
    "cmyk-jpeg": lambda: save(Image.fromarray(noise(channels=4), "CMYK"), "JPEG"),
    "gray-jpeg": lambda: save(Image.fromarray(noise(channels=1), "L"), "JPEG"),
    "progressive-jpeg": lambda: encode(noise(), "JPEG", progressive=True),
    "png-16bit-gray": lambda: save(
        Image.fromarray(noise(channels=1).astype(np.uint16) * 257), "PNG"
    ),
    "png-16bit-rgb": png_rgb16,
    "png-palette-transparency": palette_with_transparency,
    "png-rgba": lambda: save(Image.fromarray(noise(channels=4), "RGBA"), "PNG"),
    "png-la": lambda: save(Image.fromarray(noise(channels=1), "L").convert("LA"), "PNG"),
    "png-1bit": lambda: save(Image.fromarray(noise(channels=1), "L").convert("1"), "PNG"),
    "png-1x1": lambda: encode(noise(1, 1), "PNG"),
    "png-2x10000-strip": lambda: encode(np.zeros((10000, 2, 3), np.uint8), "PNG"),
    "gif-animated": animated_gif,
    "tiff": lambda: encode(noise(), "TIFF"),
    "tiff-lzw": lambda: encode(noise(), "TIFF", compression="tiff_lzw"),
    "tiff-float": lambda: save(Image.fromarray(noise(channels=1).astype(np.float32), "F"), "TIFF"),
    "bmp": lambda: encode(noise(), "BMP"),
    "webp": lambda: encode(noise(), "WEBP"),
    "webp-rgba": lambda: save(Image.fromarray(noise(channels=4), "RGBA"), "WEBP"),
    "mpo": mpo,
    **{f"exif-orientation-{n}": functools.partial(exif_jpeg, n) for n in range(1, 9)},
}


# -- apps ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Small limits (cheap oversize cases) and a logos folder with traps in it."""
    root = tmp_path_factory.mktemp("hostile")
    logos = root / "logos"
    logos.mkdir()
    (logos / "logo.png").write_bytes(save(Image.new("RGBA", (30, 8), (0, 255, 0, 255)), "PNG"))
    (logos / "notes.png").write_text("not an image")
    (root / "secret.png").write_bytes((logos / "logo.png").read_bytes())
    (logos / "link.png").symlink_to(root / "secret.png")
    settings = load_settings(env={}, config_dir=root / "no-config")
    return dataclasses.replace(
        settings,
        license_dir=root / "license",
        logos_dir=logos,
        max_upload_bytes=MAX_UPLOAD,
        max_field_length=MAX_FIELD,
        max_repeated_fields=MAX_REPEATS,
    )


def build(service: str, settings: Settings, engine: Engine | None = None) -> Flask:
    """The app over fakes that find a plate (and for Blur a face) near the top-left corner."""
    faces = [(10.0, 10.0, 50.0, 50.0)] if service == "blur" else None
    return app_of(service, settings, engine or FakeEngine(faces, [(PLATE, "AB123")]))


@pytest.fixture(scope="module")
def clients(base_settings: Settings) -> dict[str, FlaskClient]:
    """One client per app, shared by the whole matrix (the apps must survive all of it)."""
    return {name: build(name, base_settings).test_client() for name in SERVICES}


def send(client: FlaskClient, service: str, fields: dict[str, Any]) -> TestResponse:
    """A multipart POST of fields to the service; (bytes, name) tuples are files."""
    return post(client, b"", path=PATHS[service], **fields)


# -- the matrix ------------------------------------------------------------------------------

IMAGE = encode(noise(), "PNG")
SMALL_JPEG = encode(noise(), "JPEG")


@dataclasses.dataclass(frozen=True)
class Bad:
    """One hostile request: its fields (upload added unless given), status and message words."""

    name: str
    fields: dict[str, Any]
    words: tuple[str, ...]
    status: int = 400
    services: tuple[str, ...] = SERVICES
    with_image: bool = True


def upload(data: bytes, name: str = "car.png") -> dict[str, Any]:
    """The upload field with these bytes."""
    return {"upload": (data, name)}


BAD: list[Bad] = [
    # images: empty, truncated, corrupt, not images, unsupported formats
    Bad("empty-file", upload(b""), ("upload:", "empty")),
    Bad(
        "truncated-png",
        upload(IMAGE[: len(IMAGE) // 2]),
        ("upload: image is corrupt:", "truncated", "PNG"),
    ),
    Bad("truncated-jpeg", upload(SMALL_JPEG[:200]), ("upload:", "image is corrupt", "JPEG")),
    Bad("png-signature-then-zeros", upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), ("upload:",)),
    Bad("text-file", upload(b"hello, world\n" * 20, "a.jpg"), ("upload:", "JPEG, PNG")),
    Bad("html", upload(b"<html><body>hi</body></html>"), ("upload:", "supported")),
    Bad("svg", upload(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg"), ("upload:",)),
    Bad("pdf", upload(b"%PDF-1.4\n1 0 obj\n%%EOF\n", "a.pdf"), ("upload:", "supported")),
    Bad("ico-unsupported", upload(encode(noise(16, 16), "ICO")), ("upload:", "ICO", "WEBP")),
    Bad("ppm-unsupported", upload(encode(noise(16, 16), "PPM")), ("upload:", "PPM")),
    Bad("png-zero-size", upload(png_raw(0, 0)), ("upload:",)),
    # decompression bombs: refused from the header, before any raster is allocated
    Bad("png-30000x30000", upload(png_raw(30000, 30000)), ("upload:", "30000x30000"), 413),
    Bad("jpeg-30000x30000", upload(jpeg_declaring(30000, 30000)), ("upload:", "30000x30000"), 413),
    Bad("gif-bomb", upload(gif_bomb()), ("upload:", "65535x65535"), 413),
    Bad("png-20000x1-strip", upload(png_raw(20000, 1)), ("upload:", "20000x1"), 413),
    Bad(
        "png-huge-ztxt",
        upload(png_raw(8, 8, extra=png_chunk(b"zTXt", b"k\0\0" + zlib.compress(b"a" * 2**25)))),
        ("upload:",),
    ),
    Bad(
        "png-huge-iccp",
        upload(png_raw(8, 8, extra=png_chunk(b"iCCP", b"p\0\0" + zlib.compress(b"a" * 2**25)))),
        ("upload:",),
    ),
    # sizes and counts
    Bad("upload-over-max", upload(b"\xff\xd8" + b"\0" * (MAX_UPLOAD + 10)), ("upload:",), 413),
    Bad("base64-not-base64", {"upload": "!!!not base64!!!"}, ("upload:", "base64"), 400),
    Bad("base64-not-image", {"upload": "aGVsbG8gd29ybGQ="}, ("upload:", "supported"), 400),
    Bad("no-upload", {"camera_id": "cam"}, ("upload:", "required"), with_image=False),
    Bad("camera-id-too-long", {"camera_id": "x" * (MAX_FIELD + 1)}, ("camera_id:", "longer")),
    Bad("regions-repeated", {"regions": ["gb"] * (MAX_REPEATS + 1)}, ("regions:", "at most")),
    Bad("regions-not-a-code", {"regions": "../etc"}, ("regions:",)),
    Bad("regions-unicode", {"regions": "ｕｓ"}, ("regions:",)),
    # upload_url (its safety rules are covered in depth by test_url_fetch.py)
    Bad("upload-url-file", {"upload_url": "file:///etc/passwd"}, ("upload_url:", "http")),
    Bad("upload-url-loopback", {"upload_url": "http://127.0.0.1:9/a.jpg"}, ("upload_url:",)),
    Bad("upload-url-garbage", {"upload_url": "http://[::1"}, ("upload_url:",)),
    # JSON
    Bad("config-invalid-json", {"config": "{'mode': 1}"}, ("config:", "invalid JSON")),
    Bad("config-not-object", {"config": "[1, 2]"}, ("config:", "object")),
    Bad("config-nested-10000", {"config": "[" * 10000 + "]" * 10000}, ("config:", "nested")),
    Bad("config-nested-objects", {"config": '{"a":' * 5000 + "1" + "}" * 5000}, ("config:",)),
    Bad("config-5000-digit-number", {"config": '{"threshold_d": ' + "9" * 5000 + "}"}, ("config",)),
    Bad("config-nan", {"config": '{"threshold_d": NaN}'}, ("config", "threshold_d")),
    Bad("config-threshold-2", {"config": '{"threshold_o": 2}'}, ("config", "threshold_o")),
    Bad("config-mode", {"config": '{"mode": "turbo"}'}, ("config", "mode")),
    Bad("config-text-formats-type", {"config": '{"text_formats": "x"}'}, ("text_formats",)),
    Bad("config-text-formats-redos", {"config": '{"text_formats": ["(a|aa)+"]}'}, ("backtr",)),
    Bad("config-text-formats-invalid", {"config": '{"text_formats": ["["]}'}, ("invalid regex",)),
    # Blur: numbers, booleans, regexes, exclusions, logos
    *[
        Bad(f"faces-{label}", {"faces": value}, ("faces:",), services=("blur",))
        for label, value in [
            ("nan", "nan"),
            ("inf", "inf"),
            ("1e309", "1e309"),
            ("float", "5.0"),
            ("hex", "0x5"),
            ("fullwidth-digit", "５"),
            ("arabic-digit", "٣"),
            ("underscore", "1_0"),
            ("too-big", "11"),
            ("too-small", "-2"),
            ("text", "five"),
            ("huge", "9" * 5000),
        ]
    ],
    *[
        Bad(f"overlap-{label}", {"overlap": value}, ("overlap:",), services=("blur",))
        for label, value in [
            ("nan", "nan"),
            ("inf", "-inf"),
            ("1e309", "1e309"),
            ("range", "95"),
            ("fullwidth", "１０"),
            ("comma", "1,5"),
        ]
    ],
    Bad("split-range", {"split": "33"}, ("split:",), services=("blur",)),
    Bad("margin-range", {"et": "101"}, ("et:",), services=("blur",)),
    Bad("margin-negative", {"er": "-1"}, ("er:",), services=("blur",)),
    Bad("face-max-resolution", {"face_max_resolution": "10"}, ("face_max",), services=("blur",)),
    Bad("copy-metadata-maybe", {"copy_metadata": "maybe"}, ("copy_metadata:",), services=("blur",)),
    *[
        Bad(
            f"skip-regexp-{label}",
            {"skip_regexp": value},
            ("skip_regexp:", words),
            services=("blur",),
        )
        for label, value, words in [
            ("nested-plus", "(a+)+$", "backtracking"),
            ("alternation-star", "(a|a)*b", "backtracking"),
            ("word-space", r"(\w+\s?)*$", "backtracking"),
            ("overlapping-alternatives", "(a|aa)+$", "backtracking"),
            ("many-stars", "a*" * 8 + "b", "backtracking"),
            ("backreference", r"(a)\1", "backreferences"),
            ("named-backreference", "(?P<x>a)(?P=x)", "backreferences"),
            ("invalid", "[A-Z", "invalid regex"),
            ("too-long", "A" * 201, "longer than"),
        ]
    ],
    Bad(
        "skip-regexp-repeated",
        {"skip_regexp": ["A"] * (MAX_REPEATS + 1)},
        ("skip_regexp:", "at most"),
        services=("blur",),
    ),
    Bad("exclusion-incomplete", {"xmin": "1", "ymin": "1"}, ("xmin",), services=("blur",)),
    Bad(
        "exclusion-inverted",
        {"xmin": "50", "ymin": "1", "xmax": "10", "ymax": "9"},
        ("xmax:", "inverted"),
        services=("blur",),
    ),
    Bad(
        "exclusion-empty-value",
        {"xmin": "", "ymin": "1", "xmax": "10", "ymax": "9"},
        ("xmin:",),
        services=("blur",),
    ),
    Bad(
        "exclusion-nan",
        {"xmin": "nan", "ymin": "1", "xmax": "10", "ymax": "9"},
        ("xmin:",),
        services=("blur",),
    ),
    *[
        Bad(f"logo-{label}", {"logo": value, "plates": "5"}, ("logo:", words), services=("blur",))
        for label, value, words in [
            ("dotdot", "../secret.png", "outside"),
            ("dotdot-inside", "/logos/../../etc/passwd", "outside"),
            ("absolute", "/etc/passwd", "outside"),
            ("windows", "..\\..\\secret.png", "outside"),
            ("drive", "C:\\secret.png", "outside"),
            ("nul", "logo.png\x00.txt", "NUL"),
            ("url-encoded", "%2e%2e%2fsecret.png", "not found"),
            ("symlink-out", "link.png", "outside"),
            ("not-an-image", "notes.png", "image"),
            ("missing", "nope.png", "not found"),
        ]
    ],
    Bad(
        "logo-upload-not-image",
        {"logo": (b"GIF89a nope", "logo.gif"), "plates": "5"},
        ("logo:",),
        services=("blur",),
    ),
    # Snapshot's own fields
    Bad("mmc-maybe", {"mmc": "maybe"}, ("mmc:",), services=("snapshot",)),
    Bad("timestamp", {"timestamp": "yesterday"}, ("timestamp:",), services=("snapshot",)),
    Bad("timestamp-digits", {"timestamp": "９９９９"}, ("timestamp:",), services=("snapshot",)),
    Bad(
        "detection-rule",
        {"config": '{"detection_rule": "lax"}'},
        ("detection_rule",),
        services=("snapshot",),
    ),
    Bad(
        "region-rule-type", {"config": '{"region": 5}'}, ("config.region",), services=("snapshot",)
    ),
]
CASES = [(service, bad) for bad in BAD for service in bad.services]


def test_the_matrix_is_large_and_distinct() -> None:
    assert len({bad.name for bad in BAD}) == len(BAD) >= 40
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    ("service", "bad"), CASES, ids=[f"{service}-{bad.name}" for service, bad in CASES]
)
def test_hostile_input_is_a_4xx_json_naming_it(
    clients: dict[str, FlaskClient], service: str, bad: Bad
) -> None:
    fields = dict(bad.fields)
    if bad.with_image and "upload" not in fields and "upload_url" not in fields:
        fields["upload"] = (IMAGE, "car.png")
    message = error_of(send(clients[service], service, fields), bad.status)
    for word in bad.words:
        assert word in message, message


@pytest.mark.parametrize("service", SERVICES)
def test_request_level_refusals(clients: dict[str, FlaskClient], service: str) -> None:
    client, path = clients[service], PATHS[service]
    assert "Method Not Allowed" in error_of(client.get(path), 405)
    assert "Not Found" in error_of(client.post("/nowhere/"), 404)
    upload_required = [
        client.post(path, data=b'{"upload": "x"}', content_type="application/json"),
        client.post(path, data=b"xx", content_type="multipart/form-data"),  # no boundary
        client.post(path, data=b"--b\r\ngarbage", content_type="multipart/form-data; boundary=b"),
        client.post(path, data=b"%%%=&&==", content_type="application/x-www-form-urlencoded"),
        client.post(path, data=IMAGE, content_type="application/octet-stream"),
        client.post(path),
    ]
    for response in upload_required:
        assert error_of(response, 400).startswith("upload:")


@pytest.mark.parametrize("service", SERVICES)
def test_oversize_bodies_are_413_before_reading(
    clients: dict[str, FlaskClient], service: str
) -> None:
    body, content_type = encode_multipart_formdata({"upload": ("a.jpg", b"\0" * 2_000_000)})
    response = clients[service].post(PATHS[service], data=body, content_type=content_type)
    assert "MAX_UPLOAD_BYTES" in error_of(response, 413)
    # Chunked: no Content-Length; the server terminates the stream (gunicorn sets this flag).
    builder = EnvironBuilder(
        path=PATHS[service], method="POST", input_stream=io.BytesIO(body), content_type=content_type
    )
    environ = builder.get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    assert "MAX_UPLOAD_BYTES" in error_of(clients[service].open(Request(environ)), 413)
    fields = {f"f{i}": "x" for i in range(MAX_REPEATS * 32 + 1)}
    assert "form:" in error_of(send(clients[service], service, fields), 413)


@pytest.mark.parametrize("service", SERVICES)
def test_apps_still_serve_after_the_matrix(clients: dict[str, FlaskClient], service: str) -> None:
    response = send(clients[service], service, {"upload": (IMAGE, "car.png"), "plates": "5"})
    assert response.status_code == OK[service], response.get_data(as_text=True)[:300]


# -- odd but valid ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VALID_IMAGES))
@pytest.mark.parametrize("service", SERVICES)
def test_odd_but_valid_images_are_processed(
    clients: dict[str, FlaskClient], service: str, name: str
) -> None:
    fields = {"upload": (VALID_IMAGES[name](), f"{name}.img"), "faces": "5", "plates": "5"}
    response = send(clients[service], service, fields)
    assert response.status_code == OK[service], response.get_data(as_text=True)[:300]
    body = response.get_json()
    if service == "blur":
        assert body["blur"]["base64"]
    elif name.startswith("exif-orientation-"):
        turned = int(name.rsplit("-", 1)[1]) >= 5  # 5..8 swap width and height
        assert (body["image_width"], body["image_height"]) == ((20, 40) if turned else (40, 20))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"faces": " 5 "}, 200), ({"faces": ""}, 200), ({"overlap": "+1.5e1"}, 200)],
)
def test_lenient_but_unambiguous_numbers(
    clients: dict[str, FlaskClient], fields: dict[str, str], expected: int
) -> None:
    """Surrounding whitespace is stripped (as Django forms do); empty means the default."""
    response = send(clients["blur"], "blur", {**fields, "upload": (IMAGE, "car.png")})
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "pattern",
    [r"^[A-Z]{1,3}-?\d{1,4}-?[A-Z]{0,2}$", r"\d+[A-Z]+\d+", "^(AB|CD)[0-9]{3,4}$", ".*123"],
)
def test_plate_shaped_regexes_are_accepted(clients: dict[str, FlaskClient], pattern: str) -> None:
    response = send(clients["blur"], "blur", {"skip_regexp": pattern, "upload": (IMAGE, "a.png")})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


# -- processing timeout ----------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_processing_timeout_is_503_naming_the_limit(base_settings: Settings, service: str) -> None:
    settings = dataclasses.replace(base_settings, request_timeout=0.05)
    faces = [] if service == "blur" else None
    slow = build(service, settings, FakeEngine(faces, [(PLATE, "AB1")], delay=0.3)).test_client()
    response = send(slow, service, {"upload": (IMAGE, "car.png")})
    assert "REQUEST_TIMEOUT" in error_of(response, 503)
    fast = build(service, base_settings, FakeEngine(faces, [], delay=0.3)).test_client()
    assert send(fast, service, {"upload": (IMAGE, "car.png")}).status_code == OK[service]


def test_blur_request_carries_the_configured_timeout(base_settings: Settings) -> None:
    settings = dataclasses.replace(base_settings, request_timeout=7.5)
    request = parse_blur_request(
        Form(MultiDict(), settings),
        settings=settings,
        defaults=BlurDefaults.from_settings(settings),
    )
    assert request.timeout == 7.5


# -- access control --------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_api_keys_through_http(base_settings: Settings, service: str) -> None:
    settings = dataclasses.replace(base_settings, api_keys=("k1", "k2"))
    client = build(service, settings).test_client()
    data = {"upload": (io.BytesIO(IMAGE), "car.png")}
    response = client.post(PATHS[service], data=data, content_type="multipart/form-data")
    assert "Token" in error_of(response, 401)
    assert response.headers["WWW-Authenticate"] == "Token"
    for header in ("Token nope", "Token k1x", "Bearer k"):
        data = {"upload": (io.BytesIO(IMAGE), "car.png")}
        response = client.post(PATHS[service], data=data, headers={"Authorization": header})
        assert "invalid API key" in error_of(response, 403)
    malformed = client.post(PATHS[service], headers={"Authorization": "k1"})
    assert "malformed" in error_of(malformed, None)
    for key in ("k1", "k2"):
        data = {"upload": (io.BytesIO(IMAGE), "car.png")}
        response = client.post(PATHS[service], data=data, headers={"Authorization": f"Token {key}"})
        assert response.status_code == OK[service]
    assert client.get("/info/").status_code == 200  # open unless INFO_REQUIRES_AUTH
    locked = build(service, dataclasses.replace(settings, info_requires_auth=True)).test_client()
    assert error_of(locked.get("/info/"), 401)
    assert locked.get("/info/", headers={"Authorization": "Token k2"}).status_code == 200
