"""Byte-level integrity checks run before decoding, so that damage is refused, not papered over.

Pillow forgives some damage: it skips the CRC of IDAT and IEND chunks, decodes a PNG without
IEND, and libjpeg fills what a JPEG scan lacks with grey (its warnings are dropped). A damaged
upload answered as a clean photo is a privacy failure, so each supported format's structure is
walked here first: a byte scan (CRCs, chunk, box and segment lengths, JPEG scans), no decoding.
Harmless oddities still pass: trailing bytes after the end of the image (MPO frames after the
first JPEG's EOI included), metadata Pillow ignores, extraneous bytes between JPEG segments.
The JPEG and TIFF walks live in integrity_jpeg and integrity_tiff; the error in corrupt.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable

from blur_sdk.core.image.corrupt import corrupt
from blur_sdk.core.image.integrity_jpeg import check_jpeg
from blur_sdk.core.image.integrity_tiff import check_tiff

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AVIF_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim")
# (ISO-BMFF image brands: AVIF, and HEIF/HEIC as phones write it)


def check_integrity(data: bytes) -> None:
    """Raise ImageDecodeError('image is corrupt: ...') if the data of a known format is damaged.

    The format is told by its signature (as Pillow does); unknown data passes (Pillow judges it).
    """
    for accepts, check in CHECKS:
        if accepts(data):
            check(data)
            return


# --- PNG -----------------------------------------------------------------------------------


def _chunk_name(kind: bytes) -> str:
    return kind.decode("ascii") if kind.isalpha() else "0x" + kind.hex()


def check_png(data: bytes) -> None:
    """Every chunk complete and matching its CRC, IHDR first, an IDAT, and an IEND."""
    view, pos, end, idat = memoryview(data), len(PNG_SIGNATURE), len(data), False
    while True:
        if pos + 8 > end:
            raise corrupt("truncated PNG: the data ends before the IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        name = _chunk_name(kind)
        if not kind.isalpha():
            raise corrupt(f"PNG chunk type {name} is invalid")
        if length > 0x7FFFFFFF:
            raise corrupt(f"PNG chunk {name} has an invalid length")
        if pos == len(PNG_SIGNATURE) and kind != b"IHDR":
            raise corrupt(f"PNG starts with chunk {name}, not IHDR")
        if pos + 12 + length > end:
            raise corrupt(f"truncated PNG: the data ends inside chunk {name}")
        (stored,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(view[pos + 4 : pos + 8 + length]) != stored:  # type and data
            raise corrupt(f"PNG chunk {name} fails its CRC")
        idat = idat or kind == b"IDAT"
        pos += 12 + length
        if kind == b"IEND":
            break
    if not idat:
        raise corrupt("PNG has no IDAT chunk")


# --- GIF -----------------------------------------------------------------------------------

GIF_BLOCK = re.compile(rb"[!,;]")


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    end = len(data)
    while pos < end and data[pos]:
        pos += 1 + data[pos]
    if pos >= end:
        raise corrupt("truncated GIF: the data ends inside a block")
    return pos + 1


def check_gif(data: bytes) -> None:
    """Every block complete, at least one image, and the trailer."""
    if len(data) < 13:
        raise corrupt("truncated GIF: the data ends inside its header")
    pos, images = 13, 0
    if data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)  # global colour table
    while True:
        found = GIF_BLOCK.search(data, pos)  # Pillow, too, skips unknown bytes between blocks
        if found is None:
            raise corrupt("truncated GIF: the data ends before the GIF trailer")
        pos = found.end()
        kind = data[pos - 1]
        if kind == 0x3B:
            break
        if kind == 0x21:  # extension: label, sub-blocks
            pos = _skip_sub_blocks(data, pos + 1)
            continue
        if pos + 10 > len(data):
            raise corrupt("truncated GIF: the data ends inside an image descriptor")
        flags = data[pos + 8]
        pos += 9 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        pos = _skip_sub_blocks(data, pos + 1)  # after the LZW minimum code size
        images += 1
    if not images:
        raise corrupt("GIF has no image")


# --- WEBP and AVIF (RIFF and ISO-BMFF containers) ------------------------------------------


def check_webp(data: bytes) -> None:
    """The RIFF container as long as it says, and every chunk inside it complete."""
    (size,) = struct.unpack_from("<I", data, 4)
    if 8 + size > len(data):
        raise corrupt(f"truncated WEBP: {len(data)} of {8 + size} bytes")
    pos, end = 12, 8 + size
    while pos + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        if pos + 8 + length > end:
            raise corrupt(f"truncated WEBP: the data ends inside chunk {kind.decode('latin-1')}")
        pos += 8 + length + (length & 1)
    if pos == 12:
        raise corrupt("WEBP has no image chunk")


def check_isobmff(data: bytes) -> None:
    """AVIF and HEIF/HEIC (ISO-BMFF): every top-level box complete."""
    pos, end = 0, len(data)
    while pos < end:
        if pos + 8 > end:
            raise corrupt("truncated AVIF/HEIF: the data ends inside a box header")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise corrupt("truncated AVIF/HEIF: the data ends inside a box header")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:  # the last box runs to the end
            size = end - pos
        name = kind.decode("latin-1")
        if size < header:
            raise corrupt(f"AVIF/HEIF box {name!r} has an invalid size")
        if pos + size > end:
            raise corrupt(f"truncated AVIF/HEIF: the data ends inside box {name!r}")
        pos += size


def _is_avif(data: bytes) -> bool:
    if data[4:8] != b"ftyp" or len(data) < 16:
        return False
    size = int.from_bytes(data[:4])
    brands = data[8:12] + data[16 : min(size, 64)]
    return any(brands[i : i + 4] in AVIF_BRANDS for i in range(0, len(brands) - 3, 4))


# --- BMP -----------------------------------------------------------------------------------

BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)


def check_bmp(data: bytes) -> None:
    """The pixel data as long as the headers say."""
    if len(data) < 30:
        raise corrupt("truncated BMP: the data ends inside its headers")
    offset, header = struct.unpack_from("<II", data, 10)
    if header not in BMP_HEADERS:
        return  # not a BMP Pillow reads: it says so
    if header == 12:
        width, height, _, bits = struct.unpack_from("<HHHH", data, 18)
        compression = size = 0
    else:
        if len(data) < 42:
            raise corrupt("truncated BMP: the data ends inside its headers")
        width, height, _, bits, compression, size = struct.unpack_from("<iiHHII", data, 18)
    if compression in (0, 3, 6):  # RGB, BITFIELDS, ALPHABITFIELDS: rows of fixed length
        size = (abs(width) * bits + 31) // 32 * 4 * abs(height)
    elif compression not in (1, 2):  # RLE8, RLE4: their size, if the header gives it
        size = 0
    if offset + size > len(data):
        raise corrupt(f"truncated BMP: {len(data)} of {offset + size} bytes")


CHECKS: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], None]], ...] = (
    (lambda data: data.startswith(PNG_SIGNATURE), check_png),
    (lambda data: data.startswith(b"\xff\xd8\xff"), check_jpeg),
    (lambda data: data[:6] in (b"GIF87a", b"GIF89a"), check_gif),
    (lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP", check_webp),
    (_is_avif, check_isobmff),
    (lambda data: data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"), check_tiff),
    (lambda data: data[:2] == b"BM" and len(data) >= 14, check_bmp),
)
