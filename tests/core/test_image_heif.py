"""HEIF/HEIC uploads (decode only, pi-heif): phones' photos decode, damaged ones are refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import encode, noise
from blur_sdk.core.image.decode import decode_image
from blur_sdk.errors import ImageDecodeError
from blur_sdk.settings import Settings
from tests.clients import blur_client, ok, output_image, post

HEIF_ENC = shutil.which("heif-enc")  # Debian's libheif-examples (.ci/run installs it)
pytestmark = pytest.mark.skipif(HEIF_ENC is None, reason="heif-enc (libheif-examples) missing")


@pytest.fixture(scope="module")
def heic(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, np.ndarray]:
    """A 96x64 HEIC made from a known raster, and that raster."""
    folder: Path = tmp_path_factory.mktemp("heic")
    rgb = noise(96, 64)
    rgb[:, :48] = (200, 30, 30)  # a flat red left half survives HEVC's loss
    (folder / "in.png").write_bytes(encode(rgb, "PNG"))
    assert HEIF_ENC is not None
    subprocess.run(
        [HEIF_ENC, "-q", "90", "-o", str(folder / "out.heic"), str(folder / "in.png")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return (folder / "out.heic").read_bytes(), rgb


def test_a_heic_photo_decodes(heic: tuple[bytes, np.ndarray]) -> None:
    data, rgb = heic
    decoded = decode_image(data)
    assert decoded.format == "HEIF"
    assert decoded.rgb.shape == rgb.shape
    assert np.abs(decoded.rgb[:, 4:40].astype(int) - (200, 30, 30)).mean() < 12


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_truncated_heic_is_refused(heic: tuple[bytes, np.ndarray], keep: float) -> None:
    data, _ = heic
    with pytest.raises(ImageDecodeError, match="image is corrupt"):
        decode_image(data[: int(len(data) * keep)])


def test_a_heic_upload_through_the_blur_api(
    settings: Settings, heic: tuple[bytes, np.ndarray]
) -> None:
    data, rgb = heic
    body = ok(post(blur_client(settings), data, filename="photo.heic", faces="5", plates="5"))
    assert body["blur"]["content_type"] == "image/png"  # HEIF is decode only
    assert output_image(body).size == (rgb.shape[1], rgb.shape[0])


def test_a_heic_upload_to_watermarkly_comes_back_as_jpeg(
    settings: Settings, heic: tuple[bytes, np.ndarray]
) -> None:
    from tests.apis.watermarkly.helpers import client, image_of
    from tests.apis.watermarkly.helpers import post as post_raw

    data, rgb = heic
    response = post_raw(client(settings), data, content_type="image/heic")
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    assert image_of(response, "image/jpeg").size == (rgb.shape[1], rgb.shape[0])
