"""Text lines inside plates: grouping into plates, the registration line(s), country bands."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blur_sdk.core.geometry import box_of, linked_groups
from blur_sdk.core.models.ppocr import TextBox, TextReading
from blur_sdk.core.plates import text as plate_text

TEXT_LINE_RATIO = 0.6  # lines shorter than this x the group's tallest are not plate text
TOP_ROW_RATIO = 0.5  # ... but a short top row (1-2 characters) this tall still is
SMALL_GROUP_RATIO = 0.62  # a group of text this much smaller than a plate's next to it: its city
BAND_MIN, BAND_MAX = 0.05, 0.3  # a country band's share of a line crop's width
BAND_BLUE = 0.5  # share of a column's pixels that are blue in a band
MIN_TEXT_PX = 6
MAX_TEXT_FRACTION = 0.35
MAX_ASPECT = 14.0
MIN_ASPECT = 0.8  # narrower text in a photo is rarely a plate's (inside a plate: see read_crop)
MAX_ANGLE = 40.0


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


def keep_geometry(box: TextBox, image_height: int, min_aspect: float = MIN_ASPECT) -> bool:
    """Text that could be a plate's: big enough, not huge, not too long, not too tilted."""
    width, height, angle = line_geometry(box.quad)
    return (
        height >= MIN_TEXT_PX
        and height <= MAX_TEXT_FRACTION * image_height
        and width >= min_aspect * height
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
    return [reading_order(g) for g in linked_groups(lines, _belong_together)]


def text_rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines in rows, top row first, each left to right (a line within half its height of a
    row's first line belongs to that row)."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: ln.centre[1]):
        if rows and abs(line.centre[1] - rows[-1][0].centre[1]) < 0.5 * line.height:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda ln: ln.centre[0]) for row in rows]


def reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Lines sorted top row first, left to right within a row."""
    return [ln for row in text_rows(lines) for ln in row]


def registration_lines(group: list[TextLine]) -> list[TextLine]:
    """The lines that carry the registration: small lines (city names, dealers) are dropped and,
    while the text is too long for a plate, so are lines without digits, smallest first, then
    the smallest lines (a watermark under a two-row plate leaves both rows)."""
    tallest = max(group, key=lambda ln: ln.height)
    lines = [
        ln
        for ln in group
        if ln.height >= TEXT_LINE_RATIO * tallest.height or _short_top_row(ln, tallest)
    ]
    while len(_text(lines)) > plate_text.MAX_CHARS and len(lines) > 1:
        weakest = min(  # (on a tie the later line goes: the first of the tallest stays)
            range(len(lines)), key=lambda i: (_has_digit(lines[i]), lines[i].height, -i)
        )
        del lines[weakest]
    return lines


def _short_top_row(line: TextLine, tallest: TextLine) -> bool:
    """A two-row plate's top row of one or two characters above its tallest row, at least
    TOP_ROW_RATIO of its height (an Italian or Austrian district, a Dutch square plate's VF)."""
    return (
        line.height >= TOP_ROW_RATIO * tallest.height
        and line.centre[1] < tallest.centre[1] - 0.5 * tallest.height
        and len(plate_text.clean(line.reading.text)) <= 2
    )


def _has_digit(line: TextLine) -> bool:
    return any(ch.isdigit() for ch in line.reading.text)


def _text(lines: list[TextLine]) -> str:
    return "".join(plate_text.clean(ln.reading.text) for ln in lines)


def subordinate(group: list[TextLine], groups: list[list[TextLine]]) -> bool:
    """Whether a group is the small print of a plate next to it: a city or state line, a
    slogan or a dealer frame above or below larger registration text."""
    height = max(ln.height for ln in group)
    x1, y1, x2, y2 = _extent(group)
    for other in groups:
        main = max(ln.height for ln in other)
        if other is group or height > SMALL_GROUP_RATIO * main:
            continue
        ox1, oy1, ox2, oy2 = _extent(other)
        centre_x = (x1 + x2) / 2
        gap = max(oy1 - y2, y1 - oy2)
        if ox1 - main < centre_x < ox2 + main and gap < 1.2 * main:
            return True
    return False


def _extent(group: list[TextLine]) -> tuple[float, float, float, float]:
    boxes = [box_of(ln.quad) for ln in group]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


BAND_REST_BLUE = 0.35  # beyond a band, more blue than this: the whole plate is blue


def band_width(crop: npt.NDArray[np.uint8]) -> int:
    """Columns of a line crop (RGB) taken by a blue country band at its left (EU), else 0."""
    rgb = crop.astype(np.int16)
    blue = (rgb[..., 2] > rgb[..., 0] + 40) & (rgb[..., 2] > rgb[..., 1] + 15)
    columns = blue.mean(axis=0) > BAND_BLUE
    width = crop.shape[1]
    start = next((i for i in range(min(width, max(3, width // 10))) if columns[i]), None)
    if start is None:
        return 0
    end = start
    while end < width and columns[end]:
        end += 1
    if end < width and blue[:, end:].mean() > BAND_REST_BLUE:
        return 0  # a blue plate (China, ...), not a band beside a white or yellow field
    return end + 1 if BAND_MIN * width <= end - start <= BAND_MAX * width else 0
