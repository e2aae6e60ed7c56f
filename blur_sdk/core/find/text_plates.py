"""Plates found from their text: PP-OCR lines, filters, row/two-row grouping, plate prior."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find import register
from blur_sdk.core.find.base import PlateDetection, PlateFinder, PlateOptions, RGBImage
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.find.plate_lines import (
    TEXT_LINE_RATIO,
    TextLine,
    band_width,
    group_lines,
    line_geometry,
    reading_order,
    registration_lines,
    subordinate,
)
from blur_sdk.core.geometry import as_quad, box_of, expand_quad, order_quad
from blur_sdk.core.models.platerec import read_plates
from blur_sdk.core.models.ppocr import (
    DET_MAX_SIDE,
    TextBox,
    crop_quad,
    detect_text,
    load_charset,
    recognise,
)
from blur_sdk.core.models.runner import OpenVinoRunner, model_runners
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.extent import extend_to_plate
from blur_sdk.core.plates.regions import KNOWN_FORMATS, matches, region_formats

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
CROP_TEXT_PX = 160  # a plate read on its own is warped to this height (its text ~40-70 px)
CROP_MAX_SIDE = 640  # and detected at this longest side at most
CROP_PAD = 0.2  # of its height, on every side, so that text at its edges is detected
READ_MARGIN = (0.15, 0.05)  # a detector's box is grown by this (x, y) before it is read
PROMOTE_SCORE = 0.7  # a reading of a weak detector hit that makes it a plate (see promote)
__all__ = ["TEXT_LINE_RATIO", "TextLine", "group_lines", "reading_order", "registration_lines"]


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


def upright(image: RGBImage, quad: npt.NDArray[np.float64]) -> RGBImage:
    """The quad's content warped upright at its own size."""
    w, h, _ = line_geometry(quad)
    size = (max(8, round(w)), max(8, round(h)))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(cv2.warpPerspective(image, matrix, size), np.uint8)


def fits_format(text: str, formats: tuple[str, ...]) -> bool:
    """Whether a reading fits the request's formats, or any region's without them."""
    return matches(text, formats or KNOWN_FORMATS)


def ranking_formats(options: PlateOptions) -> tuple[str, ...]:
    """The request's text formats, then those of its region hints: matching readings rank first."""
    return tuple(dict.fromkeys(options.text_formats + region_formats(options.regions)))


class OcrPlateDetector(PlateFinder):
    """Plates located through their text with PP-OCRv4 det + rec (Apache-2.0) on OpenVINO."""

    name = "ocr"

    def __init__(
        self,
        det: OpenVinoRunner,
        rec: OpenVinoRunner,
        max_side: int = DET_MAX_SIDE,
        plate_rec: OpenVinoRunner | None = None,
    ) -> None:
        self.det = det
        self.rec = rec
        self.max_side = max_side  # text detection input's longest side
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
            # a character cut off? read it whole: only where the request names formats (a region
            # hint), since a second detection costs ~200 ms and helped no unhinted figure
            if formats and not fits_format(ranked[0][0], formats):
                again = self.read_crop(upright(image, quad), options)
                if again and fits_format(again[0][0], formats):
                    ranked = again
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

    def second_opinion(
        self,
        image: RGBImage,
        quads: list[npt.NDArray[np.float64]],
        rankings: list[list[tuple[str, float]]],
        formats: tuple[str, ...],
    ) -> list[list[tuple[str, float]]]:
        """PP-OCR's rankings of these plates (quads in the image), where their best reading
        fits no plate format, merged with our plate recogniser's readings of them, warped
        upright (best calibrated candidate first). A reading that fits a format, or a Chinese
        one, stays PP-OCR's (merging every plate's candidates read 1-2 points worse on the
        crop sets' service path); only the others are warped and read."""
        unsettled = [
            i
            for i, ranking in enumerate(rankings)
            if not ranking
            or not (plate_text.has_cjk(ranking[0][0]) or fits_format(ranking[0][0], formats))
        ]
        if self.plate_rec is None or not unsettled:
            return rankings
        out = list(rankings)
        readings = read_plates(self.plate_rec, [upright(image, quads[i]) for i in unsettled])
        for i, reading in zip(unsettled, readings, strict=True):
            ours = [
                (t, s)
                for t, s in plate_text.candidates(reading.chars, formats)
                if plate_text.plausible(t)
            ]
            out[i] = plate_text.merged([rankings[i], ours], formats)
        return out

    def _lines(self, image: RGBImage, boxes: list[TextBox], min_o: float) -> list[TextLine]:
        """The boxes read (a country band at a line's left cut off first), weak readings out."""
        crops = [crop_quad(image, b.quad) for b in boxes]
        crops = [c[:, band_width(c) :] if c.shape[1] > 24 else c for c in crops]
        lines = []
        for box, reading in zip(boxes, recognise(self.rec, crops, self.charset), strict=True):
            if reading.score < min_o or not plate_text.clean(reading.text):
                continue
            w, h, _ = line_geometry(box.quad)
            lines.append(TextLine(box.quad, box.score, reading, w, h, box.quad.mean(axis=0)))
        return lines

    def read_crop(self, crop: RGBImage, options: PlateOptions) -> list[tuple[str, float]]:
        """The readings of one plate (an RGB crop of it), best first: its text lines found
        inside it, the registration line(s) read; the crop as one line when none is found."""
        h, w = crop.shape[:2]
        scale = CROP_TEXT_PX / max(h, 1)
        pad = round(CROP_PAD * CROP_TEXT_PX)
        grown = cv2.resize(crop, (max(8, round(w * scale)), CROP_TEXT_PX))
        grown = cv2.copyMakeBorder(grown, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        lo, hi = np.percentile(grown.mean(axis=2), (2, 98))
        if hi - lo > 8:  # low-contrast (night, infra-red) plates stretched
            grown = np.clip((grown.astype(np.float32) - lo) * 255 / (hi - lo), 0, 255)
        big: RGBImage = np.asarray(grown, np.uint8)
        boxes = [  # (any size: inside a plate, text may fill most of it)
            b
            for b in detect_text(self.det, big, 0.3, CROP_MAX_SIDE)
            if keep_geometry(b, round(big.shape[0] / MAX_TEXT_FRACTION))
        ]
        groups = group_lines(self._lines(big, boxes, 0.3))
        formats = ranking_formats(options)
        ranked: list[tuple[str, float]] = []
        if groups:
            main = max(groups, key=lambda g: sum(ln.width * ln.height for ln in g))
            chars = tuple(c for ln in registration_lines(main) for c in ln.reading.chars)
            ranked = plate_text.candidates(chars, formats)
        whole = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        if not ranked or not plate_text.plausible(ranked[0][0]):
            reading = recognise(self.rec, [crop_quad(crop, whole)], self.charset)[0]
            ranked = plate_text.candidates(reading.chars, formats)
        return self.second_opinion(crop, [whole], [ranked], formats)[0]

    def promote(
        self, image: RGBImage, plates: list[PlateDetection], formats: tuple[str, ...]
    ) -> list[PlateDetection]:
        """Weak detector hits (evidence_only) read as plates (PP-OCR on the hit as one line,
        merged with our recogniser's reading: a format fits, score >= PROMOTE_SCORE) made
        plates; the others left as they are."""
        weak = [i for i, p in enumerate(plates) if p.evidence_only]
        if not weak:
            return list(plates)
        grown = [expand_quad(np.array(plates[i].polygon, np.float64), *READ_MARGIN) for i in weak]
        lines = recognise(self.rec, [crop_quad(image, q) for q in grown], self.charset)
        rankings = [plate_text.candidates(line.chars, formats) for line in lines]
        rankings = self.second_opinion(image, grown, rankings, formats)
        out = list(plates)
        for i, ranked in zip(weak, rankings, strict=True):
            if (
                ranked
                and plate_text.plausible(ranked[0][0])
                and ranked[0][1] >= PROMOTE_SCORE
                and fits_format(ranked[0][0], formats)
            ):
                out[i] = dataclasses.replace(
                    plates[i], text=ranked[0][0], oscore=ranked[0][1], candidates=tuple(ranked),
                    evidence_only=False,
                )  # fmt: skip
        return out

    def complete(
        self, image: RGBImage, plates: list[PlateDetection], options: PlateOptions
    ) -> list[PlateDetection]:
        """Plates other sources found and no text line reads: read on their own (two rows,
        city lines and bands handled as in text-found plates); weak detector hits become plates
        where their reading fits a plate format (promote)."""
        out = self.promote(image, plates, ranking_formats(options))
        for i, plate in enumerate(out):
            if plate.text or plate.evidence_only:
                continue
            quad = expand_quad(np.array(plate.polygon, np.float64), *READ_MARGIN)
            ranked = self.read_crop(upright(image, quad), options)
            if ranked and plate_text.plausible(ranked[0][0]):
                out[i] = dataclasses.replace(
                    plate, text=ranked[0][0], oscore=ranked[0][1], candidates=tuple(ranked)
                )
        return out


@register("plate", "ocr")
def create_ocr_plates(config: FinderConfig) -> OcrPlateDetector:
    """Build the detector from the verified PP-OCRv4 det and rec files (and our plate
    recogniser's, unless PLATE_READER is ppocr)."""
    det, rec = model_runners(config.runner, "ppocr_det", "ppocr_rec")
    plate_rec = None
    if config.plate_reader != "ppocr":
        (plate_rec,) = model_runners(config.runner, "platerec")
    return OcrPlateDetector(det, rec, max_side=config.plate_max_resolution, plate_rec=plate_rec)
