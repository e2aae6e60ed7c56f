"""Inpainters: each fills only the mask, toward the surroundings, on crops around the holes."""

from __future__ import annotations

import numpy as np
import pytest

from blur_sdk.core.redact import Redaction, redact
from blur_sdk.core.redact.inpaint import crop_boxes, inpaint, inpainter_names, region_mask
from blur_sdk.core.regions import TEXT, Region


def _scene() -> np.ndarray:
    """Vertical stripes (a structure PatchMatch should continue) over a gradient."""
    y, x = np.mgrid[0:120, 0:200]
    stripes = np.where((x // 8) % 2 == 0, 60, 180)
    rgb = np.stack([stripes, stripes * 0 + 100 + y // 2, 200 - stripes // 2], axis=2)
    return rgb.astype(np.uint8)


def _hole(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return mask


@pytest.mark.parametrize("method", ["patchmatch", "telea", "ns"])
def test_each_inpainter_fills_only_the_mask_toward_the_original(method: str) -> None:
    clean = _scene()
    mask = _hole(clean.shape[:2], (80, 40, 120, 80))
    damaged = clean.copy()
    damaged[mask > 0] = (255, 0, 255)
    out = inpaint(damaged, mask, method)
    assert np.array_equal(out[mask == 0], damaged[mask == 0])
    before = np.abs(damaged[mask > 0].astype(int) - clean[mask > 0]).mean()
    after = np.abs(out[mask > 0].astype(int) - clean[mask > 0]).mean()
    assert after < before / 2, (before, after)
    assert not np.array_equal(damaged, out)


def test_patchmatch_continues_texture_better_than_a_smooth_fill() -> None:
    clean = _scene()
    mask = _hole(clean.shape[:2], (60, 30, 140, 90))
    damaged = clean.copy()
    damaged[mask > 0] = 0
    errors = {}
    for method in ("patchmatch", "telea"):
        out = inpaint(damaged, mask, method)
        errors[method] = np.abs(out[mask > 0].astype(int) - clean[mask > 0]).mean()
    assert errors["patchmatch"] < errors["telea"], errors


def test_an_empty_mask_changes_nothing_and_bad_arguments_are_refused() -> None:
    clean = _scene()
    empty = np.zeros(clean.shape[:2], np.uint8)
    assert np.array_equal(inpaint(clean, empty), clean)
    assert set(inpainter_names()) >= {"patchmatch", "telea", "ns"}
    with pytest.raises(ValueError, match="unknown inpainter"):
        inpaint(clean, empty, "lama")
    with pytest.raises(ValueError, match="does not match"):
        inpaint(clean, np.zeros((5, 5), np.uint8))


def test_crops_cover_each_group_of_holes_with_a_margin() -> None:
    mask = np.zeros((400, 600), np.uint8)
    mask[10:20, 10:30] = 255  # one small hole top-left
    mask[300:360, 400:500] = 255  # one large hole bottom-right
    boxes = crop_boxes(mask)
    assert len(boxes) == 2
    small, large = sorted(boxes)
    assert small[0] == 0 and small[2] >= 30 + 24 and small[2] < 200
    assert large[0] <= 400 - 30 and large[2] >= 500 + 30  # margin >= half its smaller side


def test_the_inpaint_redactor_fills_region_polygons() -> None:
    clean = _scene()
    damaged = clean.copy()
    damaged[50:70, 90:130] = (255, 0, 255)
    corners = ((90.0, 50.0), (130.0, 50.0), (130.0, 70.0), (90.0, 70.0))
    region = Region(TEXT, corners, (90.0, 50.0, 130.0, 70.0), 1.0)
    assert region_mask(clean.shape[:2], [region], 0.0)[60, 100] == 255
    out = redact(damaged, [region], Redaction("inpaint", margin=0.1))
    assert not np.all(out[52:68, 92:128] == (255, 0, 255), axis=2).any()
