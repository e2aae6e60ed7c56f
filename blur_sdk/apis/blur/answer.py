"""The Blur API's answer: faces, plates (Snapshot results with polygons), the image or null."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath
from typing import Any

from blur_sdk.apis.snapshot.results import int_box, to_snapshot_result
from blur_sdk.core.find.base import PlateDetection
from blur_sdk.core.image.encode import EXTENSIONS
from blur_sdk.core.pipeline import Result
from blur_sdk.core.regions import FACE, PLATE


def output_filename(filename: str, fmt: str) -> str:
    """The upload's base name with the output format's extension."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem or "image"
    return f"{stem}.{EXTENSIONS.get(fmt, 'png')}"


def blur_response(result: Result, filename: str, regions: tuple[str, ...]) -> dict[str, Any]:
    """The Blur API answer for one pipeline result."""
    faces = [{"box": int_box(r.box), "score": round(r.score, 3)} for r in result.of_kind(FACE)]
    plates = []
    for region in result.of_kind(PLATE):
        plate = region.detection
        assert isinstance(plate, PlateDetection)
        snapshot = to_snapshot_result(plate, regions)
        snapshot["box"] = int_box(plate.box)  # also the united box of plates merged by split
        plates.append(
            {
                "polygon": [[round(x, 1), round(y, 1)] for x, y in plate.polygon],
                "result": snapshot,
                "skipped": region.skipped,
            }
        )
    blur = None
    if result.image is not None:
        blur = {
            "content_type": result.content_type,
            "filename": output_filename(filename, result.format),
            "base64": base64.b64encode(result.image).decode("ascii"),
        }
    return {"faces": faces, "plates": plates, "blur": blur}
