"""Plates found from their text: PP-OCR lines, filters, row/two-row grouping, plate prior."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find import register
from blur_sdk.core.find.base import PlateDetection, PlateFinder, PlateOptions, RGBImage
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.geometry import as_quad, box_of, expand_quad, order_quad
from blur_sdk.core.models.ppocr import (
    DET_MAX_SIDE,
    TextBox,
    TextReading,
    crop_quad,
    detect_text,
    load_charset,
    recognise,
)
from blur_sdk.core.models.runner import OpenVinoRunner, model_runners
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.extent import extend_to_plate
from blur_sdk.core.plates.regions import region_formats

# (detection score, OCR score) floors per Snapshot mode; threshold_d / threshold_o override.
MODE_THRESHOLDS = {"redaction": (0.4, 0.5), "fast": (0.5, 0.6)}
MIN_TEXT_PX = 6
MAX_TEXT_FRACTION = 0.35
MAX_ASPECT = 14.0
MAX_ANGLE = 40.0
# Plate prior, in text heights: the plate's border lies around its text. The blurred region
# adds PLATE_MARGIN on top (see README figures for how both were tuned on openlpr_val).
PAD_SIDES = 0.25
PAD_TOP_BOTTOM = 0.3
TEXT_LINE_RATIO = 0.6  # lines shorter than this x the group's tallest are not plate text


@dataclass
class TextLine:
    """One recognised text line with its geometry."""

    quad: npt.NDArray[np.float64]
    dscore: float
    reading: TextReading
    width: float
    height: float
    centre: npt.NDArray[np.float64]


def line_geometry(quad: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(width, height, angle in degrees) of a TL, TR, BR, BL quad."""
    tl, tr, br, bl = quad
    width = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    angle = math.degrees(math.atan2(tr[1] - tl[1], tr[0] - tl[0]))
    return width, height, angle


def keep_geometry(box: TextBox, image_height: int) -> bool:
    """Text that could be a plate's: big enough, not huge, not too long, not too tilted."""
    width, height, angle = line_geometry(box.quad)
    return (
        height >= MIN_TEXT_PX
        and height <= MAX_TEXT_FRACTION * image_height
        and width >= 0.8 * height
        and width / max(height, 1e-6) <= MAX_ASPECT
        and abs(angle) <= MAX_ANGLE
    )


def _belong_together(a: TextLine, b: TextLine) -> bool:
    ratio = a.height / b.height
    dy = abs(a.centre[1] - b.centre[1])
    ha, hb = box_of(a.quad), box_of(b.quad)
    gap_x = max(ha[0], hb[0]) - min(ha[2], hb[2])
    same_row = dy < 0.5 * max(a.height, b.height) and 0.6 < ratio < 1.6
    if same_row and gap_x < 1.0 * max(a.height, b.height):
        return True
    overlap_x = -gap_x / max(1e-6, min(ha[2] - ha[0], hb[2] - hb[0]))
    gap_y = max(ha[1], hb[1]) - min(ha[3], hb[3])
    return overlap_x > 0.5 and gap_y < 0.6 * max(a.height, b.height) and 0.4 < ratio < 2.5


def group_lines(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines on one row, or stacked as a two-row plate, grouped (union-find)."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _belong_together(lines[i], lines[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[TextLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(root(i), []).append(line)
    return [reading_order(g) for g in groups.values()]


def reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Lines sorted top row first, left to right within a row."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: ln.centre[1]):
        if rows and abs(line.centre[1] - rows[-1][0].centre[1]) < 0.5 * line.height:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.centre[0])]


def registration_lines(group: list[TextLine]) -> list[TextLine]:
    """The lines that carry the registration: small lines (city names, dealers) are dropped and,
    while the text is too long for a plate, so are lines without digits, smallest first, then
    the smallest lines (a watermark under a two-row plate leaves both rows)."""
    main_height = max(ln.height for ln in group)
    lines = [ln for ln in group if ln.height >= TEXT_LINE_RATIO * main_height]
    while len(_text(lines)) > plate_text.MAX_CHARS and len(lines) > 1:
        weakest = min(  # (on a tie the later line goes: the first of the tallest stays)
            range(len(lines)), key=lambda i: (_has_digit(lines[i]), lines[i].height, -i)
        )
        del lines[weakest]
    return lines


def _has_digit(line: TextLine) -> bool:
    return any(ch.isdigit() for ch in line.reading.text)


def _text(lines: list[TextLine]) -> str:
    return "".join(plate_text.clean(ln.reading.text) for ln in lines)


def plate_quad(group: list[TextLine], image: RGBImage | None = None) -> npt.NDArray[np.float64]:
    """The plate prior: the group's text quad grown over the plate's further characters (one
    row, when the image is given), then padded by a fraction of the text height."""
    if len(group) == 1:
        quad = group[0].quad
    else:
        points = np.concatenate([ln.quad for ln in group]).astype(np.float32)
        quad = order_quad(cv2.boxPoints(cv2.minAreaRect(points)))
    text_h = float(np.mean([ln.height for ln in group]))
    one_row = np.ptp([ln.centre[1] for ln in group]) < 0.5 * text_h
    if image is not None and one_row:  # (a two-row plate's rows already span it)
        quad = extend_to_plate(image, quad, text_h)
    width, height, _ = line_geometry(quad)
    return expand_quad(
        quad, PAD_SIDES * text_h / max(width, 1e-6), PAD_TOP_BOTTOM * text_h / max(height, 1e-6)
    )


def ranking_formats(options: PlateOptions) -> tuple[str, ...]:
    """The request's text formats, then those of its region hints: matching readings rank first."""
    return tuple(dict.fromkeys(options.text_formats + region_formats(options.regions)))


class OcrPlateDetector(PlateFinder):
    """Plates located through their text with PP-OCRv4 det + rec (Apache-2.0) on OpenVINO."""

    name = "ocr"

    def __init__(
        self, det: OpenVinoRunner, rec: OpenVinoRunner, max_side: int = DET_MAX_SIDE
    ) -> None:
        self.det = det
        self.rec = rec
        self.max_side = max_side  # text detection input's longest side
        self.charset = load_charset(rec)

    def warm_up(self) -> None:
        """Compile the recogniser for the batch shapes most images need."""
        for width in (120, 200):  # the 160 and 320 px buckets: most plates' text lines
            for count in (1, 2, 4):
                crops = [np.zeros((48, width, 3), np.uint8)] * count
                recognise(self.rec, crops, self.charset)

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        """Plates in an RGB image: quad, box, reading, scores and candidates."""
        height, width = image.shape[:2]
        min_d, min_o = MODE_THRESHOLDS.get(options.mode, MODE_THRESHOLDS["redaction"])
        min_d = options.threshold_d if options.threshold_d is not None else min_d
        min_o = options.threshold_o if options.threshold_o is not None else min_o
        formats = ranking_formats(options)
        boxes = [
            b
            for b in detect_text(self.det, image, min_d, self.max_side)
            if keep_geometry(b, height)
        ]
        readings = recognise(self.rec, [crop_quad(image, b.quad) for b in boxes], self.charset)
        lines = []
        for box, reading in zip(boxes, readings, strict=True):
            if reading.score < min_o or not plate_text.clean(reading.text):
                continue
            w, h, _ = line_geometry(box.quad)
            lines.append(TextLine(box.quad, box.score, reading, w, h, box.quad.mean(axis=0)))
        plates = []
        for group in group_lines(lines):
            chars = tuple(c for ln in registration_lines(group) for c in ln.reading.chars)
            ranked = plate_text.candidates(chars, formats)
            if not ranked or not plate_text.plausible(ranked[0][0]):
                continue
            quad = plate_quad(group, image)
            plates.append(
                PlateDetection(
                    polygon=as_quad(quad),
                    box=box_of(quad, width, height),
                    text=ranked[0][0],
                    dscore=round(min(ln.dscore for ln in group), 3),
                    oscore=round(float(np.mean([ln.reading.score for ln in group])), 3),
                    candidates=tuple(ranked),
                    source=self.name,
                )
            )
        return plates


@register("plate", "ocr")
def create_ocr_plates(config: FinderConfig) -> OcrPlateDetector:
    """Build the detector from the verified PP-OCRv4 det and rec files."""
    det, rec = model_runners(config.runner, "ppocr_det", "ppocr_rec")
    return OcrPlateDetector(det, rec, max_side=config.plate_max_resolution)
