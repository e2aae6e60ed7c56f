"""Automatic watermark finding: overlay text (PP-OCR) and logo-like overlays, as stroke masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.geometry import Box, box_of
from blur_sdk.core.models.manifest_runners import model_runners
from blur_sdk.core.models.ppocr import TextBox, crop_quad, load_charset, recognise
from blur_sdk.core.models.runner import OpenVinoRunner, RunnerConfig
from blur_sdk.core.regions import MASK, POLYGON, TEXT, Region
from blur_sdk.core.watermark.find_logo import find_logos
from blur_sdk.core.watermark.find_text import PASSES, TextSearch, find_text
from blur_sdk.core.watermark.overlay import evidence, repeated
from blur_sdk.core.watermark.strokes import (
    DILATE,
    MAX_FILL,
    MIN_CONTRAST,
    Strokes,
    box_strokes,
    paste,
)

MIN_SCORE = 0.5  # DB box score floor over the union of the passes (tuned: bench/watermark_find.py)
OVERLAY_SCORE = 0.3  # the floor for boxes whose strokes pass the overlay test
MIN_TEXT_PX = 8  # quads thinner than this are noise at any scale
Candidate = tuple[npt.NDArray[np.float64], bool]  # a quad and its strokes' polarity (light)


@dataclass(frozen=True)
class WatermarkOptions:
    """Per-call options: what to look for, whether to read the text, the box score floor."""

    text: bool = True  # look for text watermarks
    logos: bool = True  # look for logo-like overlays
    read: bool = False  # also read each text block with the recogniser (for an OCR API)
    min_score: float = MIN_SCORE
    dilate: int = DILATE  # px the stroke masks are grown by
    passes: tuple[str, ...] = PASSES  # detector passes: rgb, clahe (contrast), inverted
    # keep only overlay-like text (the background shows through it, or it repeats): scene text
    # (plates, signs) is left alone. None: on, except when reading (an OCR wants every block)
    overlay_only: bool | None = None
    overlay_score: float = OVERLAY_SCORE  # box score floor for text that passes the test

    @property
    def overlays(self) -> bool:
        """Whether only overlay-like text is kept."""
        return not self.read if self.overlay_only is None else self.overlay_only


@dataclass(frozen=True)
class TextMark:
    """One text block: its quad (TL, TR, BR, BL, image pixels), DB score and, read, its text."""

    quad: npt.NDArray[np.float64]
    score: float
    text: str = ""
    text_score: float = 0.0


@dataclass
class WatermarkFinding:
    """What was found: the fill mask (255 = pixels to fill), text blocks, logo boxes, regions."""

    mask: npt.NDArray[np.uint8]
    texts: list[TextMark]
    logos: list[Box]
    regions: list[Region]

    @property
    def empty(self) -> bool:
        """Nothing found: the picture is to be left as it is."""
        return not self.texts and not self.logos


def _polygon(points: npt.NDArray[np.float64]) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 1), round(float(y), 1)) for x, y in points)


class WatermarkFinder:
    """Finds overlay text and logos in one image; shares its runners, keeps no per-call state."""

    def __init__(self, det: OpenVinoRunner, rec: OpenVinoRunner | None = None) -> None:
        self.det = det
        self.rec = rec
        self.charset = load_charset(rec) if rec is not None else []

    @classmethod
    def create(cls, config: RunnerConfig) -> WatermarkFinder:
        """The finder on the process's verified PP-OCRv4 det and rec runners."""
        det, rec = model_runners(config, "ppocr_det", "ppocr_rec")
        return cls(det, rec)

    def warm_up(self) -> None:
        """Compile the detector for the common input shapes and the recogniser's small ones."""
        for width, height in ((800, 600), (1280, 720)):
            find_text(self.det, np.zeros((height, width, 3), np.uint8), TextSearch(1.0, ("rgb",)))
        if self.rec is not None:
            recognise(self.rec, [np.zeros((48, 120, 3), np.uint8)], self.charset)

    def _texts(
        self, rgb: RGBImage, options: WatermarkOptions
    ) -> tuple[list[tuple[npt.NDArray[np.float64], float, Strokes]], list[Candidate]]:
        """Kept text boxes (quad, score, strokes), and every sure box for the logo finder."""
        if not options.text:
            return [], []
        floor = min(options.min_score, options.overlay_score) if options.overlays else None
        search = TextSearch(options.min_score if floor is None else floor, options.passes)
        boxes = []
        for box in find_text(self.det, rgb, search):
            if min(box_of(box.quad)[2:]) < 0 or _thin(box.quad):
                continue
            strokes = box_strokes(rgb, box.quad, options.dilate)
            if strokes.fill > MAX_FILL or strokes.contrast < MIN_CONTRAST:
                continue  # no text-like strokes to follow: leave it alone
            boxes.append((box, strokes))
        keep = _keep(rgb, boxes, options)
        kept = [(b.quad, b.score, s) for (b, s), k in zip(boxes, keep, strict=True) if k]
        sure = [(b.quad, s.light) for b, s in boxes if b.score >= options.min_score]
        return kept, sure

    def find(self, rgb: RGBImage, options: WatermarkOptions | None = None) -> WatermarkFinding:
        """The watermarks in an RGB image; nothing found leaves an empty mask."""
        options = options or WatermarkOptions()
        height, width = rgb.shape[:2]
        mask = np.zeros((height, width), np.uint8)
        texts: list[TextMark] = []
        regions: list[Region] = []
        quads, candidates = self._texts(rgb, options)
        for _, _, strokes in quads:
            paste(mask, strokes)
        if options.read and self.rec is not None and quads:
            crops = [crop_quad(rgb, q) for q, _, _ in quads]
            readings = recognise(self.rec, crops, self.charset)
        else:
            readings = []
        for i, (quad, score, _) in enumerate(quads):
            reading = readings[i] if readings else None
            texts.append(
                TextMark(
                    quad=quad,
                    score=round(score, 3),
                    text=reading.text if reading else "",
                    text_score=round(reading.score, 3) if reading else 0.0,
                )
            )
            regions.append(
                Region(TEXT, _polygon(quad), box_of(quad, width, height), round(score, 3), POLYGON)
            )
        logos: list[Box] = []
        if options.logos:
            for logo in find_logos(rgb, candidates, options.dilate):
                np.maximum(mask, logo.mask, out=mask)
                logos.append(logo.box)
                x0, y0, x1, y1 = logo.box
                corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
                regions.append(Region(MASK, corners, logo.box, round(logo.score, 3), POLYGON))
        return WatermarkFinding(mask=mask, texts=texts, logos=logos, regions=regions)


def _keep(
    rgb: RGBImage, boxes: list[tuple[TextBox, Strokes]], options: WatermarkOptions
) -> list[bool]:
    """Which candidate boxes are overlay text: the background shows through their strokes, or
    they repeat (tiled); the lower overlay floor applies only to the first."""
    sure = [b.score >= options.min_score for b, _ in boxes]
    if not options.overlays:
        return sure
    rep = repeated([b.quad for (b, _), s in zip(boxes, sure, strict=True) if s])
    again = iter(rep)
    keep = []
    for (box, _), s in zip(boxes, sure, strict=True):
        many = next(again) if s else False
        keep.append(many or evidence(rgb, box.quad).overlay)
    return keep


def _thin(quad: npt.NDArray[np.float64]) -> bool:
    tl, tr, br, bl = quad
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    return bool(min(w, h) < MIN_TEXT_PX)
