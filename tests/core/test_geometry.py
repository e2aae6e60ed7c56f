"""Boxes and quads (blur_sdk.core.geometry): ordering, growing, overlaps, NMS, rounding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.synthetic import box_quad
from blur_sdk.core.geometry import (
    Box,
    as_quad,
    expand_quad,
    iou,
    nms,
    order_quad,
    overlap_of_smaller,
    scale_box,
)


@pytest.mark.parametrize("angle", [0.0, 15.0, -30.0, 40.0])
def test_order_quad(angle: float) -> None:
    points = cv2.boxPoints(((100.0, 50.0), (80.0, 20.0), angle)).astype(np.float64)
    rng = np.random.default_rng(int(angle) + 100)
    tl, tr, br, bl = order_quad(points[rng.permutation(4)])
    assert tl[0] < tr[0] and bl[0] < br[0]  # left before right
    assert tl[1] < bl[1] and tr[1] < br[1]  # top above bottom
    assert np.linalg.norm(tr - tl) == pytest.approx(80.0, abs=1e-3)  # the long side is on top


def test_order_quad_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="4 finite"):
        order_quad([[0, 0], [1, 0], [1, 1]])
    with pytest.raises(ValueError, match="4 finite"):
        order_quad([[0, 0], [1, 0], [1, np.nan], [0, 1]])


def test_expand_quad() -> None:
    grown = expand_quad(box_quad(10, 20, 110, 40), 0.1, 0.5)
    np.testing.assert_allclose(grown, box_quad(0, 10, 120, 50))
    np.testing.assert_allclose(expand_quad(box_quad(0, 0, 10, 10), 0, 0), box_quad(0, 0, 10, 10))


def test_iou_and_overlap() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert overlap_of_smaller((0, 0, 10, 10), (2, 2, 4, 4)) == 1.0


def test_nms() -> None:
    boxes = [(0, 0, 10, 10), (1, 0, 11, 10), (50, 50, 60, 60), (0, 0, 10, 10)]
    assert nms(boxes, [0.5, 0.9, 0.7, 0.4], 0.3) == [1, 2]
    assert nms([], [], 0.3) == []


def _pairwise_nms(boxes: list[Box], scores: list[float], threshold: float) -> list[int]:
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        if all(iou(boxes[i], boxes[j]) <= threshold for j in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_keeps_what_pairwise_greedy_suppression_keeps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, 200, (300, 2))
    sizes = rng.uniform(0, 40, (300, 2))  # (some empty boxes among them)
    boxes = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes, strict=True)]
    scores = [float(s) for s in rng.choice([0.2, 0.5, 0.9], 300)]  # ties keep index order
    for threshold in (0.0, 0.3, 0.7):
        assert nms(boxes, scores, threshold) == _pairwise_nms(boxes, scores, threshold)


def test_scale_box() -> None:
    assert scale_box((10, 10, 30, 50), 1.5, 100, 100) == pytest.approx((5, 0, 35, 60))
    assert scale_box((0, 0, 20, 20), 2.0, 25, 25) == pytest.approx((0, 0, 25, 25))  # clipped


def test_as_quad_rounds() -> None:
    assert as_quad(np.array([[0.04, 1.06], [2, 3], [4, 5], [6, 7]])) == (
        (0.0, 1.1),
        (2.0, 3.0),
        (4.0, 5.0),
        (6.0, 7.0),
    )
