"""What the finders are built from: the model runner and each plate source's fixed settings."""

from __future__ import annotations

from dataclasses import dataclass

from blur_sdk.core.models.runner import RunnerConfig

PLATE_SOURCES = ("ocr", "platedet")  # plates through their text; plates as objects
PLATE_READERS = ("both", "ppocr")  # PP-OCR backed by our plate recogniser; PP-OCR alone
FAINT_SIDE = 480  # default PLATE_FAINT_RESOLUTION (docs/plate-reading-history.md: seed 7, 400
# found one plate fewer of br_crops_dev's 530 through the service, 320 five fewer)


@dataclass(frozen=True)
class FinderConfig:
    """Built once at the edge (blur_sdk.options) from the Settings; the core never reads them."""

    runner: RunnerConfig
    plate_sources: tuple[str, ...] = PLATE_SOURCES
    plate_max_resolution: int = 1280  # longest side plate text is detected at
    plate_min_resolution: int = 600  # shorter side smaller images are upscaled to for it
    plate_faint_resolution: int = FAINT_SIDE  # faint text's equalised copy (0: off)
    platedet_resolution: int = 512  # longest side the plate detector runs at
    platedet_threshold: float = 0.5  # a plate on its own
    platedet_confirm_threshold: float = 0.25  # evidence that confirms a text plate
    platedet_promote_threshold: float = 0.08  # a weak hit read, a plate if it reads as one
    plate_reader: str = "both"  # one of PLATE_READERS
