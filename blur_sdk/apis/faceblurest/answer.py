"""FaceBlurest's answer: when, the faces found (boxes as fractions), the blurred photo."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from blur_sdk.apis.snapshot.results import int_box
from blur_sdk.core.pipeline import Result
from blur_sdk.core.regions import FACE

TAG_ID = "0f1e6d4c-5b8a-4f3e-9c2d-7a6b5e4d3c21"  # the one tag: faces
TAG_NAME = "Human Face"
MIN_PROBABILITY = 0.20  # fainter faces are blurred but not listed
DIGITS = 6


def created_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds and Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fraction(value: float, size: int) -> float:
    return round(min(max(value / size, 0.0), 1.0), DIGITS)


def predictions(result: Result) -> list[dict[str, Any]]:
    """The faces with probability >= 0.20; each box the blurred region (region.box, the box the
    Blur API answers), in whole pixels as Blur answers it, as fractions of the image size."""
    out = []
    for region in result.of_kind(FACE):
        if region.score < MIN_PROBABILITY:
            continue
        box = int_box(region.box)
        left, top = _fraction(box["xmin"], result.width), _fraction(box["ymin"], result.height)
        right, bottom = _fraction(box["xmax"], result.width), _fraction(box["ymax"], result.height)
        out.append(
            {
                "probability": round(region.score, DIGITS),
                "tagId": TAG_ID,
                "tagName": TAG_NAME,
                "boundingBox": {
                    "left": left,
                    "top": top,
                    "width": round(right - left, DIGITS),
                    "height": round(bottom - top, DIGITS),
                },
                "boundingBoxPhoto": "",
            }
        )
    return out


def faceblurest_answer(result: Result, created: str) -> dict[str, Any]:
    """The whole answer: created, predictions, final_photo (base64 of the blurred image)."""
    photo = base64.b64encode(result.image or b"").decode("ascii")
    return {"created": created, "predictions": predictions(result), "final_photo": photo}
