"""Reading and writing videos: containers recognised by their bytes, metadata, limits, sizes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from blur_sdk.core.video.io import (
    VideoDecodeError,
    VideoLimits,
    VideoReader,
    VideoWriter,
    sniff_container,
)
from blur_sdk.errors import PayloadTooLargeError
from tests.videos import FRAMES, background, make_video, read_video


@pytest.mark.parametrize(("name", "fourcc", "container"), [
    ("a.mp4", "mp4v", "mp4"), ("a.mov", "mp4v", "mp4"), ("a.mkv", "mp4v", "matroska"),
    ("a.webm", "VP80", "webm"), ("a.avi", "MJPG", "avi"),
])  # fmt: skip
def test_containers_are_read(tmp_path: Path, name: str, fourcc: str, container: str) -> None:
    path = tmp_path / name
    make_video(path, frames=12, fourcc=fourcc)
    with VideoReader(path) as reader:
        assert reader.info.container == container
        assert (reader.info.width, reader.info.height, reader.info.fps) == (320, 240, 25.0)
        frames = list(reader.frames())
        assert [i for i, _, _ in frames] == list(range(12))
        assert [ms for _, _, ms in frames] == pytest.approx([40.0 * i for i in range(12)])
        assert not reader.variable_rate()


def test_sniffing() -> None:
    assert sniff_container(b"\x00\x00\x00\x20ftypisom") == "mp4"
    assert sniff_container(b"\x1a\x45\xdf\xa3\x9fB\x86\x81\x01webm") == "webm"
    assert sniff_container(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    for head in (b"", b"#EXTM3U\n#EXT-X-VERSION:3", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"ftyp"):
        assert sniff_container(head) is None


def test_refusals(tmp_path: Path) -> None:
    playlist = tmp_path / "x.mp4"
    playlist.write_bytes(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    with pytest.raises(VideoDecodeError, match="not a video"):
        VideoReader(playlist)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))
    with pytest.raises(VideoDecodeError):
        VideoReader(broken)
    clip = tmp_path / "clip.mp4"
    make_video(clip)
    with pytest.raises(PayloadTooLargeError, match="pixels"):
        VideoReader(clip, VideoLimits(max_pixels=320 * 239))
    with pytest.raises(PayloadTooLargeError, match="frames"):
        VideoReader(clip, VideoLimits(max_frames=FRAMES - 1))


def test_odd_sizes_are_padded_not_cropped(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    frame = np.ascontiguousarray(background(321, 241))
    with VideoWriter(path, "mp4", 30.0, 321, 241) as writer:
        for _ in range(3):
            writer.write(frame)
    frames, fps, size = read_video(path)
    assert len(frames) == 3 and fps == 30 and size == (322, 242)
    with pytest.raises(ValueError, match=r"must end in \.webm"):
        VideoWriter(tmp_path / "x.mp4", "webm", 30.0, 320, 240)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg program")
def test_rotation_is_applied(tmp_path: Path) -> None:
    clip, rotated = tmp_path / "clip.mp4", tmp_path / "rotated.mp4"
    make_video(clip, frames=6)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(clip), "-c", "copy",
                    "-metadata:s:v", "rotate=90", str(rotated)], check=True)  # fmt: skip
    with VideoReader(rotated) as reader:
        assert (reader.info.width, reader.info.height) == (240, 320)
