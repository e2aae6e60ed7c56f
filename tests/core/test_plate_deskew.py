"""Tests for blur_sdk.core.plates.deskew: quad ordering and finding a plate's quad inside a box."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from bench.synthetic import box_quad, rotated_quad
from blur_sdk.core.geometry import box_of
from blur_sdk.core.plates.deskew import deskew_plate, order_quad

Img = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float64]


def plate_scene(angle: float, ph: int = 50, noise: float = 0.0) -> tuple[Img, Quad]:
    """Grey background; a white plate with a dark border and text, warped to a rotated quad."""
    pw = 4 * ph
    plate = np.full((ph, pw, 3), 20, np.uint8)
    b = max(2, ph // 10)
    plate[b:-b, b:-b] = 240
    cv2.putText(
        plate, "AB123", (pw // 8, ph * 3 // 4), cv2.FONT_HERSHEY_SIMPLEX, ph / 40, 0, ph // 15
    )
    h_img, w_img = ph * 6, ph * 8
    quad = rotated_quad((w_img / 2, h_img / 2), pw, ph, angle)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) - 0.5
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    img = np.full((h_img, w_img, 3), 110, np.uint8)
    if noise:
        rng = np.random.default_rng(0)
        img = np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
    warped = cv2.warpPerspective(plate, m, (w_img, h_img))
    cover = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w_img, h_img)) > 127
    img[cover] = warped[cover]
    return img, quad


@pytest.mark.parametrize("angle", [10, 12, 15, -10, -15])
@pytest.mark.parametrize("noise", [0.0, 10.0])
def test_deskew_finds_rotated_plate(angle: float, noise: float) -> None:
    img, quad = plate_scene(angle, noise=noise)
    box = box_of(quad)  # what a detector returns for a rotated plate
    found = deskew_plate(img, box)
    assert found.shape == (4, 2)
    assert np.abs(found - quad).max() < 4.0
    assert np.abs(found - box_quad(*box)).max() > 10  # really deskewed, not the fallback


def test_deskew_box_with_margin_and_large_plate() -> None:
    img, quad = plate_scene(12, ph=150)
    x0, y0, x1, y1 = box_of(quad)
    found = deskew_plate(img, (x0 - 8, y0 - 5, x1 + 8, y1 + 5))  # a slightly loose box
    assert np.abs(found - quad).max() < 0.06 * 150


def test_deskew_upright_plate() -> None:
    img, quad = plate_scene(0)
    found = deskew_plate(img, box_of(quad))
    assert np.abs(found - quad).max() < 3.0


def test_deskew_noise_returns_box_corners() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    box = (100.0, 100.0, 300.0, 160.0)
    np.testing.assert_array_equal(deskew_plate(img, box), box_quad(*box))
    smooth = cv2.GaussianBlur(img, (0, 0), 2)
    np.testing.assert_array_equal(deskew_plate(smooth, box), box_quad(*box))


def test_deskew_flat_and_edge_cases() -> None:
    img = np.full((200, 300, 3), 128, np.uint8)
    box = (50.0, 50.0, 200.0, 100.0)
    np.testing.assert_array_equal(deskew_plate(img, box), box_quad(*box))
    np.testing.assert_array_equal(deskew_plate(img, (10, 10, 12, 40)), box_quad(10, 10, 12, 40))
    outside = (500.0, 500.0, 600.0, 550.0)
    np.testing.assert_array_equal(deskew_plate(img, outside), box_quad(*outside))
    with pytest.raises(ValueError):
        deskew_plate(img, (0, 0, float("nan"), 10))


def test_deskew_small_plate_in_large_image() -> None:
    img, quad = plate_scene(-12, ph=20)
    big = np.full((1080, 1920, 3), 110, np.uint8)
    big[500 : 500 + img.shape[0], 900 : 900 + img.shape[1]] = img
    quad = quad + np.array([900.0, 500.0])
    found = deskew_plate(big, box_of(quad))
    assert np.abs(found - quad).max() < 2.5


@pytest.mark.parametrize("angle", [0, 10, -15, 30, -40])
def test_order_quad_shuffled(angle: float) -> None:
    quad = rotated_quad((100.0, 50.0), 80, 30, angle)
    for perm in itertools.permutations(range(4)):
        np.testing.assert_allclose(order_quad(quad[list(perm)]), quad)


def test_order_quad_perspective_and_errors() -> None:
    quad = np.array([[10.0, 12.0], [90.0, 5.0], [95.0, 40.0], [5.0, 35.0]])
    np.testing.assert_allclose(order_quad(quad[[2, 0, 3, 1]]), quad)
    with pytest.raises(ValueError):
        order_quad(np.zeros((3, 2)))
