"""Output options: size (aspect kept, or cover + centre-crop), format, and a byte budget."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench.synthetic import encode, noise
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.image.output import OutputOptions, encode_output, target_size
from blur_sdk.core.pipeline import anonymize, intensity_job
from tests.fakes import FakeEngine


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (OutputOptions(), (400, 300, 400, 300)),
        (OutputOptions(width=200), (200, 150, 200, 150)),  # one side: the aspect is kept
        (OutputOptions(height=60), (80, 60, 80, 60)),
        (OutputOptions(width=100, height=100), (133, 100, 100, 100)),  # cover, then crop
        (OutputOptions(width=800, height=100), (800, 600, 800, 100)),
    ],
)
def test_target_size(options: OutputOptions, expected: tuple[int, int, int, int]) -> None:
    assert target_size(400, 300, options) == expected


def test_resize_crop_and_format() -> None:
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[:, :200] = (255, 0, 0)  # left half red, right half blue
    rgb[:, 200:] = (0, 0, 255)
    decoded = decode_image(encode(rgb, "PNG"))
    data, content_type, fmt = encode_output(decoded, rgb, OutputOptions("JPEG", 100, 100))
    assert (content_type, fmt) == ("image/jpeg", "JPEG")
    out = np.asarray(opened(data).convert("RGB"))
    assert out.shape == (100, 100, 3)  # exactly W x H
    assert out[50, 5, 0] > 200 and out[50, 95, 2] > 200  # centre crop: both halves still there
    webp, content_type, _ = encode_output(decoded, rgb, OutputOptions("WEBP", width=40))
    assert content_type == "image/webp" and opened(webp).size == (40, 30)


def test_alpha_follows_the_resize() -> None:
    rgba = np.zeros((40, 80, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:, 40:, 3] = 0  # right half transparent
    decoded = decode_image(encode(rgba, "PNG"))
    data, _, fmt = encode_output(decoded, decoded.rgb, OutputOptions(width=20))
    image = opened(data)
    assert fmt == "PNG" and image.size == (20, 10) and image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3]
    assert alpha[5, 2] == 255 and alpha[5, 17] == 0


@pytest.mark.parametrize(("fmt", "budget"), [("JPEG", 20_000), ("JPEG", 3_000), ("PNG", 30_000)])
def test_a_byte_budget_is_met_by_quality_then_size(fmt: str, budget: int) -> None:
    rgb = noise(512, 512)
    decoded = decode_image(encode(rgb, "PNG"))
    full, _, _ = encode_output(decoded, rgb, OutputOptions(fmt))
    assert len(full) > budget
    data, _, _ = encode_output(decoded, rgb, OutputOptions(fmt, max_bytes=budget))
    assert len(data) <= budget
    assert opened(data).format == fmt


def test_an_impossible_budget_is_best_effort_not_an_error() -> None:
    rgb = noise(64, 64)
    decoded = decode_image(encode(rgb, "PNG"))
    data, _, _ = encode_output(decoded, rgb, OutputOptions("JPEG", max_bytes=1))
    assert len(data) > 0 and min(opened(data).size) >= 16  # as small as it goes, still an image


@pytest.mark.parametrize(
    "bad", [{"format": "GIF"}, {"width": 0}, {"height": 30_000}, {"max_bytes": 0}]
)
def test_invalid_options_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OutputOptions(**bad)  # type: ignore[arg-type]


def test_the_pipeline_finds_on_the_original_and_writes_the_output_size() -> None:
    engine = FakeEngine()
    rgb = noise()
    job = intensity_job(5, 5, output=OutputOptions("WEBP", width=128))
    result = anonymize(engine, encode(rgb, "PNG"), job)
    assert (result.width, result.height) == (512, 512)  # regions in the original's pixels
    assert result.of_kind("face") and result.of_kind("plate")
    assert result.format == "WEBP" and result.content_type == "image/webp"
    assert result.image is not None and opened(result.image).size == (128, 128)
