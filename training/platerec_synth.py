"""Synthetic plate crops for the plate recogniser: many countries' layouts, fonts and damage.

render(rng) -> (RGB uint8 crop of a plate with some surroundings, its text in reading order:
top row then bottom, separators dropped). Layouts: one row (optionally a blue EU band, a small
city/state line above or below, a coat of arms or sticker between groups) and two rows (square
EU plates). Damage: perspective, rotation, low resolution, blur, noise, JPEG, contrast, shadow,
dirt, night/infra-red tints. Fonts (open licences, none shipped with the product):
Debian fonts-opendin (OSP-DIN), fonts-dejavu-core, fonts-liberation, fonts-roboto and
@fontsource barlow-condensed / bebas-neue / oswald (OFL) in training/data/fonts.
"""

from __future__ import annotations

import glob
import io
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
FONT_FILES = (
    "/usr/share/fonts/truetype/opendin/OSP-DIN.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Medium.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Medium.ttf",
)
FONT_WEIGHTS = {"OSP-DIN": 4.0, "bebas": 1.5, "barlow": 2.0}
# (background, text) colours: white/black, yellow/black, grey/black (BR private), red/white
# (BR commercial), black/white, white/red, white/blue, green/white, blue/white
COLOURS = (
    ((235, 235, 230), (20, 20, 20), 5.0),
    ((240, 200, 40), (15, 15, 15), 1.5),
    ((150, 150, 150), (25, 25, 25), 2.0),
    ((120, 120, 125), (230, 230, 230), 1.5),
    ((170, 40, 40), (240, 240, 240), 1.0),
    ((25, 25, 25), (235, 235, 235), 1.0),
    ((235, 235, 230), (190, 30, 30), 0.6),
    ((235, 235, 230), (30, 60, 160), 0.5),
    ((30, 110, 60), (240, 240, 240), 0.4),
    ((40, 70, 170), (240, 240, 240), 0.4),
)
EU_BLUE = (20, 60, 170)


@lru_cache(maxsize=1)
def fonts() -> tuple[list[str], np.ndarray]:
    """Font files present, with their sampling weights."""
    files = [f for f in FONT_FILES if glob.glob(f)] + sorted(glob.glob("training/data/fonts/*"))
    weights = np.array(
        [next((w for k, w in FONT_WEIGHTS.items() if k in f), 1.0) for f in files], np.float64
    )
    return files, weights / weights.sum()


@lru_cache(maxsize=512)
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def pick(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), n))


def groups(rng: np.random.Generator) -> list[str]:
    """A plate text as its printed groups (one of many countries' shapes, or random)."""
    r = rng.random()
    L, D = LETTERS, DIGITS
    n = lambda a, b: int(rng.integers(a, b + 1))  # noqa: E731
    if r < 0.22:  # Brazil old / Mercosul
        if rng.random() < 0.7:
            return [pick(rng, L, 3), pick(rng, D, 4)]
        return [pick(rng, L, 3) + pick(rng, D, 1) + pick(rng, L, 1) + pick(rng, D, 2)]
    if r < 0.32:  # DE / AT: area code, letters, digits
        return [pick(rng, L, n(1, 3)), pick(rng, L, n(1, 2)), pick(rng, D, n(1, 4))]
    if r < 0.40:  # AT new / CH: area, digits, letters
        return [pick(rng, L, n(1, 2)), pick(rng, D, n(1, 5)) + pick(rng, L, n(0, 2))]
    if r < 0.47:  # NL sidecodes
        shapes = [(D, 2, L, 3, D, 1), (L, 2, D, 3, L, 1), (D, 1, L, 3, D, 2), (L, 2, D, 2, L, 2)]
        s = shapes[int(rng.integers(len(shapes)))]
        return [pick(rng, s[0], s[1]), pick(rng, s[2], s[3]), pick(rng, s[4], s[5])]
    if r < 0.54:  # PL / CZ / SK
        return [pick(rng, L, n(2, 3)), pick(rng, D + L, n(4, 5))]
    if r < 0.60:  # FR / IT
        return [pick(rng, L, 2), pick(rng, D, 3), pick(rng, L, 2)]
    if r < 0.65:  # GB
        return [pick(rng, L, 2) + pick(rng, D, 2), pick(rng, L, 3)]
    if r < 0.70:  # ES
        return [pick(rng, D, 4), pick(rng, L, 3)]
    if r < 0.76:  # Nordic: LL 999 / LL 99999
        return [pick(rng, L, n(2, 3)), pick(rng, D, n(2, 5))]
    if r < 0.82:  # US-like
        return [pick(rng, D, 1) + pick(rng, L, 3) + pick(rng, D, 3)]
    if r < 0.88:  # digits first (BE, BG, US)
        return [pick(rng, D, n(1, 3)), pick(rng, L, n(2, 3)), pick(rng, D, n(0, 3))]
    k = n(4, 9)  # anything
    text = pick(rng, L + D, k)
    cut = int(rng.integers(1, k))
    return [text[:cut], text[cut:]] if rng.random() < 0.6 else [text]


def _colour(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    weights = np.array([c[2] for c in COLOURS])
    bg, fg, _ = COLOURS[int(rng.choice(len(COLOURS), p=weights / weights.sum()))]
    jitter = lambda c: tuple(int(np.clip(v + rng.normal(0, 12), 0, 255)) for v in c)  # noqa: E731
    return jitter(bg), jitter(fg)


def _text_size(draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont) -> tuple[int, int]:
    x1, y1, x2, y2 = draw.textbbox((0, 0), text, font=f)
    return x2 - x1, y2 - y1


@lru_cache(maxsize=4096)
def glyph(font_file: str, char: str, height: int) -> np.ndarray:
    """A character's ink (uint8 mask) cropped to its bounding box, `height` px tall."""
    f = font(font_file, int(height * 1.6))
    tile = Image.new("L", (height * 3, height * 3), 0)
    ImageDraw.Draw(tile).text((height // 2, height // 4), char, 255, font=f)
    bbox = tile.getbbox()
    tile = tile.crop(bbox) if bbox else Image.new("L", (height // 2, height), 0)
    scale = height / tile.height
    return np.asarray(tile.resize((max(1, round(tile.width * scale)), height)))


def row_mask(
    row: list[str], height: int, font_file: str, squeeze: float, rng: np.random.Generator
) -> np.ndarray:
    """One row of groups as an ink mask, glyphs `height` px tall, groups apart by a separator."""
    spacing = int(height * rng.uniform(0.04, 0.14))
    gap = int(height * rng.uniform(0.25, 0.7))
    sep = str(rng.choice([" ", "-", ".", ""])) if len(row) > 1 else ""
    pieces: list[np.ndarray] = []
    for gi, group in enumerate(row):
        if gi:
            blank = np.zeros((height, gap), np.uint8)
            if sep == "-":
                t = max(2, height // 10)
                blank[height // 2 - t // 2 : height // 2 + t, gap // 5 : gap - gap // 5] = 255
            elif sep == ".":
                cv2.circle(blank, (gap // 2, height // 2), max(2, height // 12), 255, -1)
            pieces.append(blank if sep else np.zeros((height, spacing * 2), np.uint8))
        for ch in group:
            g = glyph(font_file, ch, height)
            w = max(1, int(g.shape[1] * squeeze))
            pieces.append(cv2.resize(g, (w, height)))
            pieces.append(np.zeros((height, spacing), np.uint8))
    return np.hstack(pieces[:-1])


def plate(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A clean, upright plate (RGB) and its text."""
    rows = [g for g in groups(rng) if g]
    two_rows = len(rows) >= 2 and rng.random() < 0.3
    if two_rows:
        cut = 1 if len(rows) == 2 or rng.random() < 0.5 else 2
        layout = [rows[:cut], rows[cut:]]
    else:
        layout = [rows]
    text = "".join("".join(r) for r in layout)
    files, weights = fonts()
    font_file = str(rng.choice(files, p=weights))
    bg, fg = _colour(rng)
    char_h = 60
    squeeze = float(rng.uniform(0.75, 1.15))
    masks = [row_mask(r, char_h, font_file, squeeze, rng) for r in layout]
    band = rng.random() < 0.35
    band_w = int(char_h * rng.uniform(0.45, 0.65)) if band else 0
    pad_x = int(char_h * rng.uniform(0.15, 0.5))
    width = band_w + 2 * pad_x + max(m.shape[1] for m in masks)
    city = not two_rows and rng.random() < 0.3
    line_gap = int(char_h * rng.uniform(0.12, 0.3))
    top = int(char_h * (rng.uniform(0.45, 0.6) if city else rng.uniform(0.15, 0.35)))
    bottom = int(char_h * rng.uniform(0.15, 0.35))
    height = top + bottom + len(layout) * char_h + (len(layout) - 1) * line_gap
    arr = np.empty((height, width, 3), np.uint8)
    arr[:] = bg
    if rng.random() < 0.7:  # a border
        t = max(1, int(char_h * rng.uniform(0.02, 0.07)))
        cv2.rectangle(arr, (t, t), (width - 1 - t, height - 1 - t), fg, t)
    y = top
    for m in masks:
        x = band_w + pad_x + (width - band_w - 2 * pad_x - m.shape[1]) // 2
        alpha = (m.astype(np.float32) / 255)[..., None]
        region = arr[y : y + char_h, x : x + m.shape[1]]
        region[:] = (region * (1 - alpha) + np.array(fg, np.float32) * alpha).astype(np.uint8)
        y += char_h + line_gap
    if not two_rows and len(rows) >= 2 and rng.random() < 0.25:  # coat of arms / sticker
        r = int(char_h * 0.3)
        cx = int(rng.uniform(band_w + width * 0.25, width * 0.75))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(arr, (cx, top + char_h // 2), r, colour, -1)
    canvas = Image.fromarray(arr)
    draw = ImageDraw.Draw(canvas)
    if band:
        draw.rectangle((0, 0, band_w, height), fill=EU_BLUE)
        if rng.random() < 0.8:
            code = pick(rng, LETTERS, int(rng.integers(1, 4)))
            f = font(font_file, max(8, int(band_w * 0.5)))
            cw, _ = _text_size(draw, code, f)
            draw.text(((band_w - cw) // 2, int(height * 0.62)), code, (235, 235, 235), font=f)
        cx, cy, rr = band_w // 2, int(height * 0.3), int(band_w * 0.28)
        for k in range(12):  # the ring of stars
            a = 2 * np.pi * k / 12
            px, py = cx + rr * np.cos(a), cy + rr * np.sin(a)
            draw.ellipse((px - 1.5, py - 1.5, px + 1.5, py + 1.5), fill=(240, 210, 40))
    if city:  # a small city / state / dealer line
        words = pick(rng, LETTERS, 2) + " " + pick(rng, LETTERS, int(rng.integers(4, 11)))
        f = font(font_file, max(8, int(top * 0.55)))
        cw, _ = _text_size(draw, words, f)
        draw.text(((width + band_w - cw) // 2, int(top * 0.18)), words, fg, font=f)
    out = np.asarray(canvas).copy()
    if rng.random() < 0.3:  # screws
        for sx in (int(width * 0.2), int(width * 0.8)):
            cv2.circle(out, (sx, max(3, int(top * 0.5))), max(2, char_h // 14), (90, 90, 90), -1)
    return out, text


def damage(plate_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The plate set in surroundings, warped, shrunk, blurred, noised and JPEG'd like a crop."""
    h, w = plate_rgb.shape[:2]
    mx, my = rng.uniform(0.0, 0.12) * w, rng.uniform(0.0, 0.25) * h
    out_w, out_h = int(w + 2 * mx), int(h + 2 * my)
    surround = (rng.uniform(20, 180) + rng.normal(0, 15, 3)).astype(np.float32)
    base = np.ones((out_h, out_w, 3), np.float32) * surround
    base += (
        rng.normal(0, 25, (out_h // 8 + 1, out_w // 8 + 1, 1))
        .repeat(8, 0)
        .repeat(8, 1)[:out_h, :out_w]
    )
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = lambda s: rng.uniform(-s, s)  # noqa: E731
    k = 0.06
    dst = np.float32(
        [
            [mx + j(k * w), my + j(k * h)],
            [mx + w + j(k * w), my + j(k * h)],
            [mx + w + j(k * w), my + h + j(k * h)],
            [mx + j(k * w), my + h + j(k * h)],
        ]
    )
    angle = np.radians(rng.normal(0, 3))
    centre = np.array([out_w / 2, out_h / 2], np.float32)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    dst = (dst - centre) @ rot.T + centre
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(
        plate_rgb, matrix, (out_w, out_h), borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, (out_w, out_h))[..., None]
    img = warped.astype(np.float32) * mask + base * (1 - mask)
    if rng.random() < 0.3:  # a shadow or light gradient
        g = np.linspace(rng.uniform(0.4, 1), rng.uniform(0.7, 1.2), out_w, dtype=np.float32)
        img *= g[None, :, None] if rng.random() < 0.5 else np.resize(g, out_h)[:, None, None]
    if rng.random() < 0.2:  # dirt
        dirt = cv2.GaussianBlur(rng.random((out_h, out_w)).astype(np.float32), (0, 0), 4)
        img *= (1 - 0.5 * (dirt > np.quantile(dirt, 0.85)))[..., None]
    # low resolution: the plate's height down to 12-60 px, then blur/noise
    target_h = float(rng.choice([rng.uniform(16, 28), rng.uniform(28, 70)], p=[0.4, 0.6]))
    s = target_h / h
    small = cv2.resize(
        np.clip(img, 0, 255),
        (max(8, int(out_w * s)), max(6, int(out_h * s))),
        interpolation=cv2.INTER_AREA,
    )
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.9))
    contrast, bright = rng.uniform(0.5, 1.2), rng.uniform(-40, 40)
    small = (small - 128) * contrast + 128 + bright
    if rng.random() < 0.15:  # infra-red / night tints
        grey = small.mean(axis=2, keepdims=True)
        tint = np.array([rng.uniform(0.2, 0.6), 1.0, rng.uniform(0.3, 0.8)], np.float32)
        small = grey * tint if rng.random() < 0.5 else np.repeat(grey, 3, axis=2)
    small = small + rng.normal(0, rng.uniform(0, 10), small.shape)
    small = np.clip(small, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, format="JPEG", quality=int(rng.integers(25, 95)))
    return np.asarray(Image.open(buffer).convert("RGB"))


def render(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A damaged synthetic plate crop (RGB uint8) and its text."""
    clean, text = plate(rng)
    return damage(clean, rng), text
