"""Text blocks: OCR lines that belong together (overlapping horizontally, less than a line height
apart) merged into one block, read top to bottom."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from blur_sdk.core.geometry import linked_groups
from blur_sdk.core.watermark.finder import TextMark

Rect = tuple[int, int, int, int]  # x, y, w, h in image pixels


@dataclass(frozen=True)
class TextBlock:
    """One block: its lines (top to bottom) and the rectangle around them."""

    lines: tuple[TextMark, ...]
    rect: Rect

    @property
    def word(self) -> str:
        """The lines' text joined by spaces."""
        return " ".join(line.text for line in self.lines if line.text)


def _extent(mark: TextMark) -> tuple[float, float, float, float]:
    xs, ys = mark.quad[:, 0], mark.quad[:, 1]
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _together(a: TextMark, b: TextMark) -> bool:
    ax0, ay0, ax1, ay1 = _extent(a)
    bx0, by0, bx1, by1 = _extent(b)
    if min(ax1, bx1) <= max(ax0, bx0):
        return False  # no horizontal overlap
    gap = max(ay0, by0) - min(ay1, by1)  # negative when they overlap vertically
    return gap < min(ay1 - ay0, by1 - by0)


def rect_of(marks: Sequence[TextMark], width: int, height: int) -> Rect:
    """The integer rectangle around the marks, clipped to the image."""
    points = np.concatenate([m.quad for m in marks])
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(x1)), min(height, int(y1))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def text_blocks(marks: Sequence[TextMark], width: int, height: int) -> list[TextBlock]:
    """The marks grouped into blocks (transitively), blocks in reading order."""
    blocks = []
    for group in linked_groups(marks, _together):
        lines = tuple(sorted(group, key=lambda m: (_extent(m)[1], _extent(m)[0])))
        blocks.append(TextBlock(lines, rect_of(lines, width, height)))
    return sorted(blocks, key=lambda b: (b.rect[1], b.rect[0]))
