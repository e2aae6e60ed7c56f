"""Read a video's frames with their metadata, and write frames, through OpenCV's FFmpeg.

Only ISO-BMFF (MP4, MOV, M4V, 3GP), Matroska / WebM and AVI files are opened: the container is
recognised from the first bytes before FFmpeg sees the file, so playlists, image sequences and
the other formats FFmpeg would probe never are. Frames come out upright (the rotation in the
metadata is applied) and in BGR, as OpenCV decodes them. Written videos are MPEG-4 Part 2
("mp4v") in MP4, or VP9 in WebM; odd widths or heights are padded by one replicated pixel (4:2:0
video needs even sizes). Audio is neither read nor written, and every written frame lasts 1/fps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.errors import BlurSdkError, InputError, PayloadTooLargeError

BGRImage = npt.NDArray[np.uint8]
OUTPUTS = {"mp4": "mp4v", "webm": "VP90"}  # output container -> the OpenCV fourcc written
SUFFIXES = {"mp4": ".mp4", "matroska": ".mkv", "webm": ".webm", "avi": ".avi"}
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_EBML = b"\x1a\x45\xdf\xa3"
MAX_FPS = 1000.0
VFR_TOLERANCE = 0.25  # a frame interval off the median by more than this share: variable rate


class VideoDecodeError(InputError):
    """The bytes are not a video this server reads, or no frame of it can be decoded."""


class VideoEncodeError(BlurSdkError):
    """The encoder could not be opened or refused a frame (a server-side fault)."""


@dataclass(frozen=True)
class VideoLimits:
    """The largest video accepted: frames in all, pixels per frame (0: no limit)."""

    max_frames: int = 0
    max_pixels: int = 0


@dataclass(frozen=True)
class VideoInfo:
    """What the container says, and the size of the frames as decoded (upright)."""

    container: str  # mp4, matroska, webm or avi
    codec: str  # the stream's fourcc, e.g. "avc1", "hev1", "vp09", "FMP4"
    width: int
    height: int
    fps: float
    frames: int  # the container's frame count: an estimate, 0 when it gives none
    rotation: int  # degrees of rotation in the metadata (applied to the frames)


def sniff_container(head: bytes) -> str | None:
    """The container of a file from its first bytes (64 are enough), or None."""
    if len(head) >= 12 and head[4:8] in _ISO_BOXES:
        return "mp4"
    if head[:4] == _EBML:
        return "webm" if b"webm" in head[:64] else "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def _fourcc_text(value: float) -> str:
    code = int(value) if math.isfinite(value) and value > 0 else 0
    text = code.to_bytes(4, "little", signed=False).decode("latin-1") if code < 2**32 else ""
    return text.strip("\x00 ") or "unknown"


class _ClosedOnExit:
    """A `with` block closes it (close() is the subclass's)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class VideoReader(_ClosedOnExit):
    """A video file opened for reading; frames() yields (index, BGR frame, milliseconds)."""

    def __init__(self, path: Path, limits: VideoLimits | None = None) -> None:
        self.limits = limits or VideoLimits()
        with open(path, "rb") as f:
            container = sniff_container(f.read(64))
        if container is None:
            raise VideoDecodeError("not a video: expected MP4, MOV, MKV, WEBM or AVI")
        self._capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            raise VideoDecodeError(f"not a readable video ({container} container)")
        self._capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # upright frames (the default)
        ok, first = self._capture.read()
        if not ok or first is None or first.ndim != 3:
            self.close()
            raise VideoDecodeError(f"no frame of this {container} video can be decoded")
        self._first: BGRImage | None = np.asarray(first, dtype=np.uint8)
        self._first_ms = float(self._capture.get(cv2.CAP_PROP_POS_MSEC))
        height, width = first.shape[:2]
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        if not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
            self.close()
            raise VideoDecodeError(f"the video has no usable frame rate ({fps:g})")
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.info = VideoInfo(
            container=container,
            codec=_fourcc_text(self._capture.get(cv2.CAP_PROP_FOURCC)),
            width=width,
            height=height,
            fps=fps,
            frames=int(count) if math.isfinite(count) and count > 0 else 0,
            rotation=int(self._capture.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360,
        )
        self.timestamps: list[float] = []  # ms of each frame read, in order
        self._check_limits()

    def _check_limits(self) -> None:
        info, limits = self.info, self.limits
        if limits.max_pixels and info.width * info.height > limits.max_pixels:
            self.close()
            raise PayloadTooLargeError(
                f"frames of {info.width}x{info.height} are larger than {limits.max_pixels} pixels"
            )
        if limits.max_frames and info.frames > limits.max_frames:
            self.close()
            raise PayloadTooLargeError(
                f"the video has {info.frames} frames, more than the limit of {limits.max_frames}"
            )

    def frames(self) -> Iterator[tuple[int, BGRImage, float]]:
        """Every frame, in order: its index, its pixels (BGR, upright) and time (ms)."""
        index = 0
        while True:
            if self._first is not None:
                frame, ms, self._first = self._first, self._first_ms, None
            else:
                ok, read = self._capture.read()
                if not ok or read is None:
                    return
                frame, ms = (
                    np.asarray(read, dtype=np.uint8),
                    self._capture.get(cv2.CAP_PROP_POS_MSEC),
                )
            if frame.shape[:2] != (self.info.height, self.info.width):
                raise VideoDecodeError(f"frame {index} has another size: {frame.shape[1]}x"
                                       f"{frame.shape[0]} (expected {self.info.width}x"
                                       f"{self.info.height})")  # fmt: skip
            if self.limits.max_frames and index >= self.limits.max_frames:
                raise PayloadTooLargeError(
                    f"the video has more frames than the limit of {self.limits.max_frames}"
                )
            self.timestamps.append(float(ms))
            yield index, frame, float(ms)
            index += 1

    def variable_rate(self) -> bool:
        """Whether the frames read so far are unevenly spaced in time (variable frame rate)."""
        steps = np.diff(np.asarray(self.timestamps, dtype=np.float64))
        if len(steps) < 2:
            return False
        median = float(np.median(steps))
        return median <= 0 or bool(np.any(np.abs(steps - median) > VFR_TOLERANCE * median))

    def close(self) -> None:
        """Release the decoder."""
        self._capture.release()


def output_size(width: int, height: int) -> tuple[int, int]:
    """The size a frame is written at: odd sides padded to even (4:2:0 chroma)."""
    return width + width % 2, height + height % 2


class VideoWriter(_ClosedOnExit):
    """Frames written at a constant rate into an MP4 (MPEG-4 Part 2) or WebM (VP9) file."""

    def __init__(self, path: Path, container: str, fps: float, width: int, height: int) -> None:
        if container not in OUTPUTS:
            raise ValueError(f"container must be one of {', '.join(OUTPUTS)}, got {container!r}")
        if path.suffix.lower() != f".{container}":
            raise ValueError(f"{path.name}: a {container} video's name must end in .{container}")
        self.container, self.fps = container, fps
        self.width, self.height = width, height
        self.size = output_size(width, height)
        self.frames = 0
        fourcc = cv2.VideoWriter.fourcc(*OUTPUTS[container])
        self._writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, fourcc, fps, self.size)
        if not self._writer.isOpened():
            raise VideoEncodeError(f"the {container} encoder ({OUTPUTS[container]}) cannot start")

    def write(self, frame: BGRImage) -> None:
        """Append one BGR frame of the size given at creation."""
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame of {frame.shape[1]}x{frame.shape[0]}, expected "
                             f"{self.width}x{self.height}")  # fmt: skip
        pad_x, pad_y = self.size[0] - self.width, self.size[1] - self.height
        if pad_x or pad_y:
            frame = np.asarray(
                cv2.copyMakeBorder(frame, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE), np.uint8
            )
        self._writer.write(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        """Finish the file (its index is written here)."""
        self._writer.release()
