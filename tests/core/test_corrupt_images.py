"""Corrupt images are refused ("image is corrupt: ..."), never decoded to grey or partial pixels.

Each damaged file is made here from a Pillow-written image: a bad CRC in each PNG chunk kind, cuts
at several points of every supported format, a progressive JPEG missing its later scans, a JPEG
cut and closed with an EOI. Pillow alone answers some of them with pixels (IDAT and IEND CRCs are
not checked, a PNG without IEND decodes, libjpeg pads a closed-early scan with grey), so the HTTP
apps answered them 200 "no faces, no plates"; both now refuse them with a 400.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import io
import pkgutil
import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageFile, PngImagePlugin
from werkzeug.test import TestResponse

import blur_sdk
import snapshot_stub
from bench import synthetic
from bench.synthetic import save
from blur_sdk.core.image.decode import SUPPORTED_FORMATS, decode_image
from blur_sdk.core.image.encode import encode_image
from blur_sdk.core.image.integrity import check_integrity
from blur_sdk.errors import ImageDecodeError
from blur_sdk.settings import Settings
from tests.clients import OK, PATHS, client_of, error_of, ok, output_image, post
from tests.fakes import FakeEngine

PREFIX = "image is corrupt: "
EOI = b"\xff\xd9"
SOS = b"\xff\xda"
PLATE = [(10.0, 10.0), (40.0, 10.0), (40.0, 20.0), (10.0, 20.0)]


def noise(width: int = 64, height: int = 48, channels: int = 3, seed: int = 3) -> Image.Image:
    """Random pixels (seeded): a cut anywhere leaves pixels undecoded."""
    return Image.fromarray(synthetic.noise(width, height, channels, seed))


def refused(data: bytes, *words: str) -> str:
    """decode_image's refusal of a corrupt image: 'image is corrupt: ' and the words given."""
    with pytest.raises(ImageDecodeError) as info:
        decode_image(data)
    message = str(info.value)
    assert message.startswith(PREFIX), message
    assert len(message) > len(PREFIX) + 10, message  # says what is wrong
    for word in words:
        assert word in message, message
    return message


def cuts(data: bytes, *fractions: float, last_byte: bool = True) -> Iterator[bytes]:
    """The data cut at these fractions of its length, and (if last_byte) one byte short."""
    for fraction in fractions:
        yield data[: int(len(data) * fraction)]
    if last_byte:
        yield data[:-1]


# --- PNG -----------------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, length) of each chunk."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunks.append((data[pos + 4 : pos + 8], pos, length))
        pos += 12 + length
    return chunks


def rich_png() -> bytes:
    """A PNG with ancillary chunks of several kinds around its IDATs."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "plain")
    info.add_text("Note", "compressed", zip=True)
    info.add_itxt("Title", "international", lang="en")
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    icc = b"\0" * 128
    return save(noise(), "PNG", pnginfo=info, dpi=(72, 72), exif=exif, icc_profile=icc)


RICH_PNG = rich_png()
PNG_KINDS = sorted({kind.decode() for kind, _, _ in png_chunks(RICH_PNG)})


def test_the_png_has_the_chunk_kinds_tested() -> None:
    assert {"IHDR", "iCCP", "pHYs", "tEXt", "zTXt", "iTXt", "eXIf", "IDAT", "IEND"} <= set(
        PNG_KINDS
    )
    assert decode_image(RICH_PNG).rgb.shape == (48, 64, 3)


@pytest.mark.parametrize("kind", PNG_KINDS)
@pytest.mark.parametrize("where", ["crc", "data"])
def test_png_chunk_failing_its_crc(kind: str, where: str) -> None:
    _, pos, length = next(c for c in png_chunks(RICH_PNG) if c[0] == kind.encode())
    if where == "data" and not length:
        pytest.skip("an empty chunk (IEND) has no data to damage")
    bad = bytearray(RICH_PNG)
    bad[pos + 8 + (length if where == "crc" else length // 2)] ^= 0x10
    message = refused(bytes(bad), f"PNG chunk {kind} fails its CRC")
    assert message == f"{PREFIX}PNG chunk {kind} fails its CRC"


def test_png_idat_crc_in_a_multi_idat_png() -> None:
    data = save(noise(256, 256), "PNG", compress_level=0)  # several IDAT chunks
    idats = [c for c in png_chunks(data) if c[0] == b"IDAT"]
    assert len(idats) > 2
    _, pos, length = idats[-2]
    bad = bytearray(data)
    bad[pos + 8 + length + 3] ^= 0x01
    refused(bytes(bad), "PNG chunk IDAT fails its CRC")


def test_png_without_iend() -> None:
    refused(RICH_PNG[:-12], "truncated PNG", "IEND")


@pytest.mark.parametrize("fraction", [0.02, 0.2, 0.5, 0.8, 0.99])
def test_png_truncated(fraction: float) -> None:
    refused(RICH_PNG[: int(len(RICH_PNG) * fraction)], "truncated PNG")


def test_png_cut_inside_idat_and_at_its_crc() -> None:
    _, pos, length = next(c for c in png_chunks(RICH_PNG) if c[0] == b"IDAT")
    for end in (pos + 8 + length // 3, pos + 8 + length, pos + 10 + length):
        refused(RICH_PNG[:end], "truncated PNG: the data ends inside chunk IDAT")


def test_png_structure_errors() -> None:
    ihdr_end = 8 + 25
    refused(RICH_PNG[:8] + RICH_PNG[ihdr_end:], "not IHDR")  # IHDR removed
    no_idat = RICH_PNG[:8] + b"".join(
        RICH_PNG[pos : pos + 12 + length]
        for kind, pos, length in png_chunks(RICH_PNG)
        if kind != b"IDAT"
    )
    refused(no_idat, "no IDAT")
    refused(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "PNG chunk type")


def test_animated_png_cut_in_a_later_frame() -> None:
    data = save(noise(), "PNG", save_all=True, append_images=[noise(seed=4)])
    assert decode_image(data).rgb.shape == (48, 64, 3)
    refused(data[: int(len(data) * 0.9)], "truncated PNG", "fdAT")


# --- JPEG ----------------------------------------------------------------------------------


JPEG = save(noise(), "JPEG", quality=90)
PROGRESSIVE = save(noise(), "JPEG", quality=90, progressive=True)


def scan_starts(data: bytes) -> list[int]:
    """Offsets of the SOS markers (Pillow's files have no FF DA inside other segments)."""
    return [i for i in range(len(data) - 1) if data[i : i + 2] == SOS]


@pytest.mark.parametrize("end", [40, 300, 0.5, 0.9, -2, -1], ids=str)
def test_jpeg_truncated(end: float) -> None:
    cut = JPEG[: int(len(JPEG) * end) if isinstance(end, float) else end]
    refused(cut, "truncated JPEG")


def test_jpeg_missing_eoi() -> None:
    refused(JPEG[:-2], "truncated JPEG: the data ends inside a scan (no EOI marker)")


def test_jpeg_without_a_scan() -> None:
    (start,) = scan_starts(JPEG)
    refused(JPEG[:start] + EOI, "JPEG data ends before the last scan")


def test_progressive_jpeg_cut_after_its_first_scan() -> None:
    starts = scan_starts(PROGRESSIVE)
    assert len(starts) > 5
    refused(PROGRESSIVE[: starts[1]], "truncated JPEG")
    refused(PROGRESSIVE[: starts[1]] + EOI, "progressive JPEG data ends before the last scan")


def test_progressive_jpeg_missing_each_later_scan() -> None:
    starts = scan_starts(PROGRESSIVE)
    for index in range(1, len(starts)):
        refused(PROGRESSIVE[: starts[index]] + EOI, "JPEG data ends before the last scan")
    assert decode_image(PROGRESSIVE).rgb.shape == (48, 64, 3)


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.8])
@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_with_restart_markers_cut_and_closed_with_eoi(
    fraction: float, progressive: bool
) -> None:
    """libjpeg fills a scan that hits a marker early with grey; Pillow drops its warning."""
    data = save(noise(), "JPEG", restart_marker_blocks=1, progressive=progressive)
    assert decode_image(data).rgb.shape == (48, 64, 3)
    refused(data[: int(len(data) * fraction)] + EOI, "JPEG")


def test_jpeg_scan_before_frame_and_twice_framed() -> None:
    sof = JPEG.find(b"\xff\xc0")
    length = int.from_bytes(JPEG[sof + 2 : sof + 4])
    sof_segment = JPEG[sof : sof + 2 + length]
    refused(JPEG[:sof] + JPEG[sof + 2 + length :], "before its frame header")
    refused(JPEG[:sof] + sof_segment + JPEG[sof:], "second frame header")


# --- WEBP, AVIF, GIF, TIFF, BMP --------------------------------------------------------------

CONTAINERS = {
    "webp-lossy": save(noise(), "WEBP", quality=80),
    "webp-lossless": save(noise(), "WEBP", lossless=True),
    "webp-alpha": save(noise(channels=4), "WEBP"),
    "webp-animated": save(noise(), "WEBP", save_all=True, append_images=[noise(seed=4)]),
    "avif": save(noise(), "AVIF"),
    "avif-alpha": save(noise(channels=4), "AVIF"),
    "gif": save(noise().convert("P"), "GIF"),
    "gif-animated": save(noise().convert("P"), "GIF", save_all=True, append_images=[noise(seed=4)]),
    "tiff": save(noise(), "TIFF"),
    "tiff-lzw": save(noise(), "TIFF", compression="tiff_lzw"),
    "tiff-two-pages": save(noise(), "TIFF", save_all=True, append_images=[noise(seed=4)]),
    "bigtiff": save(noise(), "TIFF", big_tiff=True),
    "bmp": save(noise(), "BMP"),
    "bmp-palette": save(noise().convert("P"), "BMP"),
}
WORDS = {
    "webp": "WEBP",
    "avif": "AVIF",
    "gif": "GIF",
    "tiff": "TIFF",
    "bigtiff": "TIFF",
    "bmp": "BMP",
}


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_truncated_containers(name: str) -> None:
    data = CONTAINERS[name]
    word = WORDS[name.split("-", maxsplit=1)[0]]
    assert decode_image(data).format == word
    last_byte = name != "tiff-two-pages"  # Pillow ends that file with 4 bytes nothing points to
    for cut in cuts(data, 0.1, 0.5, 0.9, 0.99, last_byte=last_byte):
        refused(cut, "truncated", word)


def test_webp_riff_size_and_chunks() -> None:
    data = CONTAINERS["webp-lossy"]
    refused(data[:20], "truncated WEBP")
    grown = data[:4] + struct.pack("<I", len(data)) + data[8:]  # claims 8 more bytes
    refused(grown, "truncated WEBP")


def test_gif_missing_its_trailer() -> None:
    data = CONTAINERS["gif"]
    assert data.endswith(b";")
    refused(data[:-1], "truncated GIF", "trailer")


# --- valid oddities still decode -------------------------------------------------------------


def mpo(second_frame_cut: bool = False) -> bytes:
    data = save(noise(), "MPO", save_all=True, append_images=[noise(seed=4)])
    return data[: len(data) - 200] if second_frame_cut else data


def jpeg_with_junk_between_segments() -> bytes:
    at = JPEG.find(b"\xff\xdb")
    return JPEG[:at] + b"\0\0\0" + JPEG[at:]  # libjpeg skips these ("extraneous bytes")


ODD_BUT_VALID: dict[str, Callable[[], bytes]] = {
    "jpeg-trailing-bytes": lambda: JPEG + b"\0" * 64 + b"trailer after EOI",
    "jpeg-motion-photo-tail": lambda: JPEG + b"\0\0\0\x18ftypmp42" + b"\0" * 300,
    "jpeg-exif-garbage": lambda: save(noise(), "JPEG", exif=b"Exif\0\0" + bytes(range(256)) * 2),
    "jpeg-junk-between-segments": jpeg_with_junk_between_segments,
    "jpeg-restart-markers": lambda: save(noise(67, 45), "JPEG", restart_marker_blocks=1),
    "jpeg-restart-rows-420": lambda: save(noise(67, 45), "JPEG", restart_marker_rows=1),
    "jpeg-progressive-gray": lambda: save(noise(channels=1), "JPEG", progressive=True),
    "jpeg-progressive-cmyk": lambda: save(
        Image.frombytes("CMYK", (16, 8), bytes(range(256)) * 2), "JPEG", progressive=True
    ),
    "mpo": mpo,
    "mpo-second-frame-cut": lambda: mpo(second_frame_cut=True),  # only the first is decoded
    "png-trailing-bytes": lambda: RICH_PNG + b"trailing data after IEND",
    "png-16bit": lambda: save(noise(channels=1).convert("I;16"), "PNG"),
    "gif-bytes-after-trailer": lambda: CONTAINERS["gif"] + b"junk",
    "webp-trailing-bytes": lambda: CONTAINERS["webp-lossy"] + b"\0\0",
    "tiff-big-endian": lambda: save(Image.frombytes("I;16B", (8, 8), bytes(128)), "TIFF"),
}


@pytest.mark.parametrize("name", list(ODD_BUT_VALID))
def test_odd_but_valid_images_decode(name: str) -> None:
    data = ODD_BUT_VALID[name]()
    check_integrity(data)
    decoded = decode_image(data)
    assert decoded.width > 0 and decoded.height > 0


def test_avif_decodes_and_is_written_back_as_png() -> None:
    assert "AVIF" in SUPPORTED_FORMATS
    card = np.zeros((48, 64, 3), np.uint8)
    card[:24, :32], card[:24, 32:], card[24:, :32] = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    decoded = decode_image(save(Image.fromarray(card), "AVIF", quality=90))
    assert decoded.format == "AVIF" and decoded.rgb.shape == (48, 64, 3)
    for (y, x), colour in {
        (10, 10): (255, 0, 0),
        (10, 50): (0, 255, 0),
        (36, 50): (0, 0, 0),
    }.items():
        assert np.abs(decoded.rgb[y, x].astype(int) - colour).max() <= 24, (y, x)
    out, content_type = encode_image(decoded, decoded.rgb)
    assert content_type == "image/png" and Image.open(io.BytesIO(out)).format == "PNG"
    alpha = decode_image(CONTAINERS["avif-alpha"])
    assert alpha.alpha is not None and alpha.alpha.shape == (48, 64)


# --- Pillow's own leniency -------------------------------------------------------------------


def test_no_module_sets_load_truncated_images() -> None:
    for package in (blur_sdk, snapshot_stub):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_refused_even_if_pillow_is_told_to_load_truncated_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    refused(RICH_PNG[: len(RICH_PNG) // 2], "truncated PNG")
    refused(JPEG[: len(JPEG) // 2], "truncated JPEG")
    refused(CONTAINERS["gif"][: len(CONTAINERS["gif"]) // 2], "truncated GIF")


def test_damaged_data_never_raises_anything_else() -> None:
    """Random damage to each seed: check_integrity refuses or passes, it never crashes."""
    seeds = [RICH_PNG, JPEG, PROGRESSIVE, *CONTAINERS.values()]
    rng = random.Random(7)
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            action = rng.randrange(4)
            if action == 0:
                data[at] = rng.randrange(256)
            elif action == 1:
                del data[at : at + rng.randint(1, 40)]
            elif action == 2:
                data[at:at] = rng.randbytes(rng.randint(1, 16))
            else:
                data[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", EOI, SOS])
        try:
            check_integrity(bytes(data))
        except ImageDecodeError as e:
            assert str(e).startswith(PREFIX)


# --- through both HTTP apps ------------------------------------------------------------------


def _crc_damaged(kind: bytes) -> bytes:
    _, pos, length = next(c for c in png_chunks(RICH_PNG) if c[0] == kind)
    bad = bytearray(RICH_PNG)
    bad[pos + 8 + length] ^= 0xFF
    return bytes(bad)


def _restart_cut() -> bytes:
    data = save(noise(), "JPEG", restart_marker_blocks=1)
    return data[: len(data) // 2] + EOI


CORRUPT_UPLOADS: dict[str, tuple[Callable[[], bytes], str]] = {
    "png-idat-crc": (lambda: _crc_damaged(b"IDAT"), "PNG chunk IDAT fails its CRC"),
    "png-iend-crc": (lambda: _crc_damaged(b"IEND"), "PNG chunk IEND fails its CRC"),
    "png-text-crc": (lambda: _crc_damaged(b"tEXt"), "PNG chunk tEXt fails its CRC"),
    "png-no-iend": (lambda: RICH_PNG[:-12], "truncated PNG"),
    "png-cut-mid-idat": (lambda: RICH_PNG[: len(RICH_PNG) // 2], "truncated PNG"),
    "jpeg-no-eoi": (lambda: JPEG[:-2], "truncated JPEG"),
    "jpeg-cut-in-headers": (lambda: JPEG[:200], "truncated JPEG"),
    "jpeg-restart-cut-closed": (_restart_cut, "restart intervals"),
    "jpeg-progressive-first-scan": (
        lambda: PROGRESSIVE[: scan_starts(PROGRESSIVE)[1]] + EOI,
        "progressive JPEG data ends before the last scan",
    ),
    "webp-cut": (lambda: CONTAINERS["webp-lossy"][:-9], "truncated WEBP"),
    "avif-cut": (lambda: CONTAINERS["avif"][:-9], "truncated AVIF"),
    "gif-cut": (lambda: CONTAINERS["gif"][:-20], "truncated GIF"),
    "tiff-cut": (lambda: CONTAINERS["tiff-lzw"][:-9], "truncated TIFF"),
    "bmp-cut": (lambda: CONTAINERS["bmp"][:-9], "truncated BMP"),
}


@dataclasses.dataclass
class App:
    """A test client of one API over a fake engine (to see whether its detectors were called)."""

    service: str
    client: FlaskClient
    engine: FakeEngine

    def upload(self, data: bytes, filename: str = "car.img") -> TestResponse:
        """POST data as the upload (Blur: with faces=5, plates=5)."""
        fields = {"faces": "5", "plates": "5"} if self.service == "blur" else {}
        return post(self.client, data, filename, PATHS[self.service], **fields)


@pytest.fixture(params=list(PATHS))
def app(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> App:
    engine = FakeEngine([(5.0, 5.0, 30.0, 30.0)], [(PLATE, "AB1")])
    client = client_of(request.param, settings, engine, logos_dir=tmp_path / "logos")
    return App(request.param, client, engine)


@pytest.mark.parametrize("name", list(CORRUPT_UPLOADS))
def test_corrupt_upload_is_400_naming_the_damage(app: App, name: str) -> None:
    make, words = CORRUPT_UPLOADS[name]
    message = error_of(app.upload(make()))
    assert message.startswith(f"upload: {PREFIX}"), message
    assert words in message, message
    assert app.engine.plates.calls == [] and app.engine.faces.calls == []  # before detection


def test_base64_corrupt_upload_is_refused_too(app: App) -> None:
    encoded = base64.b64encode(_crc_damaged(b"IDAT")).decode()
    response = app.client.post(PATHS[app.service], data={"upload": encoded})
    assert error_of(response) == f"upload: {PREFIX}PNG chunk IDAT fails its CRC"


def test_valid_avif_upload_is_processed(app: App) -> None:
    body = ok(app.upload(CONTAINERS["avif"], "car.avif"), OK[app.service])
    if app.service == "blur":
        assert body["blur"]["content_type"] == "image/png"
        out = output_image(body)
        assert out.format == "PNG" and out.size == (64, 48)
    else:
        assert (body["image_width"], body["image_height"]) == (64, 48)
        assert [r["plate"] for r in body["results"]] == ["ab1"]


def test_the_same_image_undamaged_is_processed(app: App) -> None:
    for data in (RICH_PNG, JPEG, PROGRESSIVE, CONTAINERS["webp-lossy"]):
        ok(app.upload(data), OK[app.service])
