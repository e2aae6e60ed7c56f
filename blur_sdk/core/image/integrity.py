"""Byte-level integrity checks run before decoding, so that damage is refused, not papered over.

Pillow forgives some damage: it skips the CRC of IDAT and IEND chunks, decodes a PNG without
IEND, and libjpeg fills what a JPEG scan lacks with grey (its warnings are dropped). A damaged
upload answered as a clean photo is a privacy failure, so each supported format's structure is
walked here first: a byte scan (CRCs, chunk, box and segment lengths, JPEG scans), no decoding.
Harmless oddities still pass: trailing bytes after the end of the image (MPO frames after the
first JPEG's EOI included), metadata Pillow ignores, extraneous bytes between JPEG segments.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from blur_sdk.errors import ImageDecodeError

PREFIX = "image is corrupt: "
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AVIF_BRANDS = (b"avif", b"avis")


def corrupt(what: str) -> ImageDecodeError:
    """The error for a damaged image: 'image is corrupt: ' and what is wrong."""
    return ImageDecodeError(PREFIX + what)


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


# --- JPEG ----------------------------------------------------------------------------------

SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
PROGRESSIVE_SOF = frozenset((0xC2, 0xC6, 0xCA, 0xCE))
MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")  # not stuffing, fill or RSTn
RESTART = re.compile(rb"\xff[\xd0-\xd7]")
JPEG_LS_MARKERS = (0xF7, 0xF8)  # SOF55, LSE
SEGMENT_NAMES = {0xC4: "DHT", 0xDA: "SOS", 0xDB: "DQT", 0xDD: "DRI", 0xFE: "COM"}


def _segment_name(marker: int) -> str:
    if marker in SOF_MARKERS:
        return f"SOF{marker - 0xC0}"
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    return SEGMENT_NAMES.get(marker, f"0xFF{marker:02X}")


class _Frame:
    """A JPEG frame header (SOFn): size, components (id -> sampling) and what the scans cover."""

    def __init__(self, marker: int, body: bytes) -> None:
        if len(body) < 6 or len(body) < 6 + 3 * body[5] or body[5] == 0:
            raise corrupt(f"JPEG frame header {_segment_name(marker)} is invalid")
        self.progressive = marker in PROGRESSIVE_SOF
        self.height, self.width = (int(value) for value in struct.unpack_from(">HH", body, 1))
        self.sampling = {
            body[i]: (body[i + 1] >> 4, body[i + 1] & 15) for i in range(6, 6 + 3 * body[5], 3)
        }
        self.max_h = max(h for h, _ in self.sampling.values()) or 1
        self.max_v = max(v for _, v in self.sampling.values()) or 1
        self.done = {cid: np.zeros(64, bool) for cid in self.sampling}  # coefficients complete

    def mcus(self, components: list[int]) -> int:
        """Number of MCUs in a scan of these components (interleaved or not)."""
        if len(components) > 1:
            return -(-self.width // (8 * self.max_h)) * -(-self.height // (8 * self.max_v))
        h, v = self.sampling[components[0]]
        width = -(-self.width * h // self.max_h)
        height = -(-self.height * v // self.max_v)
        return -(-width // 8) * -(-height // 8)

    def scan(self, body: bytes) -> list[int]:
        """Record an SOS header's components and coefficients; returns the components."""
        count = body[0] if body else 0
        if count == 0 or len(body) < 1 + 2 * count + 3:
            raise corrupt("JPEG scan header SOS is invalid")
        components = [body[1 + 2 * i] for i in range(count)]
        for cid in components:
            if cid not in self.sampling:
                raise corrupt(f"JPEG scan names component {cid}, which the frame lacks")
        start, stop, approx = body[1 + 2 * count : 4 + 2 * count]
        if not self.progressive:
            start, stop, approx = 0, 63, 0
        if approx & 15 == 0 and start <= stop <= 63:  # Al = 0: these coefficients are final
            for cid in components:
                self.done[cid][start : stop + 1] = True
        return components

    def missing(self) -> str | None:
        """What the scans did not deliver, if anything."""
        for cid, done in self.done.items():
            if not done.all():
                first = int(np.argmin(done))
                last = first + (int(np.argmax(done[first:])) or 64 - first) - 1
                return f"component {cid} lacks coefficients {first}-{last}"
        return None


def check_jpeg(data: bytes) -> None:
    """Marker segments complete, scans ending at a marker, EOI present, every coefficient sent.

    With restart markers (DRI), each scan must have all its restart intervals: a scan cut and
    closed with an EOI would otherwise decode to grey without a word from libjpeg.
    """
    pos, end = 2, len(data)
    frame: _Frame | None = None
    restart_interval = scans = 0
    while True:
        pos = data.find(b"\xff", pos)  # libjpeg, too, skips extraneous bytes between segments
        while 0 <= pos < end and data[pos] == 0xFF:
            pos += 1
        if pos < 0 or pos >= end:
            where = "the last scan" if scans else "its first scan"
            raise corrupt(f"truncated JPEG: the data ends before {where}")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI: what follows (an MPO's other frames, padding) is not ours
            break
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD7:  # FF 00, TEM, stray RSTn: skipped
            continue
        if marker in JPEG_LS_MARKERS:
            return  # JPEG-LS, which Pillow does not read: it says so
        if marker == 0xD8:
            raise corrupt("JPEG has a second SOI marker before its EOI")
        name = _segment_name(marker)
        if pos + 2 > end or pos + int.from_bytes(data[pos : pos + 2]) > end:
            raise corrupt(f"truncated JPEG: the data ends inside its {name} segment")
        length = int.from_bytes(data[pos : pos + 2])
        if length < 2:
            raise corrupt(f"JPEG {name} segment has an invalid length")
        body, pos = data[pos + 2 : pos + length], pos + length
        if marker in SOF_MARKERS:
            if frame is not None:
                raise corrupt("JPEG has a second frame header before its EOI")
            frame = _Frame(marker, body)
        elif marker == 0xDD and len(body) >= 2:
            restart_interval = int.from_bytes(body[:2])
        elif marker == 0xDA:
            if frame is None:
                raise corrupt("JPEG scan comes before its frame header")
            components = frame.scan(body)
            scans += 1
            found = MARKER_AFTER_SCAN.search(data, pos)
            if found is None:
                raise corrupt("truncated JPEG: the data ends inside a scan (no EOI marker)")
            if restart_interval and frame.height:
                expected = -(-frame.mcus(components) // restart_interval) - 1
                got = len(RESTART.findall(data, pos, found.start()))
                if got < expected:
                    raise corrupt(
                        f"JPEG scan ends early: {got + 1} of {expected + 1} restart intervals"
                    )
            pos = found.start()
    if frame is None:
        raise corrupt("JPEG has no frame header")
    missing = frame.missing()
    if missing:
        kind = "progressive JPEG" if frame.progressive else "JPEG"
        raise corrupt(f"{kind} data ends before the last scan ({missing})")


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
    """AVIF (ISO-BMFF): every top-level box complete."""
    pos, end = 0, len(data)
    while pos < end:
        if pos + 8 > end:
            raise corrupt("truncated AVIF: the data ends inside a box header")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise corrupt("truncated AVIF: the data ends inside a box header")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:  # the last box runs to the end
            size = end - pos
        name = kind.decode("latin-1")
        if size < header:
            raise corrupt(f"AVIF box {name!r} has an invalid size")
        if pos + size > end:
            raise corrupt(f"truncated AVIF: the data ends inside box {name!r}")
        pos += size


def _is_avif(data: bytes) -> bool:
    if data[4:8] != b"ftyp" or len(data) < 16:
        return False
    size = int.from_bytes(data[:4])
    brands = data[8:12] + data[16 : min(size, 64)]
    return any(brands[i : i + 4] in AVIF_BRANDS for i in range(0, len(brands) - 3, 4))


# --- TIFF and BMP --------------------------------------------------------------------------

TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
TIFF_TYPE_SIZES.update({13: 4, 16: 8, 17: 8, 18: 8})
TIFF_INTEGERS = {3: "u2", 4: "u4", 13: "u4", 16: "u8", 18: "u8"}
STRIP_OFFSETS, STRIP_COUNTS, TILE_OFFSETS, TILE_COUNTS = 273, 279, 324, 325
BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)
MAX_TIFF_PAGES = 1000
PRIVATE_TIFF_TAGS = 32768  # and above: vendors' tags, not checked


def check_tiff(data: bytes) -> None:
    """Each directory (page) inside the data, and each of its strips or tiles."""
    order = "<" if data[:2] == b"II" else ">"
    big = struct.unpack_from(order + "H", data, 2)[0] == 43
    if len(data) < (16 if big else 8):
        raise corrupt("truncated TIFF: the data ends inside its header")
    offset_format = order + ("Q" if big else "I")
    ifd = struct.unpack_from(offset_format, data, 8 if big else 4)[0]
    seen: set[int] = set()
    while ifd and ifd not in seen and len(seen) < MAX_TIFF_PAGES:
        seen.add(ifd)
        ifd = _check_tiff_directory(data, ifd, order, big, len(seen))


def _check_tiff_directory(data: bytes, ifd: int, order: str, big: bool, page: int) -> int:
    """Check one directory (its public tags' values, strips and tiles inside the data).

    Returns the offset of the next directory (0 for none).
    """
    count_format, entry_size, value_size = ("Q", 20, 8) if big else ("H", 12, 4)
    offset_format, end = order + ("Q" if big else "I"), len(data)
    if ifd + 8 > end:
        raise corrupt(
            f"truncated TIFF: the directory of page {page} lies beyond the end of the data"
        )
    (count,) = struct.unpack_from(order + count_format, data, ifd)
    first = ifd + struct.calcsize(count_format)
    if first + count * entry_size + value_size > end:  # entries, next directory's offset
        raise corrupt(f"truncated TIFF: the data ends inside the directory of page {page}")
    arrays: dict[int, npt.NDArray[np.uint64]] = {}
    for at in range(first, first + count * entry_size, entry_size):
        tag, kind, number = struct.unpack_from(order + ("HHQ" if big else "HHI"), data, at)
        if tag >= PRIVATE_TIFF_TAGS or kind not in TIFF_TYPE_SIZES:
            continue  # a vendor's tag (Pillow skips those it cannot read) or an unknown type
        size = number * TIFF_TYPE_SIZES[kind]
        where = at + entry_size - value_size
        if size > value_size:
            where = struct.unpack_from(offset_format, data, where)[0]
        if where + size > end:
            raise corrupt(f"truncated TIFF: tag {tag} lies beyond the end of the data")
        if tag not in (STRIP_OFFSETS, STRIP_COUNTS, TILE_OFFSETS, TILE_COUNTS):
            continue
        if kind not in TIFF_INTEGERS:
            continue  # not an offset or a count: Pillow judges it
        dtype = np.dtype(order + TIFF_INTEGERS[kind])
        arrays[tag] = np.frombuffer(data, dtype, number, where).astype(np.uint64)
    for offsets, counts, what in (
        (STRIP_OFFSETS, STRIP_COUNTS, "strip"),
        (TILE_OFFSETS, TILE_COUNTS, "tile"),
    ):
        if offsets in arrays and counts in arrays and len(arrays[offsets]) == len(arrays[counts]):
            starts = np.minimum(arrays[offsets], np.uint64(end))
            outside = (arrays[offsets] > end) | (arrays[counts] > np.uint64(end) - starts)
            if outside.any():
                index = int(np.argmax(outside))
                raise corrupt(
                    f"truncated TIFF: {what} {index} of page {page} lies beyond the end of the data"
                )
    return int(struct.unpack_from(offset_format, data, first + count * entry_size)[0])


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
