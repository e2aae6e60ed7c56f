"""Property tests: random forms never get a 5xx from either app; random bytes never crash."""

from __future__ import annotations

import dataclasses
import io
import json
import random
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from urllib3 import encode_multipart_formdata

from bench.synthetic import encode
from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.regex_guard import compile_regexes
from blur_sdk.errors import ImageDecodeError, InputError, PayloadTooLargeError
from blur_sdk.settings import Settings, load_settings
from tests.clients import client_of
from tests.fakes import FakeEngine

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # Pillow on corrupt EXIF/TIFF data
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # re: "possible nested set"
]

PLATE = [(20.0, 20.0), (60.0, 20.0), (60.0, 34.0), (20.0, 34.0)]
PATHS = {"blur": "/v1/blur", "snapshot": "/v1/plate-reader/"}
FIELDS = (
    "upload", "upload_url", "faces", "plates", "shape", "logo", "regions", "config", "camera_id",
    "snapshot_filename", "skip_regexp", "xmin", "ymin", "xmax", "ymax", "et", "el", "eb", "er",
    "split", "overlap", "copy_metadata", "face_max_resolution", "mmc", "timestamp",
)  # fmt: skip
TRICKY_VALUES = (
    "", " ", "0", "-1", "10", "11", "5.5", "nan", "inf", "-inf", "1e309", "0x10", "５", "٣", "1_0",
    "true", "false", "maybe", "{}", "[]", "{", "null", '{"mode": "fast"}', '{"mode": 1}',
    '{"text_formats": ["[A-Z]{2}"]}', '{"text_formats": ["(a+)+"]}', '{"threshold_d": 2}',
    "(a+)+$", "(a|a)*b", "[", "gb", "us-ca", "../x", "/logos/", "../../etc/passwd", "\x00",
    "http://127.0.0.1/x.png", "file:///etc/passwd", "data:image/png;base64,AAAA", "!!!",
    "2024-05-01T12:30:00Z", "[" * 300 + "]" * 300,
)  # fmt: skip
RNG = np.random.default_rng(11)
SEEDS = {
    "JPEG": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "JPEG"),
    "PNG": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "PNG"),
    "PNG-RGBA": encode(RNG.integers(0, 256, (24, 32, 4), dtype=np.uint8), "PNG"),
    "GIF": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "GIF"),
    "TIFF": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "TIFF"),
    "BMP": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "BMP"),
    "WEBP": encode(RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8), "WEBP"),
}
LIMITS = ImageLimits(max_pixels=4_000_000, max_side=4000)


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FlaskClient]:
    """Both apps over fake detectors, with small limits."""
    root = tmp_path_factory.mktemp("fuzz")
    base: Settings = load_settings(env={}, config_dir=root / "no-config")
    limits = dataclasses.replace(
        base,
        license_dir=root / "license",
        logos_dir=root / "logos",
        max_upload_bytes=200_000,
        max_field_length=20_000,
        max_repeated_fields=6,
    )
    plates = [(PLATE, "AB123")]
    return {
        "blur": client_of("blur", limits, FakeEngine([(1.0, 1.0, 9.0, 9.0)], plates)),
        "snapshot": client_of("snapshot", limits, FakeEngine(None, plates)),
    }


names = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12))
values = st.one_of(
    st.sampled_from(TRICKY_VALUES),
    st.text(max_size=40),
    st.from_regex(r"[ +-]?[0-9]{0,4}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?\s?", fullmatch=True),
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(["mode", "text_formats", "threshold_d", "region"]),
                children,
                max_size=3,
            )
        ),
        max_leaves=8,
    ).map(json.dumps),
)
uploads = st.one_of(
    st.none(),
    st.sampled_from(list(SEEDS.values())),
    st.binary(max_size=300),
)


def check_answer(status: int, text: str) -> None:
    """2xx or 4xx; a refusal is JSON {"error": str} without a stack trace."""
    assert status < 500, (status, text[:300])
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    if status >= 400:
        body = json.loads(text)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), text[:300]


@settings(max_examples=150, deadline=None)
@given(
    service=st.sampled_from(sorted(PATHS)),
    fields=st.lists(st.tuples(names, values), max_size=10),
    image=uploads,
    urlencoded=st.booleans(),
)
def test_random_forms_never_5xx(
    clients: dict[str, FlaskClient],
    service: str,
    fields: list[tuple[str, str]],
    image: bytes | None,
    urlencoded: bool,
) -> None:
    client = clients[service]
    if urlencoded:
        body = urlencode(fields).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        parts: list[tuple[str, Any]] = list(fields)
        if image is not None:
            parts.append(("upload", ("car.png", image)))
        body, content_type = encode_multipart_formdata(parts)
    response = client.post(PATHS[service], data=body, content_type=content_type)
    check_answer(response.status_code, response.get_data(as_text=True))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELDS), values), min_size=1, max_size=8))
def test_random_fields_with_a_valid_image(
    clients: dict[str, FlaskClient], fields: list[tuple[str, str]]
) -> None:
    """Known fields with random values and a valid upload: the whole pipeline is reached."""
    client = clients["blur"]
    parts: list[tuple[str, Any]] = [f for f in fields if f[0] not in ("upload", "upload_url")]
    parts.append(("upload", ("car.png", SEEDS["PNG"])))
    body, content_type = encode_multipart_formdata(parts)
    response = client.post(PATHS["blur"], data=body, content_type=content_type)
    check_answer(response.status_code, response.get_data(as_text=True))


def decodes_or_refuses(data: bytes) -> None:
    """decode_image returns, or raises one of our two input errors: nothing else."""
    try:
        decoded = decode_image(data, LIMITS)
    except (ImageDecodeError, PayloadTooLargeError):
        return
    assert decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3
    assert decoded.rgb.dtype == np.uint8


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_decode_or_refuse(data: bytes) -> None:
    decodes_or_refuses(data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SEEDS)), st.binary(min_size=1, max_size=12))
def test_magic_then_random_bytes(fmt: str, tail: bytes) -> None:
    decodes_or_refuses(SEEDS[fmt][:24] + tail)


@settings(max_examples=400, deadline=None)
@given(
    fmt=st.sampled_from(sorted(SEEDS)),
    seed=st.integers(0, 2**32 - 1),
    edits=st.integers(1, 8),
)
def test_mutated_images_decode_or_refuse(fmt: str, seed: int, edits: int) -> None:
    """Flipped, deleted, inserted bytes and truncations of valid images."""
    rng = random.Random(seed)
    data = bytearray(SEEDS[fmt])
    for _ in range(edits):
        if not data:
            break
        at = rng.randrange(len(data))
        kind = rng.random()
        if kind < 0.6:
            data[at] = rng.randrange(256)
        elif kind < 0.75:
            del data[at : at + rng.randint(1, 16)]
        elif kind < 0.9:
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        else:
            del data[at:]
    decodes_or_refuses(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab()|*+?{}[],.^$\\12-", max_size=24))
def test_regex_guard_never_crashes(pattern: str) -> None:
    """Any pattern compiles, or is refused as an InputError naming the field."""
    try:
        compiled = compile_regexes([pattern], "skip_regexp")
    except InputError as e:
        assert str(e).startswith("skip_regexp:")
        return
    for text in ("a" * 16, "ab" * 8, "a" * 15 + "!"):
        compiled[0].search(text)  # accepted patterns stay cheap on plate-length texts


def test_fixture_images_open() -> None:
    for data in SEEDS.values():
        assert Image.open(io.BytesIO(data)).size == (32, 24)
