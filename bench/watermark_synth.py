"""Synthetic watermarks (text, tiled text, corner logo) on clean images, with their truth masks.

Every function takes a clean RGB uint8 image and a random.Random (or a seed) and returns
(marked_rgb, truth_mask, marks): truth_mask is 255 where the watermark changed a pixel by more
than TRUTH_LEVELS in some channel, marks a list of dict(kind, text, box). Deterministic for a seed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "sans": DEJAVU / "DejaVuSans.ttf",
    "serif": DEJAVU / "DejaVuSerif.ttf",
    "bold": DEJAVU / "DejaVuSans-Bold.ttf",
    "cjk": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
}
LATIN = ("SAMPLE", "Copyright", "Preview only", "stock photo", "PhotoStudio 2024", "DRAFT")
HANDLES = ("@studio_photo", "@lens.daily", "www.pics-world.com", "@marie_b_photos")
CHINESE = ("抖音号 12345678", "版权所有", "小红书 8866123", "样图 禁止商用", "@摄影师小王")
ANGLES = (0.0, 15.0, -15.0, 30.0, -30.0, 45.0)
COLOURS = ((255, 255, 255), (0, 0, 0), (230, 40, 40), (40, 90, 230), (250, 210, 40))
TRUTH_LEVELS = 6
Marked = tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]


def _rng(rng: random.Random | int) -> random.Random:
    return rng if isinstance(rng, random.Random) else random.Random(rng)


def pick_text(rng: random.Random) -> tuple[str, str]:
    """(text, font key): Latin words, platform handles or Chinese."""
    kind = rng.choice(("latin", "handle", "chinese"))
    if kind == "chinese":
        return rng.choice(CHINESE), "cjk"
    words = LATIN if kind == "latin" else HANDLES
    return rng.choice(words), rng.choice(("sans", "serif", "bold"))


def text_layer(
    text: str, font: str, px: int, fill: tuple[int, int, int], *, outline: int, angle: float
) -> Image.Image:
    """The text as an RGBA image (opaque glyphs, optional dark/light outline), rotated."""
    face = ImageFont.truetype(str(FONTS[font]), px)
    x0, y0, x1, y1 = face.getbbox(text, stroke_width=outline)
    pad = outline + 2
    layer = Image.new("RGBA", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), (0, 0, 0, 0))
    stroke = (0, 0, 0) if sum(fill) > 380 else (255, 255, 255)
    ImageDraw.Draw(layer).text(
        (pad - x0, pad - y0), text, font=face, fill=(*fill, 255),
        stroke_width=outline, stroke_fill=(*stroke, 255),
    )  # fmt: skip
    return layer.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def composite(
    rgb: np.ndarray, layer: Image.Image, x: int, y: int, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Blend an RGBA layer at (x, y) with a global alpha: (new image, truth mask)."""
    height, width = rgb.shape[:2]
    full = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    full.alpha_composite(layer, (max(0, x), max(0, y)), (max(0, -x), max(0, -y)))
    arr = np.asarray(full, np.float32)
    a = arr[:, :, 3:4] / 255.0 * alpha
    out = np.clip(rgb.astype(np.float32) * (1 - a) + arr[:, :, :3] * a + 0.5, 0, 255)
    out8 = out.astype(np.uint8)
    diff = np.abs(out8.astype(np.int16) - rgb.astype(np.int16)).max(axis=2)
    return out8, np.where(diff > TRUTH_LEVELS, 255, 0).astype(np.uint8)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return (0, 0, 0, 0)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def add_text(
    rgb: np.ndarray,
    rng: random.Random | int,
    *,
    text: str | None = None,
    font: str | None = None,
    px: int | None = None,
    angle: float | None = None,
    alpha: float | None = None,
    colour: tuple[int, int, int] | None = None,
) -> Marked:
    """One semi-transparent text watermark somewhere in the image (unset choices at random)."""
    r = _rng(rng)
    picked, picked_font = pick_text(r)
    text, font = text or picked, font or (picked_font if text is None else "sans")
    if font != "cjk" and any(ord(c) > 0x2E80 for c in text):
        font = "cjk"
    height, width = rgb.shape[:2]
    px = px or r.randint(14, min(80, max(15, height // 8)))
    angle = r.choice(ANGLES) if angle is None else angle
    alpha = r.uniform(0.25, 0.7) if alpha is None else alpha
    colour = colour or r.choice(COLOURS)
    outline = r.choice((0, 0, 1, 2)) if px >= 20 else 0
    layer = text_layer(text, font, px, colour, outline=outline, angle=angle)
    x = r.randint(0, max(0, width - layer.width))
    y = r.randint(0, max(0, height - layer.height))
    out, truth = composite(rgb, layer, x, y, alpha)
    return out, truth, [{"kind": "text", "text": text, "box": _box(truth)}]


def add_tiled(rgb: np.ndarray, rng: random.Random | int, text: str | None = None) -> Marked:
    """The same text tiled diagonally over the whole image (usually faint, white or black)."""
    r = _rng(rng)
    picked, font = pick_text(r)
    text = text or picked
    if any(ord(c) > 0x2E80 for c in text):
        font = "cjk"
    height, width = rgb.shape[:2]
    px = r.randint(max(14, height // 40), max(16, height // 14))
    angle = r.choice((30.0, 45.0, -30.0))
    colour = r.choice(COLOURS[:2])
    tile = text_layer(text, font, px, colour, outline=0, angle=angle)
    full = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    step_x, step_y = int(tile.width * 1.4) + px, int(tile.height * 1.2) + px
    for row, y in enumerate(range(-tile.height // 2, height, step_y)):
        for x in range(-(row % 2) * step_x // 2, width, step_x):
            full.alpha_composite(tile, (max(0, x), max(0, y)), (max(0, -x), max(0, -y)))
    out, truth = composite(rgb, full, 0, 0, r.uniform(0.25, 0.5))
    return out, truth, [{"kind": "tiled", "text": text, "box": _box(truth)}]


def logo_layer(text: str, px: int, colour: tuple[int, int, int], shape: str) -> Image.Image:
    """A simple drawn shape (disc, ring, square or triangle) with a word beside it (RGBA)."""
    face = ImageFont.truetype(str(FONTS["bold"]), px)
    x0, y0, x1, y1 = face.getbbox(text)
    side = int(px * 1.6)
    layer = Image.new("RGBA", (side + (x1 - x0) + px, max(side, y1 - y0) + 4), (0, 0, 0, 0))
    draw, fill = ImageDraw.Draw(layer), (*colour, 255)
    box = (1, 1, side - 1, side - 1)
    if shape == "disc":
        draw.ellipse(box, fill=fill)
    elif shape == "ring":
        draw.ellipse(box, outline=fill, width=max(2, side // 8))
    elif shape == "square":
        draw.rounded_rectangle(box, radius=side // 5, fill=fill)
    else:
        draw.polygon([(side // 2, 1), (side - 1, side - 1), (1, side - 1)], fill=fill)
    draw.text(
        (side + px // 3 - x0, (layer.height - (y1 - y0)) // 2 - y0), text, font=face, fill=fill
    )
    return layer


def add_logo(rgb: np.ndarray, rng: random.Random | int) -> Marked:
    """A semi-transparent logo (shape + word) in one corner of the image."""
    r = _rng(rng)
    height, width = rgb.shape[:2]
    px = r.randint(max(14, height // 40), max(18, height // 16))
    text = r.choice(("PHOTO", "Studio", "LENS", "Pixel", "ACME"))
    layer = logo_layer(text, px, r.choice(COLOURS[:2]), r.choice(("disc", "ring", "square", "tri")))
    margin = int(min(width, height) * r.uniform(0.02, 0.06))
    right, bottom = r.random() < 0.7, r.random() < 0.7
    x = width - layer.width - margin if right else margin
    y = height - layer.height - margin if bottom else margin
    out, truth = composite(rgb, layer, x, y, r.uniform(0.3, 0.6))
    return out, truth, [{"kind": "logo", "text": text, "box": _box(truth)}]


def add_any(rgb: np.ndarray, rng: random.Random | int) -> Marked:
    """One watermark of a random kind (text 60 %, tiled 20 %, logo 20 %)."""
    r = _rng(rng)
    roll = r.random()
    if roll < 0.6:
        return add_text(rgb, r)
    return add_tiled(rgb, r) if roll < 0.8 else add_logo(rgb, r)


def background(width: int = 800, height: int = 600, seed: int = 0) -> np.ndarray:
    """A clean synthetic scene: two-colour gradient, soft noise and a few filled shapes."""
    r = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    s = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    c0, c1, c2 = (r.uniform(40, 215, 3).astype(np.float32) for _ in range(3))
    img = c0 * (1 - t) * (1 - s) + c1 * t + c2 * s * (1 - t)
    small = r.normal(0, 18, (height // 16 + 1, width // 16 + 1, 3)).astype(np.float32)
    img = img + np.asarray(Image.fromarray(small[:, :, 0]).resize((width, height)))[:, :, None]
    img = img + r.normal(0, 4, img.shape)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(6):
        x, y = int(r.uniform(0, width)), int(r.uniform(0, height))
        w, h = int(r.uniform(30, width / 4)), int(r.uniform(30, height / 4))
        colour = tuple(int(v) for v in r.uniform(0, 255, 3))
        if r.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
    return np.asarray(pil).copy()


def synthetic(kind: str = "text", seed: int = 0, width: int = 800, height: int = 600) -> Marked:
    """A watermark of kind text / tiled / logo / any on a synthetic clean background."""
    clean = background(width, height, seed)
    adders = {"text": add_text, "tiled": add_tiled, "logo": add_logo, "any": add_any}
    return adders[kind](clean, random.Random(seed))
