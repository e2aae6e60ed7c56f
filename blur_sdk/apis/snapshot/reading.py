"""Snapshot request fields -> engine options, and engine plates -> Snapshot `results`.

Choices where Snapshot's behaviour needs something we do not have:

- ``config.mode``: ``redaction`` (default: what Blur asks for; more plates, lower floors) or
  ``fast`` (stricter detection and OCR floors, and no search for faint text on an equalised
  copy of the image). ``threshold_d`` / ``threshold_o`` override both.
- ``config.detection_rule = "strict"`` drops plates found outside a vehicle in Snapshot. We have
  no vehicle detector, so every plate is kept (dropping all of them would leave plates unblurred).
- ``config.detection_mode = "vehicle"`` is accepted; results are the same (plates only).
- ``config.region = "strict"`` keeps only plates whose best reading matches a format of the
  requested regions (see snapshot_stub.regions); regions we have no formats for keep every plate.
- ``mmc`` is accepted; vehicles carry no make, model or colour (score 0, zero box).
- Unknown ``config`` keys are ignored, as Snapshot does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from blur_sdk.apis.snapshot.config import choice, plate_config
from blur_sdk.apis.snapshot.results import to_snapshot_result
from blur_sdk.core.find.base import PlateDetection, PlateOptions
from blur_sdk.core.plates import regions as region_table
from blur_sdk.core.plates import text as plate_text
from blur_sdk.errors import InputError
from blur_sdk.server.form import Form
from blur_sdk.settings import Settings

DETECTION_RULES = ("", "strict")
REGION_RULES = ("", "strict")
DETECTION_MODES = ("plate", "vehicle")


@dataclass(frozen=True)
class ReadRequest:
    """One plate-reader request, validated: engine options plus what shapes the answer."""

    options: PlateOptions
    region_strict: bool = False
    detection_rule: str = ""
    mmc: bool = False
    camera_id: str | None = None
    timestamp: str = ""


def parse_timestamp(text: str) -> str:
    """The request's ISO 8601 timestamp as given, or now in UTC; 400 if it is not ISO 8601."""
    if not text:
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")
    try:
        datetime.fromisoformat(text)
    except ValueError as e:
        raise InputError(
            f"timestamp: {text[:40]!r} is not an ISO 8601 date-time (e.g. 2024-05-01T12:30:00Z)",
            "timestamp",
        ) from e
    return text


def parse_request(form: Form, settings: Settings) -> ReadRequest:
    """Validate regions, camera_id, timestamp, mmc and config into a ReadRequest."""
    codes = region_table.validate_codes(form.texts("regions"))
    config = form.json_object("config")
    typed = plate_config(config, settings.max_repeated_fields)
    choice(config, "detection_mode", DETECTION_MODES, "plate")
    options = PlateOptions(
        mode=typed["mode"],
        threshold_d=typed["threshold_d"],
        threshold_o=typed["threshold_o"],
        text_formats=typed["text_formats"],
        regions=codes,
    )
    return ReadRequest(
        options=options,
        region_strict=choice(config, "region", REGION_RULES, "") == "strict",
        detection_rule=choice(config, "detection_rule", DETECTION_RULES, ""),
        mmc=form.boolean("mmc", False),
        camera_id=form.text("camera_id") or None,
        timestamp=parse_timestamp(form.text("timestamp")),
    )


def tidy(plate: PlateDetection) -> PlateDetection:
    """The reading as plate characters only (separators out), candidates de-duplicated."""
    ranked: dict[str, float] = {}
    for text, score in plate.candidates:
        cleaned = plate_text.clean(text)
        if cleaned and cleaned not in ranked:
            ranked[cleaned] = score
    return dataclasses.replace(
        plate, text=plate_text.clean(plate.text), candidates=tuple(ranked.items())
    )


def snapshot_results(
    plates: Sequence[PlateDetection], request: ReadRequest
) -> list[dict[str, Any]]:
    """Snapshot `results` entries, best detection first, region rules applied."""
    codes = request.options.regions
    strict_formats = region_table.region_formats(codes) if request.region_strict else ()
    out = []
    for plate in sorted((tidy(p) for p in plates), key=lambda p: -p.dscore):
        if plate.raw is None and not plate.text:
            continue
        if strict_formats and not region_table.matches(plate.text, strict_formats):
            continue
        out.append(to_snapshot_result(plate, region_table.best_region(plate.text, codes)))
    return out
