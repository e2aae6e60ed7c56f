"""anonymize_video: every labelled frame covered (misses and sampling filled by the tracker),
the rest unchanged, frame count / rate / size kept, progress, limits; the real models too."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.synthetic import FACE_BOX, scene_with_plate
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.pipeline import intensity_job
from blur_sdk.core.video.process import anonymize_video, output_container, track_options
from blur_sdk.core.video.track import TrackOptions
from blur_sdk.errors import InputError, ProcessingTimeoutError
from tests.videos import (
    FRAMES,
    PRESENT,
    check_anonymized,
    make_video,
    read_video,
    red_engine,
    texture,
    uncovered,
)

FACES_ONLY = intensity_job(10, -1)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    make_video(path)
    return path


@pytest.mark.parametrize(("sample", "miss"), [
    (1, set()), (1, {17, 18, 19, 20, 21, 22, 26}), (2, {9}), (3, {6}), (5, set()),
])  # fmt: skip
def test_every_frame_of_the_face_is_hidden(clip: Path, tmp_path: Path, sample: int,
                                           miss: set[int]) -> None:  # fmt: skip
    out = tmp_path / "out.mp4"
    seen: list[tuple[int, int]] = []
    result = anonymize_video(red_engine(miss), clip, out, FACES_ONLY, sample,
                             progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    check_anonymized(clip, out)
    assert (result.frames, result.width, result.height, result.fps) == (FRAMES, 320, 240, 25)
    assert result.searched == len(range(0, FRAMES, sample)) and result.tracks == 1
    assert seen == [(i, FRAMES) for i in range(1, FRAMES + 1)]
    assert result.source.container == "mp4" and result.codec == "mp4v"


def test_without_tracking_misses_show(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    anonymize_video(red_engine({17, 20}), clip, out, FACES_ONLY,
                    track=TrackOptions(look_ahead=0, look_behind=0))  # fmt: skip
    source, output = read_video(clip)[0], read_video(out)[0]
    assert list(uncovered(source, output)) == [17, 20]  # the frames the finder missed
    assert all(i in PRESENT for i in (17, 20))


def test_webm_out(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.webm"
    result = anonymize_video(red_engine(), clip, out, FACES_ONLY)
    assert result.container == "webm" and result.codec == "VP90"
    check_anonymized(clip, out)


def test_choices_and_refusals(clip: Path, tmp_path: Path) -> None:
    assert output_container("webm") == "webm" and output_container("matroska") == "mp4"
    assert output_container("mp4", "webm") == "webm"
    with pytest.raises(InputError, match="format"):
        output_container("mp4", "gif")
    assert track_options(12).look_ahead == 12 and track_options(2).look_behind == 8
    out = tmp_path / "out.mp4"
    for job, kwargs, match in (
        (intensity_job(0, 0), {}, "nothing to hide"),
        (FACES_ONLY, {"sample": 0}, "sample"),
        (FACES_ONLY, {"sample": 4, "track": TrackOptions(2, 8)}, "look_ahead"),
    ):
        with pytest.raises(InputError, match=match):
            anonymize_video(red_engine(), clip, out, job, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"mp4 or \.webm"):
        anonymize_video(red_engine(), clip, tmp_path / "out.avi", FACES_ONLY)
    with pytest.raises(ProcessingTimeoutError):
        anonymize_video(red_engine(), clip, out, FACES_ONLY, timeout=1e-6)


@pytest.mark.models
def test_the_real_models_hide_the_face_in_every_frame(real_engine: Engine, tmp_path: Path) -> None:
    """The synthetic scene (face and plate) panning 3 px a frame; searched every other frame."""
    scene = cv2.cvtColor(scene_with_plate(), cv2.COLOR_RGB2BGR)
    src, out = tmp_path / "scene.mp4", tmp_path / "out.mp4"
    frames, size, step = 10, (448, 480), 3
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, size)
    for i in range(frames):
        writer.write(np.ascontiguousarray(scene[16 : 16 + size[1], i * step : i * step + size[0]]))
    writer.release()
    result = anonymize_video(real_engine, src, out, intensity_job(10, 10), 2)
    assert result.frames == frames and result.tracks >= 2  # the face and the plate
    before, after = read_video(src)[0], read_video(out)[0]
    for i in range(frames):
        x0, y0, x1, y1 = FACE_BOX
        box = (int(x0) - i * step, int(y0) - 16, int(x1) - i * step, int(y1) - 16)
        assert texture(after[i], box) < 0.3 * texture(before[i], box), i
