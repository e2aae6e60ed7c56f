"""Draw the default plate-cover logo (logos/logo.png): a rounded plate reading BLUR-SDK.

Usage: python bench/make_logo.py [OUTPUT]   (default: logos/logo.png beside this folder)
An original drawing made with Pillow only: no third-party artwork, Apache-2.0 like the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 520, 112  # about a European plate's aspect, so the cover fills the plate
SUPERSAMPLE = 4  # draw big, then downscale: smooth edges without antialiasing support
BACKGROUND = (22, 48, 96, 255)
BORDER = (240, 244, 250, 255)
TEXT = "BLUR-SDK"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "logos" / "logo.png"


def make_logo(width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """The logo as an RGBA image with transparent corners."""
    s = SUPERSAMPLE
    w, h = width * s, height * s
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = h // 5
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius, fill=BORDER)
    inset = max(s, h // 16)
    draw.rounded_rectangle(
        (inset, inset, w - 1 - inset, h - 1 - inset), radius - inset, fill=BACKGROUND
    )
    font = ImageFont.load_default(size=round(h * 0.58))
    left, top, right, bottom = draw.textbbox((0, 0), TEXT, font=font)
    text_w, text_h = right - left, bottom - top
    scale = min(1.0, (w - 6 * inset) / text_w)
    if scale < 1.0:
        font = ImageFont.load_default(size=round(h * 0.58 * scale))
        left, top, right, bottom = draw.textbbox((0, 0), TEXT, font=font)
        text_w, text_h = right - left, bottom - top
    origin = ((w - text_w) / 2 - left, (h - text_h) / 2 - top)
    draw.text(origin, TEXT, font=font, fill=BORDER, stroke_width=s, stroke_fill=BORDER)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def main(argv: list[str]) -> int:
    """Write the logo to argv[0] or the default path."""
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    make_logo().save(output, format="PNG", optimize=True)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
