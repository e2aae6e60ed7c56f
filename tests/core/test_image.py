"""Tests for blur_sdk.core.image: decoding edge cases (made with Pillow here) and encoding."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from bench.synthetic import save
from blur_sdk.core.image.decode import (
    ORIENTATION_TAG,
    SUPPORTED_FORMATS,
    ImageLimits,
    decode_image,
)
from blur_sdk.core.image.encode import encode_image
from blur_sdk.errors import ImageDecodeError, PayloadTooLargeError

MAKE_TAG = 0x010F


def quadrants(width: int = 48, height: int = 32) -> npt.NDArray[np.uint8]:
    """An upright test card: red top-left, green top-right, blue bottom-left, white bottom-right."""
    rgb = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    rgb[:h2, :w2] = (255, 0, 0)
    rgb[:h2, w2:] = (0, 255, 0)
    rgb[h2:, :w2] = (0, 0, 255)
    rgb[h2:, w2:] = (255, 255, 255)
    return rgb


def srgb_profile() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return struct.pack(">I", len(body)) + kind + body + crc


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming width x height (8-bit RGB) whose pixel data is a few bytes of a row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)


# --- modes ---------------------------------------------------------------------------------


def test_cmyk_jpeg_decodes_to_rgb() -> None:
    data = save(Image.new("CMYK", (16, 8), (0, 255, 255, 0)), "JPEG", quality=95)
    decoded = decode_image(data)
    assert decoded.format == "JPEG"
    assert decoded.rgb.shape == (8, 16, 3) and decoded.rgb.dtype == np.uint8
    assert np.abs(decoded.rgb.astype(int) - (255, 0, 0)).max() <= 8
    assert decoded.alpha is None


def test_16bit_png_is_scaled_to_8bit_gray() -> None:
    raw = np.array([[0, 1000, 30000, 65535]], np.uint16)
    data = save(Image.fromarray(raw), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = decode_image(data)
    assert decoded.rgb.shape == (1, 4, 3) and decoded.rgb.dtype == np.uint8
    gray = decoded.rgb[0, :, 0]
    assert (decoded.rgb == gray[None, :, None]).all()  # gray: all channels equal
    assert gray[0] == 0 and gray[-1] == 255
    assert list(gray) == sorted(gray)  # order kept


def test_grayscale_l() -> None:
    gray = np.arange(0, 256, 16, dtype=np.uint8).reshape(2, 8)
    decoded = decode_image(save(Image.fromarray(gray, "L"), "PNG"))
    assert decoded.rgb.shape == (2, 8, 3)
    for channel in range(3):
        assert np.array_equal(decoded.rgb[:, :, channel], gray)
    assert decoded.alpha is None


def palette_image() -> Image.Image:
    """A 4x2 palette image: colour 0 everywhere but colour 1 at (3, 1)."""
    image = Image.new("P", (4, 2))
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    image.putpixel((3, 1), 1)
    return image


def test_palette_without_transparency() -> None:
    decoded = decode_image(save(palette_image(), "PNG"))
    assert decoded.alpha is None
    assert tuple(decoded.rgb[0, 0]) == (10, 20, 30)
    assert tuple(decoded.rgb[1, 3]) == (200, 100, 50)


def test_palette_with_transparency_keeps_alpha() -> None:
    data = save(palette_image(), "PNG", transparency=0)
    decoded = decode_image(data)
    assert decoded.alpha is not None
    assert decoded.alpha[0, 0] == 0 and decoded.alpha[1, 3] == 255
    assert tuple(decoded.rgb[1, 3]) == (200, 100, 50)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_kept_and_written_back_to_png(mode: str) -> None:
    alpha = np.tile(np.array([0, 64, 128, 255], np.uint8), (3, 1))
    if mode == "RGBA":
        pixels = np.dstack([np.full((3, 4, 3), (40, 80, 120), np.uint8), alpha])
    else:
        pixels = np.dstack([np.full((3, 4), 90, np.uint8), alpha])
    data = save(Image.fromarray(pixels, mode), "PNG")
    decoded = decode_image(data)
    assert decoded.alpha is not None and np.array_equal(decoded.alpha, alpha)
    out, content_type = encode_image(decoded, decoded.rgb)
    assert content_type == "image/png"
    written = Image.open(io.BytesIO(out))
    assert written.format == "PNG" and written.mode == "RGBA"
    assert np.array_equal(np.asarray(written)[:, :, 3], alpha)


def test_one_by_one() -> None:
    decoded = decode_image(save(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert decoded.rgb.shape == (1, 1, 3)
    assert (decoded.width, decoded.height) == (1, 1)
    assert tuple(decoded.rgb[0, 0]) == (1, 2, 3)


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP", "BMP"])
def test_other_supported_formats_decode(fmt: str) -> None:
    rgb = quadrants(16, 8)
    options: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    decoded = decode_image(save(Image.fromarray(rgb), fmt, **options))
    assert decoded.format == fmt
    assert decoded.rgb.shape == rgb.shape


def test_mpo_from_phones_is_read_and_written_as_jpeg() -> None:
    first = Image.new("RGB", (16, 8), (200, 10, 10))
    data = save(first, "MPO", save_all=True, append_images=[Image.new("RGB", (16, 8))])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    decoded = decode_image(data)
    assert decoded.format == "JPEG"
    assert decoded.rgb.shape == (8, 16, 3)
    assert np.abs(decoded.rgb[4, 8].astype(int) - (200, 10, 10)).max() <= 8  # the first frame
    assert encode_image(decoded, decoded.rgb)[1] == "image/jpeg"


# --- EXIF orientation ----------------------------------------------------------------------

# What the camera stored, for each orientation value, given the upright picture.
STORED = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_and_reset(orientation: int) -> None:
    upright = quadrants(48, 32)
    stored = Image.fromarray(upright).transpose(STORED[orientation])
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    exif[MAKE_TAG] = "TestCam"
    data = save(stored, "JPEG", quality=95, exif=exif.tobytes())

    decoded = decode_image(data)
    assert (decoded.width, decoded.height) == (48, 32)  # upright, whatever was stored
    if orientation in (6, 8):
        assert stored.size == (32, 48)  # the stored raster had swapped dimensions
    corners = {  # sample well inside each quadrant (JPEG is lossy near the edges)
        (8, 12): (255, 0, 0),
        (8, 36): (0, 255, 0),
        (24, 12): (0, 0, 255),
        (24, 36): (255, 255, 255),
    }
    for (y, x), colour in corners.items():
        assert np.abs(decoded.rgb[y, x].astype(int) - colour).max() <= 40, (y, x)

    assert decoded.exif is not None
    copied = Image.Exif()
    copied.load(decoded.exif)
    assert copied[ORIENTATION_TAG] == 1
    assert copied[MAKE_TAG] == "TestCam"

    # written back with the metadata, the image is not rotated a second time by a reader
    out, _ = encode_image(decoded, decoded.rgb, copy_metadata=True)
    again = decode_image(out)
    assert (again.width, again.height) == (48, 32)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = save(Image.fromarray(noise), fmt)
    with pytest.raises(ImageDecodeError, match=fmt):
        decode_image(data[: len(data) * 2 // 3])


def test_empty_bytes() -> None:
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize(
    "data",
    [
        np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        b"hello,world\nthis is a text file, not an image\n" * 20,
    ],
    ids=["random", "text"],
)
def test_not_an_image_lists_supported_formats(data: bytes) -> None:
    with pytest.raises(ImageDecodeError) as info:
        decode_image(data)
    assert all(fmt in str(info.value) for fmt in SUPPORTED_FORMATS)


@pytest.mark.parametrize("fmt", ["PPM", "ICO"])
def test_unsupported_format_lists_supported_formats(fmt: str) -> None:
    data = save(Image.new("RGB", (16, 16), (9, 9, 9)), fmt)
    with pytest.raises(ImageDecodeError) as info:
        decode_image(data)
    message = str(info.value)
    assert fmt in message
    assert all(name in message for name in SUPPORTED_FORMATS)


def test_oversize_from_header_before_decoding() -> None:
    data = png_header(40_000, 40_000)  # ~100 bytes: decoding it would fail, not allocate
    with pytest.raises(PayloadTooLargeError, match="40000x40000"):
        decode_image(data, ImageLimits(max_pixels=50_000_000, max_side=12_000))
    with pytest.raises(ImageDecodeError):  # the same file at a small size reaches the decoder
        decode_image(png_header(100, 100))


@pytest.mark.parametrize(
    "limits", [ImageLimits(max_pixels=399, max_side=1000), ImageLimits(max_side=19)]
)
def test_small_limits_refuse_a_real_image(limits: ImageLimits) -> None:
    data = save(Image.new("RGB", (20, 20)), "PNG")
    with pytest.raises(PayloadTooLargeError):
        decode_image(data, limits)
    decode_image(data, ImageLimits(max_pixels=400, max_side=20))  # exactly at the limit: ok


# --- encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "out_format", "content_type"),
    [("JPEG", "JPEG", "image/jpeg"), ("PNG", "PNG", "image/png"), ("BMP", "PNG", "image/png")],
)
def test_encode_keeps_or_maps_format(fmt: str, out_format: str, content_type: str) -> None:
    rgb = quadrants()
    decoded = decode_image(save(Image.fromarray(rgb), fmt))
    out, got_type = encode_image(decoded, decoded.rgb)
    assert got_type == content_type
    written = Image.open(io.BytesIO(out))
    assert written.format == out_format
    assert written.size == (rgb.shape[1], rgb.shape[0])
    if out_format == "PNG":
        assert np.array_equal(np.asarray(written.convert("RGB")), rgb)  # lossless


@pytest.mark.parametrize("sampling", [0, 1, 2])
def test_a_jpeg_keeps_its_chroma_subsampling(sampling: int) -> None:
    data = save(Image.fromarray(quadrants(64, 64)), "JPEG", subsampling=sampling)
    decoded = decode_image(data)
    assert decoded.jpeg_sampling == sampling
    out, _ = encode_image(decoded, decoded.rgb, quality=95)
    assert JpegImagePlugin.get_sampling(Image.open(io.BytesIO(out))) == sampling


@pytest.mark.parametrize(("quality", "sampling"), [(95, 0), (80, 2)])
def test_other_inputs_written_as_jpeg_subsample_by_quality(quality: int, sampling: int) -> None:
    decoded = decode_image(save(Image.fromarray(quadrants(64, 64)), "PNG"))
    assert decoded.jpeg_sampling == -1
    out, _ = encode_image(decoded, decoded.rgb, quality=quality, fmt="JPEG")
    assert JpegImagePlugin.get_sampling(Image.open(io.BytesIO(out))) == sampling


def test_copy_metadata_copies_icc_and_exif() -> None:
    icc = srgb_profile()
    exif = Image.Exif()
    exif[MAKE_TAG] = "TestCam"
    data = save(Image.fromarray(quadrants()), "JPEG", icc_profile=icc, exif=exif.tobytes())
    decoded = decode_image(data)
    assert decoded.icc_profile == icc

    out, _ = encode_image(decoded, decoded.rgb, copy_metadata=True)
    written = Image.open(io.BytesIO(out))
    assert written.info.get("icc_profile") == icc
    assert written.getexif()[MAKE_TAG] == "TestCam"

    bare, _ = encode_image(decoded, decoded.rgb, copy_metadata=False)
    written = Image.open(io.BytesIO(bare))
    assert not written.info.get("icc_profile")
    assert MAKE_TAG not in written.getexif()


def test_copy_metadata_does_not_attach_a_cmyk_profile_to_rgb_output() -> None:
    cmyk_icc = bytearray(srgb_profile())
    cmyk_icc[16:20] = b"CMYK"  # ICC header: data colour space
    image = Image.new("CMYK", (16, 8), (0, 255, 255, 0))
    decoded = decode_image(save(image, "JPEG", icc_profile=bytes(cmyk_icc)))
    out, _ = encode_image(decoded, decoded.rgb, copy_metadata=True)
    written = Image.open(io.BytesIO(out))
    assert written.mode == "RGB"
    profile = written.info.get("icc_profile") or b""
    assert not profile or profile[16:20] == b"RGB "
