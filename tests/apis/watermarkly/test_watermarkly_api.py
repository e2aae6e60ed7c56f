"""Watermarkly's Blur API: sources (GET url, POST body), paths, auth, and every parameter."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from bench.synthetic import encode, noise, save
from blur_sdk.apis.watermarkly.request import core_intensity
from blur_sdk.settings import Settings
from tests.apis.watermarkly.helpers import (
    FACE_INSIDE,
    FAR,
    PLATE_INSIDE,
    changed,
    client,
    image_of,
    message_of,
    noise_png,
    post,
    rgb_of,
)
from tests.clients import serving

MAGENTA = (255, 0, 255)


def logo_data_url(colour: tuple[int, int, int] = MAGENTA) -> str:
    """A small opaque logo of one colour, as a data: URL."""
    png = encode(np.full((20, 90, 3), colour, np.uint8), "PNG")
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def url_base() -> Iterator[str]:
    bodies = {"/street.png": noise_png(), "/small.png": encode(noise(90, 70, seed=3), "PNG")}
    with serving(bodies) as base:
        yield base


# -- sources and paths -----------------------------------------------------------------------


def test_post_raw_bytes_blurs_face_and_plate_only(settings: Settings) -> None:
    before = noise()
    after = rgb_of(post(client(settings)))
    assert after.shape == before.shape
    assert changed(before, after, FACE_INSIDE) > 0.9
    assert changed(before, after, PLATE_INSIDE) > 0.9
    assert changed(before, after, FAR) == 0.0


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png", "image/jpeg"])
def test_post_accepts_octet_stream_and_image_types(settings: Settings, content_type: str) -> None:
    image_of(post(client(settings), content_type=content_type))


@pytest.mark.parametrize("path", ["/blur/", "/blur"])
def test_both_paths_answer_without_redirect(settings: Settings, path: str) -> None:
    c = client(settings)
    assert post(c, path=path).status_code == 200
    assert c.get(path).status_code == 400  # GET without url: a refusal, not a redirect


def test_get_fetches_the_url(settings: Settings, url_base: str) -> None:
    c = client(settings, url_allow_private=True)
    before = noise()
    after = rgb_of(c.get("/blur/", query_string={"url": f"{url_base}/street.png"}))
    assert changed(before, after, PLATE_INSIDE) > 0.9
    assert changed(before, after, FAR) == 0.0
    small = image_of(c.get("/blur", query_string={"url": f"{url_base}/small.png"}))
    assert small.size == (90, 70)


def test_get_over_the_get_limit_is_413(settings: Settings, url_base: str) -> None:
    c = client(settings, url_allow_private=True, watermarkly_max_get_bytes=1000)
    message = message_of(c.get("/blur/", query_string={"url": f"{url_base}/street.png"}), 413)
    assert message.startswith("url") and "WATERMARKLY_MAX_GET_BYTES=1000" in message


def test_get_of_a_private_address_is_refused(settings: Settings, url_base: str) -> None:
    c = client(settings)  # url_allow_private off: 127.0.0.1 is refused
    message = message_of(c.get("/blur/", query_string={"url": f"{url_base}/street.png"}), 400)
    assert message.startswith("url")
    assert post(c).status_code == 200


def test_get_of_a_missing_image_is_400(settings: Settings, url_base: str) -> None:
    c = client(settings, url_allow_private=True)
    assert "404" in message_of(c.get("/blur/", query_string={"url": f"{url_base}/none"}), 400)


def test_info_names_the_api(settings: Settings) -> None:
    info = client(settings).get("/info/").get_json()
    assert info["watermarkly"]["max_post_bytes"] == settings.watermarkly_max_post_bytes


# -- auth ------------------------------------------------------------------------------------


def test_open_without_api_keys(settings: Settings) -> None:
    assert post(client(settings)).status_code == 200


def test_x_api_key(settings: Settings) -> None:
    c = client(settings, api_keys=("k-one", "k-two"))
    assert post(c, headers={"x-api-key": "k-two"}).status_code == 200
    assert "missing" in message_of(post(c), 403)
    assert "invalid" in message_of(post(c, headers={"x-api-key": "nope"}), 403)
    assert "invalid" in message_of(c.get("/blur/", headers={"x-api-key": "k-on"}), 403)
    # Plate Recognizer's header is not Watermarkly's
    message_of(post(c, headers={"Authorization": "Token k-one"}), 403)
    assert post(c, headers={"X-Api-Key": "k-one"}).status_code == 200


# -- parameters ------------------------------------------------------------------------------


def test_intensity_mapping() -> None:
    assert core_intensity(0.0) == 0
    assert core_intensity(0.01) == 1
    assert core_intensity(1.0) == 1
    assert core_intensity(10.0) == 5
    assert core_intensity(20.0) == 10


def test_blur_intensity(settings: Settings) -> None:
    c = client(settings)
    before = noise()
    none = rgb_of(post(c, blur_intensity="0"))
    assert np.array_equal(none, before)  # 0: nothing blurred
    light, strong = rgb_of(post(c, blur_intensity="1.0")), rgb_of(post(c, blur_intensity="20"))
    for out in (light, strong):
        assert changed(before, out, PLATE_INSIDE) > 0.9 and changed(before, out, FACE_INSIDE) > 0.9
    x0, y0, x1, y1 = PLATE_INSIDE
    assert strong[y0:y1, x0:x1].std() < light[y0:y1, x0:x1].std()  # stronger: smoother


def test_width_and_height(settings: Settings) -> None:
    c = client(settings)
    assert image_of(post(c, width="200")).size == (200, 200)
    assert image_of(post(c, height="128")).size == (128, 128)
    assert image_of(post(c, width="300", height="100")).size == (300, 100)  # cover, then crop


@pytest.mark.parametrize(
    ("asked", "fmt", "content_type"),
    [
        ("jpeg", "JPEG", "image/jpeg"),
        ("JPG", "JPEG", "image/jpeg"),
        ("Png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
    ],
)
def test_format_any_case(settings: Settings, asked: str, fmt: str, content_type: str) -> None:
    assert image_of(post(client(settings), format=asked), content_type).format == fmt


@pytest.mark.parametrize(
    ("source", "fmt", "content_type"),
    [
        ("JPEG", "JPEG", "image/jpeg"),
        ("WEBP", "WEBP", "image/webp"),
        ("AVIF", "JPEG", "image/jpeg"),  # AVIF comes back as JPEG
        ("BMP", "PNG", "image/png"),
    ],
)
def test_default_format_is_the_inputs(
    settings: Settings, source: str, fmt: str, content_type: str
) -> None:
    data = save(Image.fromarray(noise()), source)
    out = image_of(
        post(client(settings), data, content_type="image/" + source.lower()), content_type
    )
    assert out.format == fmt and out.size == (512, 512)


def test_file_size_is_a_byte_budget(settings: Settings) -> None:
    c = client(settings)
    full = post(c, format="jpeg").get_data()
    small = post(c, format="jpeg", file_size="20000")
    assert len(full) > 20000 >= len(small.get_data())
    image_of(small, "image/jpeg")


def test_logo_covers_the_plate(settings: Settings) -> None:
    before = noise()
    out = rgb_of(post(client(settings), logo_url=logo_data_url()))
    x0, y0, x1, y1 = PLATE_INSIDE
    plate = out[y0:y1, x0:x1].reshape(-1, 3).astype(int)
    assert (np.abs(plate - MAGENTA).max(axis=1) <= 2).mean() > 0.9
    assert changed(before, out, FACE_INSIDE) > 0.9  # faces blurred as usual
    assert changed(before, out, FAR) == 0.0


def test_logo_size_leaves_the_rest_of_the_plate_blurred(settings: Settings) -> None:
    before = noise()
    out = rgb_of(post(client(settings), logo_url=logo_data_url(), logo_size="0.4"))
    x0, y0, x1, y1 = PLATE_INSIDE
    magenta = np.abs(out[y0:y1, x0:x1].astype(int) - MAGENTA).max(axis=2) <= 2
    assert magenta[8:16, 60:80].mean() > 0.9  # the centre: the logo
    assert magenta[:, :20].mean() == 0.0 and magenta[:, -20:].mean() == 0.0  # the ends: blurred
    assert changed(before, out, (x0, y0, x0 + 20, y1)) > 0.9


def test_logo_with_zero_intensity_hides_only_the_plate(settings: Settings) -> None:
    before = noise()
    out = rgb_of(post(client(settings), logo_url=logo_data_url(), blur_intensity="0"))
    assert changed(before, out, PLATE_INSIDE) > 0.9
    assert changed(before, out, FACE_INSIDE) == 0.0


def test_logo_over_http(settings: Settings) -> None:
    logo = encode(np.full((20, 90, 3), MAGENTA, np.uint8), "PNG")
    with serving({"/logo.png": logo}) as base:
        c = client(settings, url_allow_private=True)
        out = rgb_of(post(c, logo_url=f"{base}/logo.png"))
    x0, y0, x1, y1 = PLATE_INSIDE
    assert (np.abs(out[y0:y1, x0:x1].astype(int) - MAGENTA).max(axis=2) <= 2).mean() > 0.9


def test_plate_screws(settings: Settings) -> None:
    c = client(settings)
    plain = rgb_of(post(c, logo_url=logo_data_url(), plate_screws="false"))
    screws = rgb_of(post(c, logo_url=logo_data_url(), plate_screws="true"))
    assert not np.array_equal(plain, screws)
    assert np.array_equal(rgb_of(post(c, plate_screws="true")), rgb_of(post(c)))  # no logo


def test_query_on_get_and_post_alike(settings: Settings) -> None:
    data = io.BytesIO()
    Image.fromarray(noise()).save(data, "PNG")
    assert image_of(post(client(settings), data.getvalue(), width="64")).size == (64, 64)
