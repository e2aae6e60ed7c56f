"""The task a Kaze submission becomes: remove the watermarks of the stored image, in a worker."""

from __future__ import annotations

from blur_sdk.core.image.encode import EXTENSIONS
from blur_sdk.core.watermark.finder import WatermarkOptions
from blur_sdk.core.watermark.removal import RemovalJob, WatermarkSource, remove_watermarks
from blur_sdk.options import image_limits
from blur_sdk.settings import Settings
from blur_sdk.tasks.queue import Processor, TaskOutput
from blur_sdk.tasks.store import TaskRecord, TaskStore

KIND = "kaze.watermark_removal"
IMAGE, SMEAR = "image", "smear"


def make_processor(finder: WatermarkSource | None, settings: Settings) -> Processor:
    """The processor of KIND tasks over this process's watermark finder."""

    def process(record: TaskRecord, store: TaskStore) -> TaskOutput:
        data = store.input(record.id, IMAGE)
        smear = store.input(record.id, SMEAR) if record.params.get(SMEAR) else None
        job = RemovalJob(
            smear=smear,
            find=WatermarkOptions(overlay_only=settings.watermark_overlay_only),
            method=settings.inpaint_method,
            limits=image_limits(settings),
            timeout=settings.task_timeout,
            jpeg_quality=settings.jpeg_quality,
        )
        result = remove_watermarks(finder, data, job)
        info = {
            "changed": result.changed,
            "mask_pixels": result.mask_pixels,
            "timings": {k: round(v, 1) for k, v in result.timings.items()},
        }
        return TaskOutput(result.image, EXTENSIONS[result.format], info)

    return process
