"""JPEG integrity check: marker segments, scans, restart intervals and coefficients."""

from __future__ import annotations

import re
import struct

import numpy as np

from blur_sdk.core.image.corrupt import corrupt

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
