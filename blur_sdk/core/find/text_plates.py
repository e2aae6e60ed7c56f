"""Plates found from their text: PP-OCR lines, filters, row/two-row grouping, plate prior."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find import register
from blur_sdk.core.find.base import PlateDetection, PlateFinder, PlateOptions, RGBImage
from blur_sdk.core.find.config import FAINT_SIDE, FinderConfig
from blur_sdk.core.find.faint_text import faint_text
from blur_sdk.core.find.plate_lines import (
    MAX_ANGLE,
    MAX_ASPECT,
    MAX_TEXT_FRACTION,
    MIN_TEXT_PX,
    TEXT_LINE_RATIO,
    TextLine,
    group_lines,
    keep_geometry,
    line_geometry,
    reading_order,
    registration_lines,
    subordinate,
)
from blur_sdk.core.find.plate_rereads import (
    ROW_ABOVE,
    PlateRereads,
    ranking_formats,
    upright,
)
from blur_sdk.core.geometry import as_quad, box_of, expand_quad, order_quad
from blur_sdk.core.models.manifest_runners import model_runners
from blur_sdk.core.models.platerec import read_plates
from blur_sdk.core.models.ppocr import (
    DET_MAX_SIDE,
    FRAME_MIN_SIDE,
    detect_text,
    load_charset,
    recognise,
)
from blur_sdk.core.models.runner import OpenVinoRunner
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.extent import (
    Extension,
    Points,
    extend_quad,
    extend_to_plate,
    glyphs_above,
)
from blur_sdk.core.plates.regions import fits_format, matches, region_formats

# (detection score, OCR score) floors per Snapshot mode; threshold_d / threshold_o override.
MODE_THRESHOLDS = {"redaction": (0.4, 0.5), "fast": (0.5, 0.6)}
# Plate prior, in text heights: the plate's border lies around its text. The blurred region
# adds PLATE_MARGIN on top (see README figures for how both were tuned on openlpr_val).
SHORT_LINE = 6  # without a hint, a one-line reading this short is read again wider: most
# registrations have 7 or more characters, and one with its first or last left out reads 6
PAD_SIDES = 0.25
PAD_TOP_BOTTOM = 0.3
CHINESE = region_formats(("cn",))  # a province character, then the registration
# a Chinese plate's first character (a crest read as a CJK character is none of these)
PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
__all__ = [
    "MAX_ANGLE",
    "MAX_ASPECT",
    "MAX_TEXT_FRACTION",
    "MIN_TEXT_PX",
    "TEXT_LINE_RATIO",
    "TextLine",
    "fits_format",
    "group_lines",
    "keep_geometry",
    "ranking_formats",
    "reading_order",
    "registration_lines",
    "upright",
]


def text_quad(group: list[TextLine]) -> npt.NDArray[np.float64]:
    """The quad around a group's text lines."""
    if len(group) == 1:
        return group[0].quad
    points = np.concatenate([ln.quad for ln in group]).astype(np.float32)
    return order_quad(cv2.boxPoints(cv2.minAreaRect(points)))


def one_row(group: list[TextLine]) -> bool:
    """Whether a group's lines stand in one row."""
    return bool(np.ptp([ln.centre[1] for ln in group]) < 0.5 * min(ln.height for ln in group))


def with_top_row(
    ranked: list[tuple[str, float]],
    again: list[tuple[str, float]],
    formats: tuple[str, ...],
    row_text: str,
) -> list[tuple[str, float]]:
    """A one-row plate's readings (ranked; row_text: its line's cleaned text), or those of the
    plate read with its top row (again, read_crop), whichever is whole: the second where it
    fits a format and is the row's text with characters added before it, or where the first
    fits none (both merged); else the first."""
    if not again or not fits_format(again[0][0], formats):
        return ranked
    if not ranked or not fits_format(ranked[0][0], formats):
        return plate_text.merged([ranked, again], formats)
    if len(again[0][0]) > len(row_text) and again[0][0].endswith(row_text):
        return plate_text.ahead(again, ranked)
    return ranked


def with_end_characters(
    ranked: list[tuple[str, float]], wider: list[tuple[str, float]], line_text: str
) -> list[tuple[str, float]]:
    """A one-line plate's readings, or those of its line read wider (wider_readings) where
    that reading fits a plate format and is the line's text with characters added at its
    ends (a faint first or last character text detection left out: BG8328 -> ABG8328)."""
    if not wider or not ranked or not fits_format(wider[0][0], ()):
        return ranked
    text = wider[0][0]
    cjk_added = plate_text.has_cjk(text) and not plate_text.has_cjk(line_text)  # (a frame: 皖)
    if len(text) > len(line_text) and line_text in text and not cjk_added:
        return plate_text.ahead(wider, ranked)
    return ranked


def plate_quad(group: list[TextLine], image: RGBImage | None = None) -> npt.NDArray[np.float64]:
    """The plate prior: the group's text quad grown over the plate's further characters (one
    row, when the image is given), then padded by a fraction of the text height."""
    quad = text_quad(group)
    text_h = float(np.mean([ln.height for ln in group]))
    if image is not None and one_row(group):  # (a two-row plate's rows already span it)
        quad = extend_to_plate(image, quad, text_h)
    width, height, _ = line_geometry(quad)
    return expand_quad(
        quad, PAD_SIDES * text_h / max(width, 1e-6), PAD_TOP_BOTTOM * text_h / max(height, 1e-6)
    )


class OcrPlateDetector(PlateRereads, PlateFinder):
    """Plates located through their text with PP-OCRv4 det + rec (Apache-2.0) on OpenVINO."""

    name = "ocr"

    def __init__(
        self,
        det: OpenVinoRunner,
        rec: OpenVinoRunner,
        *,
        max_side: int = DET_MAX_SIDE,
        plate_rec: OpenVinoRunner | None = None,
        min_side: int = FRAME_MIN_SIDE,
        faint_side: int = FAINT_SIDE,
    ) -> None:
        self.det = det
        self.rec = rec
        self.max_side = max_side  # text detection input's longest side
        self.min_side = min_side  # a smaller frame's short side is upscaled to this
        self.faint_side = faint_side  # the equalised copy's long side for faint text (0: none)
        self.charset = load_charset(rec)
        self.plate_rec = plate_rec  # our whole-plate recogniser: a second reading of each plate

    def warm_up(self) -> None:
        """Compile the recogniser for the batch shapes most images need."""
        for width in (120, 200):  # the 160 and 320 px buckets: most plates' text lines
            for count in (1, 2, 4):
                crops = [np.zeros((48, width, 3), np.uint8)] * count
                recognise(self.rec, crops, self.charset)
        if self.plate_rec is not None:  # our recogniser's batches
            for count in (1, 2, 4):
                read_plates(self.plate_rec, [np.zeros((48, 96, 3), np.uint8)] * count)

    @staticmethod
    def with_row_above(quad: Points, group: list[TextLine]) -> Points:
        """A one-row plate's quad grown upwards by a text row (a two-row plate whose top row
        text detection missed: read_crop then finds it), else the quad."""
        if not one_row(group):
            return quad
        height = float(np.mean([ln.height for ln in group]))
        return extend_quad(quad, Extension(top=ROW_ABOVE * height))

    def read_whole(
        self,
        image: RGBImage,
        group: list[TextLine],
        quad: Points,
        ranked: list[tuple[str, float]],
        options: PlateOptions,
    ) -> list[tuple[str, float]]:
        """A text-found plate's readings, read again where its text lines may miss part of it:
        a two-row plate's top row (character-like glyphs stand above its one row: "KI" over
        "361DH"); without a region hint, a short one-line plate's faint first or last
        character (its line read wider: one recognition, ~7 ms), a line that starts with a
        Chinese province character but reads as no Chinese plate, and a two-row plate (on its
        own); with a hint, also a reading that fits none of its formats (read wider, then on
        its own). Reading the plate on its own (read_crop) costs a text detection and
        recognitions, 30-70 ms."""
        formats = ranking_formats(options)
        rows = registration_lines(group)  # (a city line above one row is not a second row)
        top_row = one_row(rows) and glyphs_above(image, text_quad(rows), rows[0].height) > 0
        if top_row:
            again = self.read_crop(upright(image, self.with_row_above(quad, group)), options)
            row_text = "".join(plate_text.clean(ln.reading.text) for ln in rows)
            return with_top_row(ranked, again, formats, row_text)
        if not one_row(rows):  # two rows: read on its own too (larger), the better reading
            # wins; unhinted too (eu_crops_dev through the service, seeds 7-9: 0.855 -> 0.876
            # without a hint; an older read_crop had not helped there)
            again = self.read_crop(upright(image, quad), options)
            return plate_text.merged([ranked, again], formats) if again else ranked
        line_text = plate_text.clean(group[0].reading.text)
        if not formats and line_text[:1] in PROVINCES and not matches(ranked[0][0], CHINESE):
            # a Chinese plate's line missing a character (皖A999J3 read 皖A9993): on its own
            again = self.read_crop(upright(image, quad), options)
            return again if again and matches(again[0][0], CHINESE) else ranked
        if not formats and len(group) == 1 and len(line_text) <= SHORT_LINE:
            wider = self.wider_readings(image, group[0], formats)
            return with_end_characters(ranked, wider, line_text)
        if not formats or fits_format(ranked[0][0], formats):
            return ranked
        if len(group) == 1:
            ranked = self.reread_wider(image, group[0], ranked, formats)
            if fits_format(ranked[0][0], formats):
                return ranked
        again = self.read_crop(upright(image, self.with_row_above(quad, group)), options)
        return again if again and fits_format(again[0][0], formats) else ranked

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        """Plates in an RGB image: quad, box, reading, scores and candidates."""
        height, width = image.shape[:2]
        min_d, min_o = MODE_THRESHOLDS.get(options.mode, MODE_THRESHOLDS["redaction"])
        min_d = options.threshold_d if options.threshold_d is not None else min_d
        min_o = options.threshold_o if options.threshold_o is not None else min_o
        formats = ranking_formats(options)
        found = detect_text(self.det, image, min_d, self.max_side, min_side=self.min_side)
        if self.faint_side and options.mode != "fast":  # (Snapshot's mode=fast: speed first)
            found += faint_text(self.det, image, min_d, self.faint_side, found)
        boxes = [b for b in found if keep_geometry(b, height)]
        lines = self._lines(image, boxes, min_o)
        groups = group_lines(lines)
        plates = []
        for group in groups:
            if len(groups) > 1 and subordinate(group, groups):
                continue
            chars = tuple(c for ln in registration_lines(group) for c in ln.reading.chars)
            ranked = plate_text.candidates(chars, formats)
            if not ranked or not plate_text.plausible(ranked[0][0]):
                continue
            quad = plate_quad(group, image)
            ranked = self.read_whole(image, group, quad, ranked, options)
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
        quads = [np.array(p.polygon, np.float64) for p in plates]
        rankings = self.second_opinion(image, quads, [list(p.candidates) for p in plates], formats)
        return [
            dataclasses.replace(p, text=r[0][0], candidates=tuple(r)) if r else p
            for p, r in zip(plates, rankings, strict=True)
        ]


@register("plate", "ocr")
def create_ocr_plates(config: FinderConfig) -> OcrPlateDetector:
    """Build the detector from the verified PP-OCRv4 det and rec files (and our plate
    recogniser's, unless PLATE_READER is ppocr)."""
    det, rec = model_runners(config.runner, "ppocr_det", "ppocr_rec")
    plate_rec = None
    if config.plate_reader != "ppocr":
        (plate_rec,) = model_runners(config.runner, "platerec")
    return OcrPlateDetector(
        det,
        rec,
        max_side=config.plate_max_resolution,
        plate_rec=plate_rec,
        min_side=config.plate_min_resolution,
        faint_side=config.plate_faint_resolution,
    )
