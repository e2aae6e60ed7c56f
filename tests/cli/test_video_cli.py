"""`python -m blur_sdk video IN OUT`: the batch CLI's options, the video anonymized (frames,
rate and size kept, the face hidden in every frame, the rest unchanged), the refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from blur_sdk.__main__ import main as blur_sdk_main
from blur_sdk.cli import video
from tests.videos import FRAMES, check_anonymized, make_video, read_video, red_engine


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    make_video(path)
    return path


@pytest.mark.parametrize(
    ("args", "miss"),
    [([], {17, 18, 19, 23, 24}), (["--sample", "2"], {9, 10}), (["--shape", "square"], set())],
)
def test_a_video_is_anonymized(clip: Path, tmp_path: Path, args: list[str], miss: set[int],
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "out.mp4"
    code = video.main([str(clip), str(out), "--plates", "-1", "--no-progress", *args],
                      red_engine(miss))  # fmt: skip
    assert code == 0, capsys.readouterr().err
    check_anonymized(clip, out)
    said = capsys.readouterr().out
    assert f"{FRAMES} frames, 320x240 at 25 fps (mp4, mp4v)" in said and "no audio" in said
    assert not list(tmp_path.glob(".*part*"))


def test_webm_out_and_pixelate(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.webm"
    assert video.main([str(clip), str(out), "--no-progress"], red_engine()) == 0
    frames, fps, size = read_video(out)
    assert len(frames) == FRAMES and fps == 25 and size == (320, 240)
    assert out.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"


def test_refusals(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mp4"
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    cases = [
        ([str(clip), str(tmp_path / "out.gif")], 2, "must end in .mp4 or .webm"),
        ([str(tmp_path / "missing.mp4"), str(out)], 2, "no such file"),
        ([str(clip), str(out), "--faces", "0", "--plates", "0"], 2, "nothing to hide"),
        ([str(clip), str(out), "--sample", "6", "--look-ahead", "2"], 2, "look_ahead"),
        ([str(not_video), str(out)], 1, "not a video"),
    ]
    for argv, code, message in cases:
        assert video.main([*argv, "--no-progress"], red_engine()) == code, argv
        assert message in capsys.readouterr().err, argv
    assert not out.exists()
    out.write_bytes(b"old")
    assert video.main([str(clip), str(out)], red_engine()) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"old"
    assert video.main([str(clip), str(out), "--force", "--no-progress"], red_engine()) == 0


def test_the_subcommand_is_mounted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        blur_sdk_main(["video", "--help"])
    text = capsys.readouterr().out
    for option in ("--faces", "--plates", "--logo", "--shape", "--sample", "--look-ahead"):
        assert option in text


def test_progress_bar_in_a_real_process(clip: Path, tmp_path: Path) -> None:
    """The command as run (its own engine would load the models: -1 / no models, so refused
    before loading; the bar itself is exercised by the in-process tests with --progress)."""
    done = subprocess.run(
        [sys.executable, "-m", "blur_sdk", "video", str(clip), str(tmp_path / "o.mp4"),
         "--faces", "0", "--plates", "-1"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "nothing to hide" in done.stderr


def test_progress_bar(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mp4"
    assert video.main([str(clip), str(out), "--progress"], red_engine()) == 0
    err = capsys.readouterr().err
    assert f"{FRAMES}/{FRAMES}" in err and "frame/s" in err
