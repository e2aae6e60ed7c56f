"""One text-watermark request's work: find and select text blocks (or take the rectangles),
apply the offset, fill their strokes, draw them when asked; the outcome, image not yet stored."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from blur_sdk.apis.textmark.matching import selected
from blur_sdk.apis.textmark.request import Params, Rect
from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.image.encode import encode_image, output_format
from blur_sdk.core.pipeline import deadline_checker
from blur_sdk.core.redact.inpaint import inpaint
from blur_sdk.core.watermark.blocks import TextBlock, text_blocks
from blur_sdk.core.watermark.finder import WatermarkOptions
from blur_sdk.core.watermark.removal import WatermarkSource
from blur_sdk.core.watermark.strokes import stroke_mask
from blur_sdk.errors import InputError

SUCCESS, ACCEPTED, NOT_PROCESSED, NOTHING_FOUND = 0, 52000, 52001, 52002
TIMED_OUT, SERVER_ERROR, OFFSET_IGNORED, OCR_ONLY = 52003, 52004, 52005, 52006
MESSAGES = {
    SUCCESS: "success",
    ACCEPTED: "accepted: the result will be posted to the callback",
    NOT_PROCESSED: "not processed",
    NOTHING_FOUND: "no text watermark found, and none given",
    TIMED_OUT: "processing timed out",
    SERVER_ERROR: "server error",
    OFFSET_IGNORED: "offset ignored for rectangles it would push outside the image",
    OCR_ONLY: "text blocks found and reported (ocrOnly): the image is unchanged",
}
FINDING = WatermarkOptions(read=True, logos=False)
GREEN = (0, 255, 0)


@dataclass
class Outcome:
    """What was processed: the status, the processed blocks, the output image (if any)."""

    status: int
    locations: list[dict[str, Any]] = field(default_factory=list)
    image: bytes | None = None
    ext: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """processMsg."""
        return MESSAGES[self.status]


def _location(rect: Rect, block: TextBlock | None) -> dict[str, Any]:
    x, y, w, h = rect
    return {"x": x, "y": y, "w": w, "h": h, "lineCount": len(block.lines) if block else 0,
            "word": block.word if block else ""}  # fmt: skip


def _quad(rect: Rect) -> np.ndarray:
    x, y, w, h = rect
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def shifted(rect: Rect, offset: Rect | None, width: int, height: int) -> Rect | None:
    """The rectangle moved by the offset; None when that leaves the image (or is empty)."""
    if offset is None:
        return rect
    x, y, w, h = (a + b for a, b in zip(rect, offset, strict=True))
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
        return None
    return x, y, w, h


def process(
    finder: WatermarkSource | None,
    data: bytes,
    params: Params,
    *,
    limits: ImageLimits,
    method: str,
    timeout: float | None,
    jpeg_quality: int = 95,
) -> Outcome:
    """Run one request; InputError for rectangles outside the image."""
    started = time.perf_counter()
    check = deadline_checker(timeout, started)
    decoded = decode_image(data, limits)
    rgb, width, height = decoded.rgb, decoded.width, decoded.height
    status = SUCCESS
    if params.rectangles:
        for i, (x, y, w, h) in enumerate(params.rectangles):
            if x + w > width or y + h > height:
                raise InputError(f"rectangles[{i}]: outside the {width}x{height} image",
                                 "rectangles")  # fmt: skip
        rects = list(params.rectangles)
        mask = np.zeros((height, width), np.uint8)
        for x, y, w, h in rects:
            mask[y : y + h, x : x + w] = 255
        locations = [_location(r, None) for r in rects]
    else:
        if finder is None:
            raise ValueError("text blocks need a WatermarkFinder")
        finding = finder.find(rgb, FINDING)
        check("text detection")
        blocks = text_blocks(finding.texts, width, height)
        keep = selected([b.word for b in blocks], params.names, params.excluded)
        blocks = [b for b, k in zip(blocks, keep, strict=True) if k]
        if not blocks:
            return Outcome(NOTHING_FOUND, timings={"total_ms": _ms(started)})
        rects, locations = [], []
        quads: list[np.ndarray] = []
        for block in blocks:
            moved = shifted(block.rect, params.offset, width, height)
            if moved is None:
                status = OFFSET_IGNORED
                moved = block.rect
            rects.append(moved)
            locations.append(_location(moved, block))
            quads += [line.quad for line in block.lines] if moved == block.rect else [_quad(moved)]
        mask = stroke_mask(rgb, quads)
    if params.ocr_only:
        return Outcome(OCR_ONLY, locations, timings={"total_ms": _ms(started)})
    out = inpaint(rgb, mask, method) if mask.any() else rgb.copy()
    check("inpainting")
    if params.show:
        for x, y, w, h in rects:
            cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), GREEN, 2)
    fmt = output_format(decoded.format)
    image, _ = encode_image(decoded, out, quality=jpeg_quality, fmt=fmt)
    ext = "jpg" if fmt == "JPEG" else fmt.lower()
    return Outcome(status, locations, image, ext, {"total_ms": _ms(started)})


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
