"""Anonymize a whole video: find faces and plates every Nth frame, track them, hide them in every
frame with the image pipeline's redactors, write the video again.

Frames are written look_ahead + sample frames after they are read, so that an object first found
in a later frame is hidden in the frames before it as well, moved back at its velocity (known
from the next searched frame); the memory held is look_ahead + sample + 1 frames.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from blur_sdk.core.find.engine import Engine
from blur_sdk.core.pipeline import Job, deadline_checker, hide_regions, job_regions
from blur_sdk.core.regions import Region
from blur_sdk.core.video.io import (
    OUTPUTS,
    VideoInfo,
    VideoLimits,
    VideoReader,
    VideoWriter,
    output_size,
    sniff_container,
)
from blur_sdk.core.video.track import MAX_WINDOW, Tracker, TrackOptions
from blur_sdk.errors import InputError

Progress = Callable[[int, int], None]  # (frames written, the container's frame count or 0)
RegionsHook = Callable[[int, list[Region]], None]  # (frame index, the regions hidden in it)
DEFAULT_WINDOW = 8  # frames a detection is carried before and after it (at least `sample`)
MAX_SAMPLE = 120


@dataclass
class VideoResult:
    """What was written, what the source was, and what was found and hidden."""

    source: VideoInfo
    container: str  # of the output: mp4 or webm
    codec: str  # the output's fourcc
    frames: int
    width: int
    height: int
    fps: float
    searched: int = 0  # frames the finders ran on
    found: int = 0  # regions found in those frames
    tracks: int = 0  # objects followed (tracks started)
    hidden: int = 0  # regions hidden over every frame (found, interpolated or predicted)
    frames_hidden: int = 0  # frames where something was hidden
    variable_rate: bool = False  # the source's frames were unevenly spaced (the output is not)
    timings: dict[str, float] = field(default_factory=dict)


def output_container(source: str | None, requested: str | None = None) -> str:
    """The container a video is written in: the one asked for, else WebM for a WebM source and
    MP4 for any other."""
    if requested:
        if requested not in OUTPUTS:
            raise InputError(f"format: must be one of {', '.join(OUTPUTS)}, got {requested!r}",
                             "format")  # fmt: skip
        return requested
    return "webm" if source == "webm" else "mp4"


def container_of(path: Path) -> str | None:
    """The container of a video file (from its first bytes), or None when it is not one."""
    with open(path, "rb") as f:
        return sniff_container(f.read(64))


def track_options(sample: int, look_ahead: int | None = None,
                  look_behind: int | None = None) -> TrackOptions:  # fmt: skip
    """Tracking windows for a sampling step: DEFAULT_WINDOW, and never less than the step."""
    check_sample(sample)
    ahead = max(DEFAULT_WINDOW, sample) if look_ahead is None else look_ahead
    behind = max(DEFAULT_WINDOW, sample) if look_behind is None else look_behind
    return TrackOptions(look_ahead=ahead, look_behind=behind)


def check_sample(sample: int) -> None:
    """Refuse a sampling step outside 1..MAX_SAMPLE."""
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE:
        raise InputError(f"sample: must be an integer in 1..{MAX_SAMPLE}, got {sample!r}",
                         "sample")  # fmt: skip


def check_windows(options: TrackOptions, sample: int) -> None:
    """Privacy first: frames between two searched ones must lie in a detection's window."""
    if sample > 1 and min(options.look_ahead, options.look_behind) < sample - 1:
        raise InputError(
            f"look_ahead, look_behind: must be at least sample - 1 = {sample - 1} (frames "
            "between searched ones are hidden only through them)",
            "look_ahead",
        )


def anonymize_video(
    engine: Engine,
    src_path: Path,
    dst_path: Path,
    job: Job,
    sample: int = 1,
    *,
    track: TrackOptions | None = None,
    limits: VideoLimits | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
    on_regions: RegionsHook | None = None,
) -> VideoResult:
    """Write src_path anonymized to dst_path (.mp4: MPEG-4 Part 2, .webm: VP9).

    The finders run on every `sample`th frame (0, N, 2N, ...) with the job's options; the tracker
    (`track`, default track_options(sample)) carries what they found over the other frames and
    the detector's misses. job.timeout is not used (it is per image): `timeout` is for the video.
    `progress` is called after each frame written, `on_regions` with what each frame hides.
    """
    started = time.perf_counter()
    check_deadline = deadline_checker(timeout, started)
    check_sample(sample)
    if not job.redact:
        raise InputError("faces, plates: nothing to hide (give faces or plates 1..10)", "faces")
    options = track if track is not None else track_options(sample)
    check_windows(options, sample)
    container = dst_path.suffix.lower().lstrip(".")
    if container not in OUTPUTS:
        raise InputError(f"{dst_path.name}: the output must be a .mp4 or .webm file", "format")
    plate_options = replace(job.plates, source=None) if job.plates is not None else None
    tracker = Tracker(options)
    delay = options.look_ahead + sample  # frames held: one searched frame past the look-ahead
    timings = {"detect_ms": 0.0, "render_ms": 0.0}
    with VideoReader(src_path, limits) as reader:
        info = reader.info
        width, height = output_size(info.width, info.height)
        result = VideoResult(info, container, OUTPUTS[container], 0, width, height, info.fps)
        pending: deque[tuple[int, np.ndarray]] = deque()
        with VideoWriter(dst_path, container, info.fps, info.width, info.height) as writer:

            def render(index: int, bgr: np.ndarray) -> None:
                regions = tracker.regions_at(index)
                if on_regions is not None:
                    on_regions(index, regions)
                if regions:
                    begun = time.perf_counter()
                    rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
                    rgb = hide_regions(rgb, regions, job)
                    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                    timings["render_ms"] += (time.perf_counter() - begun) * 1000
                    result.hidden += len(regions)
                    result.frames_hidden += 1
                writer.write(bgr)
                tracker.forget_before(index + 1)
                result.frames = writer.frames
                if progress is not None:
                    progress(writer.frames, info.frames)

            for index, bgr, _ms in reader.frames():
                if index % sample == 0:
                    begun = time.perf_counter()
                    rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
                    found = engine.detect(rgb, face_options=job.faces, plate_options=plate_options,
                                          split=job.split, overlap=job.overlap)  # fmt: skip
                    regions = [r for r in job_regions(found, job, info.width, info.height)
                               if r.kind in job.redact and not r.skipped]  # fmt: skip
                    tracker.update(index, regions)
                    timings["detect_ms"] += (time.perf_counter() - begun) * 1000
                    result.searched += 1
                    result.found += len(regions)
                pending.append((index, bgr))
                while pending and pending[0][0] + delay <= index:
                    render(*pending.popleft())
                check_deadline(f"frame {index}")
            while pending:  # the video ended: nothing more will be found
                render(*pending.popleft())
        result.variable_rate = reader.variable_rate()
    result.tracks = tracker.started
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    result.timings = timings
    return result


__all__ = ["MAX_WINDOW", "VideoResult", "anonymize_video", "output_container", "track_options"]
