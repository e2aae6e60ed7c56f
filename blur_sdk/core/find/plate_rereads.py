"""Plates read again: a line wider, a plate on its own (read_crop), our recogniser's second
opinion, weak detector hits read as plates; mixed into the text-plate detector."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import PlateDetection, PlateOptions, RGBImage
from blur_sdk.core.find.plate_lines import (
    MAX_TEXT_FRACTION,
    TextLine,
    band_width,
    group_lines,
    keep_geometry,
    line_geometry,
    registration_lines,
    text_rows,
)
from blur_sdk.core.geometry import expand_quad
from blur_sdk.core.models.platerec import read_plates
from blur_sdk.core.models.ppocr import TextBox, TextReading, crop_quad, detect_text
from blur_sdk.core.models.runner import OpenVinoRunner
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.emblems import read_plate_lines
from blur_sdk.core.plates.extent import Extension, extend_quad, measure_extension
from blur_sdk.core.plates.regions import fits_format, region_formats

CROP_TEXT_PX = 160  # a plate read on its own is warped to this height (its text ~40-70 px)
CROP_MAX_SIDE = 640  # and detected at this longest side at most, on the dynamic-shape model (a
# plate crop's shape is seen about once: a static compile for it cost ~150-200 ms)
CROP_MIN_ASPECT = 0.5  # inside a plate, a row of one or two characters ("I", "KI") is text
CROP_PAD = 0.2  # of its height, on every side, so that text at its edges is detected
READ_MARGIN = (0.15, 0.05)  # a detector's box is grown by this (x, y) before it is read
WIDER_PAD = 0.4  # a line re-read wider: over the plate's glyphs beyond it, then this many text
# heights more on each side (a faint end character that the glyph search misses too)
ROW_ROOM = 0.6  # room above a plate's one text row, in its heights, that may hold a missed row
ROW_ABOVE = 1.2  # a missed top row is looked for this many row heights above (at most)
ROW_SCORE, MAX_ROW_CHARS = 0.6, 4  # such a top row's reading: its score and length
PROMOTE_SCORE = 0.7  # a reading of a weak detector hit that makes it a plate (see promote)
LIKE_SCORE = 0.45  # ... a lower one, where it looks like a registration (see promote)
WEAK_HIT_CHARS = 2  # our recogniser's reading of a weak hit, at least, for PP-OCR to read it


def upright(image: RGBImage, quad: npt.NDArray[np.float64]) -> RGBImage:
    """The quad's content warped upright at its own size."""
    w, h, _ = line_geometry(quad)
    size = (max(8, round(w)), max(8, round(h)))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(cv2.warpPerspective(image, matrix, size), np.uint8)


def ranking_formats(options: PlateOptions) -> tuple[str, ...]:
    """The request's text formats, then those of its region hints: matching readings rank first."""
    return tuple(dict.fromkeys(options.text_formats + region_formats(options.regions)))


class PlateRereads:
    """Reading found plates again (PP-OCR det/rec and our plate recogniser, set by the class
    that mixes this in)."""

    det: OpenVinoRunner
    rec: OpenVinoRunner
    charset: list[str]
    plate_rec: OpenVinoRunner | None

    def reread_wider(
        self,
        image: RGBImage,
        line: TextLine,
        ranked: list[tuple[str, float]],
        formats: tuple[str, ...],
    ) -> list[tuple[str, float]]:
        """A one-line plate whose reading fits no format, read again wider: over the plate's
        glyphs that text detection left out at the line's ends (extent.measure_extension) and
        WIDER_PAD more (a blurred or faint first or last character). Where that reading fits
        a format, the two readings' candidates merged; else the first kept."""
        again = self.wider_readings(image, line, formats)
        if not again or not fits_format(again[0][0], formats):
            return ranked
        return plate_text.merged([ranked, again], formats)

    def wider_readings(
        self, image: RGBImage, line: TextLine, formats: tuple[str, ...]
    ) -> list[tuple[str, float]]:
        """The readings of a text line widened over the plate's glyphs beyond it and
        WIDER_PAD text heights more on each side (one recognition)."""
        reach = measure_extension(image, line.quad, line.height)
        pad = WIDER_PAD * line.height
        wider = extend_quad(line.quad, Extension(reach.left + pad, reach.right + pad))
        reading = read_plate_lines(self.rec, [crop_quad(image, wider)], self.charset)[0]
        return plate_text.plausible_candidates(reading.chars, formats)

    def second_opinion(
        self,
        image: RGBImage,
        quads: list[npt.NDArray[np.float64]],
        rankings: list[list[tuple[str, float]]],
        formats: tuple[str, ...],
        made: list[TextReading] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """PP-OCR's rankings of these plates (quads in the image), where their best reading
        fits no plate format, merged with our plate recogniser's readings of them, warped
        upright (best calibrated candidate first; `made`: those readings, already made). A
        reading that fits a format, or a Chinese one, stays PP-OCR's (merging every plate's
        candidates read 1-2 points worse on the crop sets' service path); only the others are
        warped and read."""
        unsettled = [
            i
            for i, ranking in enumerate(rankings)
            if not ranking
            or not (plate_text.has_cjk(ranking[0][0]) or fits_format(ranking[0][0], formats))
        ]
        if self.plate_rec is None or not unsettled:
            return rankings
        out = list(rankings)
        if made is None:
            readings = read_plates(self.plate_rec, [upright(image, quads[i]) for i in unsettled])
        else:
            readings = [made[i] for i in unsettled]
        for i, reading in zip(unsettled, readings, strict=True):
            ours = plate_text.plausible_candidates(reading.chars, formats)
            out[i] = plate_text.merged([rankings[i], ours], formats)
        return out

    def _lines(self, image: RGBImage, boxes: list[TextBox], min_o: float) -> list[TextLine]:
        """The boxes read (a country band at a line's left cut off first), weak readings out."""
        crops = [crop_quad(image, b.quad) for b in boxes]
        crops = [c[:, band_width(c) :] if c.shape[1] > 24 else c for c in crops]
        lines = []
        for box, reading in zip(
            boxes, read_plate_lines(self.rec, crops, self.charset), strict=True
        ):
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
            for b in detect_text(self.det, big, 0.3, CROP_MAX_SIDE, dynamic=True)
            if keep_geometry(b, round(big.shape[0] / MAX_TEXT_FRACTION), CROP_MIN_ASPECT)
        ]
        groups = group_lines(self._lines(big, boxes, 0.3))
        formats = ranking_formats(options)
        ranked: list[tuple[str, float]] = []
        if groups:
            main = max(groups, key=lambda g: sum(ln.width * ln.height for ln in g))
            rows = registration_lines(main)
            chars = tuple(c for ln in rows for c in ln.reading.chars)
            ranked = plate_text.candidates(chars, formats)
            content = (pad, pad, big.shape[1] - pad, pad + CROP_TEXT_PX)
            ranked = self.rows_across(big, rows, content, ranked, formats)
        whole = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        if not ranked or not plate_text.plausible(ranked[0][0]):
            reading = read_plate_lines(self.rec, [crop_quad(crop, whole)], self.charset)[0]
            ranked = plate_text.candidates(reading.chars, formats)
        return self.second_opinion(crop, [whole], [ranked], formats)[0]

    def rows_across(
        self,
        big: RGBImage,
        rows: list[TextLine],
        content: tuple[float, float, float, float],
        ranked: list[tuple[str, float]],
        formats: tuple[str, ...],
    ) -> list[tuple[str, float]]:
        """A plate's text rows read again across the whole plate (content: its x1, y1, x2, y2
        in big), where text detection found only part of a row (a short top row beside a
        crest or band: "KA" of KA1403 found as "A"); a one-line reading with a row's room
        above it gets that strip read as its missing top row (1-4 characters), a one-line
        reading without it is left as it is. The wider reading wins where it fits a format
        and holds the first one with characters added at its ends; otherwise both readings'
        candidates are merged."""
        x1, y1, x2, _ = content
        spans = [
            (min(ln.quad[:, 1].min() for ln in row), max(ln.quad[:, 1].max() for ln in row))
            for row in text_rows(rows)
        ]
        quads = [
            np.array([[x1, top], [x2, top], [x2, bottom], [x1, bottom]], np.float64)
            for top, bottom in spans
        ]
        top, height = rows[0].quad[:, 1].min(), rows[0].height
        above = len(spans) == 1 and top - y1 >= ROW_ROOM * height
        if len(rows) == 1 and not above:
            return ranked  # one line, no room for a missed row: nothing to read again
        if above:
            up = max(y1 - 0.1 * height, top - ROW_ABOVE * height)
            quads.insert(0, np.array([[x1, up], [x2, up], [x2, top], [x1, top]], np.float64))
        crops = [crop_quad(big, q) for q in quads]
        crops = [c[:, band_width(c) :] if c.shape[1] > 24 else c for c in crops]
        readings = read_plate_lines(self.rec, crops, self.charset)
        if above and not (
            readings[0].score >= ROW_SCORE
            and 1 <= len(plate_text.clean(readings[0].text)) <= MAX_ROW_CHARS
        ):
            readings = readings[1:]
        chars = tuple(c for r in readings for c in r.chars)
        again = plate_text.plausible_candidates(chars, formats)
        if not again or not fits_format(again[0][0], formats):
            return ranked
        if ranked and len(ranked[0][0]) < len(again[0][0]) and ranked[0][0] in again[0][0]:
            return plate_text.ahead(again, ranked)
        return plate_text.merged([ranked, again], formats)

    def promote(
        self, image: RGBImage, plates: list[PlateDetection], formats: tuple[str, ...]
    ) -> list[PlateDetection]:
        """Weak detector hits (evidence_only) read as plates (PP-OCR on the hit as one line,
        merged with our recogniser's reading: any region's format fits, score >=
        PROMOTE_SCORE; or, scoring LIKE_SCORE or more, it looks like a registration: 5-8
        characters, two or more of them digits, a Latin letter: plates/text.py REGISTRATION_LIKE)
        made plates, whatever the request's region hint (a foreign car's plate is a plate):
        the hint's formats only rank their readings; the others left.

        The second way finds blurred or washed-out plates read in part (br_crops_dev through
        the service, seed 7: AN638 for AAN6838, IR760, JDS191; 518 -> 521 of 530 found) and
        two plates openlpr_val's labels leave out (a dashboard's 454 HNK, a parked car's
        KR 37630); longer readings, or with fewer digits, were signs and lettering there
        ("DEFENDER", "BALA1", "137520435RUMAL").

        Our recogniser (~0.3 ms a hit) reads every hit first, PP-OCR (~2.5 ms) only those
        where it read WEAK_HIT_CHARS or more: on the crop sets' service path (seeds 7-9) and
        openlpr_val, every promoted hit had 2 or more (a large plate ours read as "24"), and
        60-70 % of the hits fewer (docs/latency-history.md)."""
        weak = [i for i, p in enumerate(plates) if p.evidence_only]
        grown = [expand_quad(np.array(plates[i].polygon, np.float64), *READ_MARGIN) for i in weak]
        ours = None
        if self.plate_rec is not None and grown:
            ours = read_plates(self.plate_rec, [upright(image, q) for q in grown])
            kept = [
                k for k, r in enumerate(ours) if len(plate_text.clean(r.text)) >= WEAK_HIT_CHARS
            ]
            weak, grown, ours = (
                [weak[k] for k in kept],
                [grown[k] for k in kept],
                [ours[k] for k in kept],
            )
        if not weak:
            return list(plates)
        lines = read_plate_lines(self.rec, [crop_quad(image, q) for q in grown], self.charset)
        unhinted = [plate_text.candidates(line.chars) for line in lines]
        decisions = self.second_opinion(image, grown, unhinted, (), ours)
        rankings = decisions
        if formats:
            hinted = [plate_text.candidates(line.chars, formats) for line in lines]
            rankings = self.second_opinion(image, grown, hinted, formats, ours)
        out = list(plates)
        for i, decision, ranking in zip(weak, decisions, rankings, strict=True):
            text, score = decision[0] if decision else ("", 0.0)
            if (
                plate_text.plausible(text) and score >= PROMOTE_SCORE and fits_format(text, ())
            ) or (plate_text.registration_like(text) and score >= LIKE_SCORE):
                ranked = plate_text.merged([ranking, decision], formats)
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
