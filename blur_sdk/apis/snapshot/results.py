"""Plate Recognizer Snapshot's result format: write our detections in it, read others from it."""

from __future__ import annotations

from typing import Any

from blur_sdk.core.find.base import PlateDetection
from blur_sdk.core.geometry import as_quad, box_of

ZERO_BOX = {"xmin": 0, "ymin": 0, "xmax": 0, "ymax": 0}


def int_box(box: tuple[float, float, float, float]) -> dict[str, int]:
    """A box as Snapshot writes it: integer pixels."""
    x1, y1, x2, y2 = box
    return {"xmin": int(x1), "ymin": int(y1), "xmax": round(x2), "ymax": round(y2)}


def region_of(regions: tuple[str, ...]) -> dict[str, Any]:
    """The region guess: the first hint given (we have no region classifier), else unknown."""
    if regions:
        return {"code": regions[0].lower(), "score": 0.5}
    return {"code": "unknown", "score": 0.0}


def to_snapshot_result(plate: PlateDetection, regions: tuple[str, ...] = ()) -> dict[str, Any]:
    """One Snapshot `results` entry for a plate, plus our `polygon` extension."""
    if plate.raw is not None:
        return {**plate.raw, "polygon": [list(p) for p in plate.polygon]}
    return {
        "box": int_box(plate.box),
        "plate": plate.text.lower(),
        "region": region_of(regions),
        "score": round(plate.oscore, 3),
        "candidates": [{"score": round(s, 3), "plate": t.lower()} for t, s in plate.candidates],
        "dscore": round(plate.dscore, 3),
        "vehicle": {"score": 0, "type": "Unknown", "box": dict(ZERO_BOX)},
        "polygon": [[round(x, 1), round(y, 1)] for x, y in plate.polygon],
    }


def from_snapshot_result(result: dict[str, Any]) -> PlateDetection:
    """A PlateDetection from a Snapshot `results` entry (box-only results get the box's corners).

    Raises KeyError / TypeError / ValueError on a malformed entry; the caller maps them.
    """
    b = result["box"]
    box = (float(b["xmin"]), float(b["ymin"]), float(b["xmax"]), float(b["ymax"]))
    polygon = result.get("polygon")
    if polygon is not None:
        quad = as_quad(polygon)
    else:
        quad = as_quad([(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])])
    candidates = tuple((str(c["plate"]), float(c["score"])) for c in result.get("candidates") or [])
    return PlateDetection(
        polygon=quad,
        box=box_of(quad) if polygon is not None else box,
        text=str(result.get("plate", "")),
        dscore=float(result.get("dscore", result.get("score", 0.0)) or 0.0),
        oscore=float(result.get("score", 0.0) or 0.0),
        candidates=candidates,
        source="snapshot",
        raw={k: v for k, v in result.items() if k != "polygon"},
    )
