"""Plate lines as PP-OCR reads them: emblems (a coloured seal, crest or sticker between a plate's
groups) dropped, look-alike glyphs read as the plate character they are."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.models.ppocr import TextReading, recognise
from blur_sdk.core.models.runner import OpenVinoRunner
from blur_sdk.core.plates import text as plate_text

# A German plate's registration seal, an Austrian district's crest, a Czech inspection sticker:
# PP-OCR reads them as O, 0, W or E. Glyphs are plain (black or white on a light or dark
# plate); an emblem's pixels are strongly coloured.
SATURATION, VALUE = 0.35, 0.25  # HSV floors of a strongly coloured pixel
EMBLEM_SHARE = 0.15  # share of such pixels around a character that makes it an emblem
PLAIN_SHARE = 0.08  # ... where each other character of the line has at most this share
GLYPH_CHROMA = 11.0  # Lab chroma of the other characters' strokes above which the glyphs are
# coloured themselves (Belgium's red characters: 11-17; black glyphs beside emblems: 1-10)
STROKE_SHARE = 30  # a character's strokes: the darkest this many percent of its span
HALF_WIDTH = 0.2  # a character's span each side of its centre, in crop heights
ROWS = (1 / 6, 5 / 6)  # the crop's rows looked at (its middle: not the plate's border)
# The EU's blue country band: a line that reads a country's distinguishing sign, each
# character standing on mostly strongly coloured pixels whose median hue (OpenCV's 0-180) is
# blue, is the band ("LT" beside a Lithuanian two-row plate's top row), not the registration
# (a diplomatic plate's blue "CD" row is no country's sign; Iceland's glyphs are blue, not
# their ground).
BAND_CODES = frozenset(
    {"A", "B", "BG", "CY", "CZ", "D", "DK", "E", "EST", "F", "FIN", "FL", "GB", "GR", "H", "HR"}
    | {"I", "IRL", "IS", "L", "LT", "LV", "M", "N", "NL", "P", "PL", "RO", "S", "SK", "SLO", "UA"}
)
BAND_SHARE = 0.5
BAND_HUE = (95, 135)
# A line's first character on coloured pixels is the band beside it, read as its code's letter
# or its edge as a 1, or a registration digit the band's blue reaches into (the 8 of a Dutch
# 82-20, the 5 of a Swiss 543 756): such a digit is no emblem.
BAND_SIDE = frozenset("023456789")
# Characters no plate carries that PP-OCR reads for a plate glyph they look like: a J in plate
# fonts reads as "]" (Poland's GD 9751J read GD9751] and then GD9751; eu_crops_dev through the
# service without a hint, seeds 7-12: 1282 -> 1286 plates right of 6 x 237, every other set
# the same). "|" and "!" are not mapped: they are as often a frame's edge or a separator.
LOOKALIKES = {"]": "J"}


def _spans(xs: tuple[float, ...], height: int, width: int) -> list[slice]:
    """Each character's columns in a crop of this size."""
    half = HALF_WIDTH * height
    return [slice(max(0, round(x - half)), min(width, round(x + half))) for x in xs]


def strong_colour(
    rgb: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """The crop in HSV and its mask of strongly coloured pixels."""
    hsv = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), np.uint8)
    return hsv, (hsv[..., 1] > SATURATION * 255) & (hsv[..., 2] > VALUE * 255)


def colour_shares(strong: npt.NDArray[np.bool_], spans: list[slice]) -> list[float]:
    """Per character span, the share of strongly coloured pixels in it."""
    return [float(strong[:, s].mean()) if s.stop > s.start else 0.0 for s in spans]


def band_hue(
    hsv: npt.NDArray[np.uint8], strong: npt.NDArray[np.bool_], spans: list[slice]
) -> float:
    """The median hue of the strongly coloured pixels in these spans (-1 when there are none)."""
    hues = [hsv[:, s, 0][strong[:, s]] for s in spans if s.stop > s.start]
    pixels = np.concatenate(hues) if hues else np.zeros(0, np.uint8)
    return float(np.median(pixels)) if len(pixels) else -1.0


def stroke_chroma(rgb: npt.NDArray[np.uint8], spans: list[slice]) -> float:
    """Median over these character spans of their strokes' Lab chroma (the darkest pixels)."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    values = []
    for s in spans:
        pixels = lab[:, s].reshape(-1, 3)
        if len(pixels):
            dark = pixels[pixels[:, 0] <= np.percentile(pixels[:, 0], STROKE_SHARE)]
            values.append(float(np.median(np.hypot(dark[:, 1], dark[:, 2]))))
    return float(np.median(values)) if values else 0.0


def without_emblems(crop: npt.NDArray[np.uint8], reading: TextReading) -> TextReading:
    """The reading of a text line crop without the characters that stand on strongly coloured
    pixels where its other characters are plain ("HH" + seal + "NR367" read "HHONR367"); a
    line of coloured glyphs, with several coloured characters or with more than its emblem
    coloured, keeps every character. A line of two characters counts too: an Austrian
    two-row plate's top row is its district and crest ("W" + crest read "W4"; eu_crops_dev
    through the service +0.5 points, every other set the same).
    Separators are never dropped (they split the registration's groups). A line that is only
    the EU band's country code (BAND_CODES) reads as nothing."""
    if len(reading.xs) != len(reading.chars) or not reading.chars:
        return reading
    height = crop.shape[0]
    middle = crop[round(ROWS[0] * height) : round(ROWS[1] * height)]
    spans = _spans(reading.xs, height, crop.shape[1])
    hsv, strong = strong_colour(middle)
    shares = colour_shares(strong, spans)
    plate = [i for i, c in enumerate(reading.chars) if plate_text.clean(c[0])]
    emblems = {
        i
        for i in plate
        if shares[i] >= EMBLEM_SHARE and not (i == plate[0] and reading.chars[i][0] in BAND_SIDE)
    }
    others = [i for i in plate if i not in emblems]
    code = "".join(plate_text.clean(reading.chars[i][0]) for i in plate)
    if code in BAND_CODES and all(shares[i] >= BAND_SHARE for i in plate):
        hue = band_hue(hsv, strong, [spans[i] for i in plate])
        if BAND_HUE[0] <= hue <= BAND_HUE[1]:
            return TextReading("", 0.0, (), ())
    if (
        len(reading.chars) < 2
        or len(emblems) != 1  # (one seal, crest or sticker in a line; more: coloured glyphs)
        or not others
        or any(shares[i] > PLAIN_SHARE for i in others)
        or stroke_chroma(middle, [spans[i] for i in others]) > GLYPH_CHROMA
    ):
        return reading
    keep = [i for i in range(len(reading.chars)) if i not in emblems]
    chars = tuple(reading.chars[i] for i in keep)
    score = float(np.mean([c[1] for c in chars]))
    xs = tuple(reading.xs[i] for i in keep)
    return TextReading("".join(c[0] for c in chars), score, chars, xs)


def as_plate_glyphs(reading: TextReading) -> TextReading:
    """The reading with each LOOKALIKES character (best or runner-up) read as its plate glyph."""
    if not any(c[0] in LOOKALIKES or c[2] in LOOKALIKES for c in reading.chars):
        return reading
    chars = tuple(
        (LOOKALIKES.get(c[0], c[0]), c[1], LOOKALIKES.get(c[2], c[2]), c[3]) for c in reading.chars
    )
    return TextReading("".join(c[0] for c in chars), reading.score, chars, reading.xs)


def read_plate_lines(
    runner: OpenVinoRunner, crops: list[npt.NDArray[np.uint8]], charset: list[str]
) -> list[TextReading]:
    """PP-OCR's readings of plate text crops (ppocr.recognise), look-alike glyphs read as the
    plate's characters, emblems dropped."""
    readings = recognise(runner, crops, charset)
    return [without_emblems(c, as_plate_glyphs(r)) for c, r in zip(crops, readings, strict=True)]
