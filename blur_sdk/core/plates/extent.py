"""Grow a plate's text quad over the characters text detection missed, to the plate's edge.

Text detection often finds only part of a registration (one group of characters; the rest
missed or split off), and a blur over the text found leaves the rest readable. Beyond the text
found, a plate goes on as characters: blobs of the glyph colour (judged inside the text found)
as tall as the text line and level with it. The quad is extended along its own axis over each
such character that follows within a character group's spacing, then by the plate's inner
margin of background colour. Car paint, grilles and frames make no such row of characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image8 = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float64]

WORK_TEXT_HEIGHT = 24.0  # the text line is resampled to about this many pixels high
SEARCH_ACROSS = 0.6  # how far above/below the text to look, in text heights
MAX_PLATE_ASPECT = 7.5  # a single-row plate is at most this many text heights wide
MIN_CONTRAST = 15.0  # L* between background and glyphs: below it the plate is not clear
CHAR_HEIGHT = (0.55, 1.3)  # a character's height, in text-line heights
CHAR_WIDTH = 1.2  # ... its widest
CROSSING = 0.12  # rows checked above/below a blob for a vertical structure, in line heights
CHAR_LEVEL = 0.3  # how far its centre may sit from the line's centre, in text-line heights
MAX_GAP = 1.0  # widest gap between characters of one registration, in text heights
INNER_MARGIN = 0.35  # background kept beyond the last character, in text heights (at most)
ROW_SHARE = 0.7  # share of background that makes a row above/below the text part of the plate
ABOVE_REACH = 1.3  # a two-row plate's missed top row lies within this many line heights above
ABOVE_SIDES = 0.6  # ... and within this many line heights beyond the line's ends


@dataclass(frozen=True)
class Extension:
    """How far the plate reaches beyond the text quad, in text-quad pixels along its axes."""

    left: float = 0.0
    right: float = 0.0
    top: float = 0.0
    bottom: float = 0.0


def _axes(quad: Points) -> tuple[Points, Points, float, float]:
    tl, tr, br, bl = quad
    along = ((tr - tl) + (br - bl)) / 2
    across = ((bl - tl) + (br - tr)) / 2
    width, height = float(np.linalg.norm(along)), float(np.linalg.norm(across))
    return along / max(width, 1e-9), across / max(height, 1e-9), width, height


def _strip(
    image: Image8, quad: Points, side: float, across: float, line: float
) -> tuple[Image8, float]:
    """The text and its surroundings resampled upright: (strip, pixels per image pixel)."""
    u, v, width, height = _axes(quad)
    k = WORK_TEXT_HEIGHT / max(line, 1e-6)
    sw, sh = round((width + 2 * side) * k), round((height + 2 * across) * k)
    origin = quad[0] - u * side - v * across
    src = np.array([[0, 0], [sw, 0], [0, sh]], np.float32)
    dst = np.array([origin, origin + u * sw / k, origin + v * sh / k], np.float32)
    matrix = cv2.getAffineTransform(src, dst)
    strip = cv2.warpAffine(
        image, matrix, (max(sw, 1), max(sh, 1)),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return np.asarray(strip, dtype=np.uint8), k


def colour_classes(
    lab: npt.NDArray[np.float32], text: tuple[slice, slice]
) -> tuple[Image8, Image8] | None:
    """(background, glyph) pixel masks of the strip, judged from the text area; None when the
    text area shows no clear plate.

    Inside the text line the glyphs are the minority class of an Otsu split on lightness; each
    pixel of the strip then belongs to the nearer of the two median colours, if near enough.
    """
    lightness = np.clip(lab[..., 0] * 2.55, 0, 255).astype(np.uint8)
    area = lightness[text]
    if area.size < 16:
        return None
    _, split = cv2.threshold(area, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = split > 0
    background = bright if bright.mean() >= 0.5 else ~bright
    glyphs, bg = lab[text][~background], lab[text][background]
    if len(glyphs) < 4 or len(bg) < 4:
        return None
    bg_colour, glyph_colour = np.median(bg, axis=0), np.median(glyphs, axis=0)
    contrast = float(np.linalg.norm(bg_colour - glyph_colour))
    if abs(float(bg_colour[0]) - float(glyph_colour[0])) < MIN_CONTRAST:
        return None
    to_bg = np.linalg.norm(lab - bg_colour, axis=2)
    to_glyph = np.linalg.norm(lab - glyph_colour, axis=2)
    near = np.minimum(to_bg, to_glyph) < 0.8 * contrast
    return (
        np.asarray(near & (to_bg < to_glyph), dtype=np.uint8),
        np.asarray(near & (to_glyph <= to_bg), dtype=np.uint8),
    )


def characters(glyph: Image8, band: tuple[int, int], line: float) -> list[tuple[int, int]]:
    """[x0, x1) spans of the glyph blobs shaped and placed like characters of the text line.

    Blobs are cut from the line's own rows (glyphs blurred into the plate's dark outline would
    otherwise join it into one blob); a blob that goes on both above and below the line is a
    frame, a border or a car's edge, not a character.
    """
    y0, y1 = band
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(glyph[y0:y1]), connectivity=8
    )
    reach = max(1, round(CROSSING * line))
    above, below = glyph[max(0, y0 - reach) : y0], glyph[y1 : y1 + reach]
    centre = (y1 - y0) / 2
    spans = []
    for x, y, w, h, _ in stats[1:count]:
        crossing = (
            above.size > 0
            and below.size > 0
            and above[:, x : x + w].mean() > 0.5
            and below[:, x : x + w].mean() > 0.5
        )
        if (
            not crossing
            and CHAR_HEIGHT[0] * line <= h <= CHAR_HEIGHT[1] * line
            and w <= CHAR_WIDTH * line
            and abs(y + h / 2 - centre) <= CHAR_LEVEL * line
        ):
            spans.append((int(x), int(x + w)))
    return spans


def chain(spans: list[tuple[int, int]], start: int, gap: float) -> int:
    """How far a row of characters, each within `gap` of the last, continues right of `start`."""
    edge = start
    for x0, x1 in sorted(spans):
        if x1 <= edge:
            continue
        if x0 > edge + gap:
            break
        edge = x1
    return edge - start


def _run(flags: npt.NDArray[np.bool_]) -> int:
    """Length of the leading run of True."""
    false = np.flatnonzero(~flags)
    return int(false[0]) if len(false) else len(flags)


@dataclass(frozen=True)
class Surround:
    """A text quad's surroundings resampled upright (k strip pixels per image pixel), split into
    background and glyph pixels; the text's own columns x0:x1 and rows y0:y1 in the strip."""

    background: Image8
    glyph: Image8
    k: float
    x0: int
    x1: int
    y0: int
    y1: int


def surround(
    image: Image8, quad: Points, side: float, across: float, line: float
) -> Surround | None:
    """The quad's surroundings, `side` image pixels beyond its ends and `across` above and
    below; None where its text area shows no clear plate (colour_classes)."""
    _, _, width, height = _axes(quad)
    strip, k = _strip(image, quad, side, across, line)
    lab = np.asarray(
        cv2.cvtColor(strip.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab), dtype=np.float32
    )
    x0, x1 = round(side * k), round((side + width) * k)
    y0, y1 = round(across * k), round((across + height) * k)
    classes = colour_classes(lab, (slice(y0, y1), slice(x0, x1)))
    return None if classes is None else Surround(*classes, k, x0, x1, y0, y1)


def measure_extension(image: Image8, quad: Points, line_height: float | None = None) -> Extension:
    """How far the plate's glyphs (then its inner margin) continue beyond the text quad.

    `line_height` is the height of one text line (the quad may hold two rows).
    """
    _, _, width, height = _axes(quad)
    line = min(height, line_height or height)
    if line < 4 or width < 4:
        return Extension()
    room = MAX_PLATE_ASPECT * line - width  # the widest plate, beyond the text found
    if room <= 0:
        return Extension()
    found = surround(image, quad, room, SEARCH_ACROSS * line, line)
    if found is None:
        return Extension()
    background, glyph, k = found.background, found.glyph, found.k
    x0, x1, y0, y1 = found.x0, found.x1, found.y0, found.y1
    line_px, gap = line * k, MAX_GAP * line * k
    spans = characters(glyph, (y0, y1), line_px)
    width_px = glyph.shape[1]
    right = chain(spans, x1, gap)
    left = chain([(width_px - b, width_px - a) for a, b in spans], width_px - x0, gap)
    bg_columns = background[y0:y1].mean(axis=0) >= 0.9
    margin = round(INNER_MARGIN * line_px)
    if right:
        right += min(_run(bg_columns[x1 + right :]), margin)
    if left:
        left += min(_run(bg_columns[: x0 - left][::-1]), margin)
    rows = background[:, x0:x1].mean(axis=1) >= ROW_SHARE
    bottom, top = _run(rows[y1:]), _run(rows[:y0][::-1])
    return Extension(left / k, right / k, top / k, bottom / k)


def glyphs_above(image: Image8, quad: Points, line_height: float | None = None) -> int:
    """How many blobs shaped like the line's characters, in its glyph colour, stand in a row
    just above it: a two-row plate's top row ("KI" over "361DH") that text detection missed.
    A small city line above a registration is too short to count."""
    _, _, width, height = _axes(quad)
    line = min(height, line_height or height)
    if line < 4 or width < 4:
        return 0
    found = surround(image, quad, ABOVE_SIDES * line, ABOVE_REACH * line, line)
    if found is None:
        return 0
    gap = max(1, round(0.05 * line * found.k))
    return len(characters(found.glyph, (0, max(1, found.y0 - gap)), line * found.k))


def extend_quad(quad: Points, extension: Extension) -> Points:
    """The quad moved out by the extension along its own axes."""
    u, v, _, _ = _axes(quad)
    tl, tr, br, bl = np.asarray(quad, dtype=np.float64)
    e = extension
    return np.array(
        [
            tl - u * e.left - v * e.top,
            tr + u * e.right - v * e.top,
            br + u * e.right + v * e.bottom,
            bl - u * e.left + v * e.bottom,
        ]
    )


def extend_to_plate(image: Image8, quad: Points, line_height: float | None = None) -> Points:
    """The text quad grown over the plate's further glyphs and margin (unchanged where no clear
    plate surrounds it)."""
    points = np.asarray(quad, dtype=np.float64)
    return extend_quad(points, measure_extension(image, points, line_height))
