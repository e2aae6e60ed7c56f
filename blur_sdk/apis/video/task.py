"""The task a video submission becomes: anonymize the stored video in a worker, with progress."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from blur_sdk.apis.blur.request import BlurDefaults
from blur_sdk.apis.video.request import job_of, video_limits
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.video.io import SUFFIXES
from blur_sdk.core.video.process import anonymize_video
from blur_sdk.core.video.track import TrackOptions
from blur_sdk.settings import Settings
from blur_sdk.tasks.queue import Processor, TaskOutput
from blur_sdk.tasks.store import TaskNotFoundError, TaskRecord, TaskStore

log = logging.getLogger(__name__)

KIND = "video.anonymize"
VIDEO, LOGO = "video", "logo"
PROGRESS_EVERY = 1.0  # s between progress notes in the task record


def progress_note(store: TaskStore, record: TaskRecord) -> Callable[[int, int], None]:
    """A progress callback writing frames done (and the container's total) into the record at
    most every PROGRESS_EVERY s, while this attempt still owns it."""
    last = [0.0]

    def note(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        try:
            current = store.get(record.id)
        except TaskNotFoundError:
            return
        if (current.status, current.attempts, current.owner) != (
            "processing", record.attempts, record.owner
        ):  # fmt: skip
            return
        current.info = {"frames": done, "frames_total": total or None}
        store.save(current)

    return note


def make_processor(engine: Engine, settings: Settings) -> Processor:
    """The processor of KIND tasks over this process's engine."""
    defaults = BlurDefaults.from_settings(settings)

    def process(record: TaskRecord, store: TaskStore) -> TaskOutput:
        params = record.params
        logo = None
        if params.get("logo_name") is not None:
            logo = (str(params["logo_name"]), store.input(record.id, LOGO))
        fields = [(str(k), str(v)) for k, v in params["fields"]]
        job = job_of(fields, logo, settings, defaults)
        track = TrackOptions(look_ahead=int(params["look_ahead"]),
                             look_behind=int(params["look_behind"]))  # fmt: skip
        container, output = str(params["container"]), str(params["output"])
        with tempfile.TemporaryDirectory(prefix="video-task-") as folder:
            src = Path(folder) / f"input{SUFFIXES[container]}"
            dst = Path(folder) / f"output.{output}"
            src.write_bytes(store.input(record.id, VIDEO))
            result = anonymize_video(
                engine, src, dst, job, int(params["sample"]), track=track,
                limits=video_limits(settings), timeout=settings.task_timeout,
                progress=progress_note(store, record),
            )  # fmt: skip
            data = dst.read_bytes()
        info = {
            "frames": result.frames,
            "frames_total": result.frames,
            "width": result.width,
            "height": result.height,
            "fps": result.fps,
            "format": result.container,
            "codec": result.codec,
            "searched": result.searched,
            "found": result.found,
            "tracks": result.tracks,
            "hidden": result.hidden,
            "variable_frame_rate": result.variable_rate,
            "timings": {k: round(v, 1) for k, v in result.timings.items()},
        }
        return TaskOutput(data, output, info)

    return process
