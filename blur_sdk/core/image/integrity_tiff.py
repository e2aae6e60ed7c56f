"""TIFF integrity check: each directory (page), its tags' values, strips and tiles."""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

from blur_sdk.core.image.corrupt import corrupt

TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
TIFF_TYPE_SIZES.update({13: 4, 16: 8, 17: 8, 18: 8})
TIFF_INTEGERS = {3: "u2", 4: "u4", 13: "u4", 16: "u8", 18: "u8"}
STRIP_OFFSETS, STRIP_COUNTS, TILE_OFFSETS, TILE_COUNTS = 273, 279, 324, 325
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
