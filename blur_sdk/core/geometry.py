"""Box and quad helpers shared by detectors, merging and rendering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

T = TypeVar("T")
Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in pixels
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def overlap_of_smaller(a: Box, b: Box) -> float:
    """Intersection area divided by the smaller box's area."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller if smaller > 0 else 0.0


def nms(boxes: Sequence[Box], scores: Sequence[float], threshold: float) -> list[int]:
    """Indices of boxes kept by greedy non-maximum suppression, best first (a box is dropped
    when its IoU with a kept, better-scoring box exceeds threshold). Vectorised per kept box:
    a crowd's thousands of raw face hits took 10 % of the face stage in pairwise Python."""
    if not boxes:
        return []
    b = np.asarray(boxes, np.float64)
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    suppressed = np.zeros(len(b), bool)
    keep: list[int] = []
    for i in np.argsort(-np.asarray(scores, np.float64), kind="stable"):
        if suppressed[i]:
            continue
        keep.append(int(i))
        iw = np.maximum(0.0, np.minimum(b[i, 2], b[:, 2]) - np.maximum(b[i, 0], b[:, 0]))
        ih = np.maximum(0.0, np.minimum(b[i, 3], b[:, 3]) - np.maximum(b[i, 1], b[:, 1]))
        inter = iw * ih
        union = areas[i] + areas - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = np.where(union > 0, inter / union, 0.0)
        suppressed |= overlap > threshold
    return keep


def scale_box(box: Box, factor: float, width: int, height: int) -> Box:
    """The box scaled about its centre, clipped to the image."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (
        max(0.0, cx - hw),
        max(0.0, cy - hh),
        min(float(width), cx + hw),
        min(float(height), cy + hh),
    )


def box_of(points: npt.ArrayLike, width: int | None = None, height: int | None = None) -> Box:
    """Axis-aligned bounding box of points, optionally clipped to the image."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x1, y1 = float(pts[:, 0].min()), float(pts[:, 1].min())
    x2, y2 = float(pts[:, 0].max()), float(pts[:, 1].max())
    if width is not None and height is not None:
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(float(width), x2), min(float(height), y2)
    return (x1, y1, x2, y2)


def order_quad(points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Order 4 points as TL, TR, BR, BL (clockwise on screen, y down), robust to rotation.

    The points are sorted by angle about their centroid; the start is the vertex whose edge
    to the next one points most nearly along +x (the top edge), so rotations up to 45 degrees
    either way keep TL at the top-left.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape != (4, 2) or not np.isfinite(pts).all():
        raise ValueError(f"order_quad needs 4 finite (x, y) points, got shape {pts.shape}")
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    cyc = pts[np.argsort(angles, kind="stable")]
    d = np.roll(cyc, -1, axis=0) - cyc
    edge_angle = np.abs(np.arctan2(d[:, 1], d[:, 0]))
    mid_y = (cyc[:, 1] + np.roll(cyc, -1, axis=0)[:, 1]) / 2
    start = min(range(4), key=lambda k: (round(float(edge_angle[k]), 9), float(mid_y[k])))
    return np.roll(cyc, -start, axis=0)


def as_quad(points: npt.ArrayLike) -> Quad:
    """A (4, 2) array as the Quad tuple type, rounded to 0.1 px."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    p = [(round(float(x), 1), round(float(y), 1)) for x, y in pts]
    return (p[0], p[1], p[2], p[3])


def expand_quad(points: npt.ArrayLike, margin_x: float, margin_y: float) -> npt.NDArray[np.float64]:
    """Grow a TL,TR,BR,BL quad by margins (fractions of its width/height) along its own axes."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    tl, tr, br, bl = pts
    along = ((tr - tl) + (br - bl)) / 2
    across = ((bl - tl) + (br - tr)) / 2
    dx, dy = along * margin_x, across * margin_y
    return np.array([tl - dx - dy, tr + dx - dy, br + dx + dy, bl - dx + dy])


def linked_groups(items: Sequence[T], linked: Callable[[T, T], bool]) -> list[list[T]]:
    """The items grouped transitively by `linked` (union-find), each group in input order,
    groups in the order of their first item."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if linked(items[i], items[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[T]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    return list(groups.values())


def heatmap_peaks(
    heat: npt.NDArray[np.float32], low: float, high: float = np.inf
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(ys, xs) of a heatmap's 3x3 local maxima scoring in [low, high)."""
    local_max = heat == cv2.dilate(heat, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((heat >= low) & (heat < high) & local_max)
    return ys, xs
