"""Faces coarse to fine: a pass at FACE_COARSE_RESOLUTION, then full-scale tiles around weak
candidates; one full pass for small images, crowds, or with it off."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from bench.synthetic import astronaut
from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import FaceOptions, RGBImage
from blur_sdk.core.find.faces import (
    LINEAR_DOWN,
    STRIDE,
    TILE,
    CenterFaceDetector,
    Decoded,
    coarse_to_fine,
    input_scale,
)
from blur_sdk.core.models.runner import bucket
from blur_sdk.errors import ConfigError
from blur_sdk.options import face_options, finder_config
from blur_sdk.settings import Settings, load_settings

FACE_PX = 40.0  # every fake face, at the network's input scale


def heads(height: int, width: int, peaks: list[tuple[int, int, float]]) -> list[np.ndarray]:
    """CenterFace outputs for an input of this size with faces at these map cells."""
    h, w = height // STRIDE, width // STRIDE
    heat = np.zeros((1, 1, h, w), np.float32)
    for y, x, score in peaks:
        heat[0, 0, y, x] = score
    sizes = np.full((1, 2, h, w), np.log(FACE_PX / STRIDE), np.float32)
    return [heat, sizes, np.zeros((1, 2, h, w), np.float32), np.zeros((1, 10, h, w), np.float32)]


def cell(point: float, scale: float) -> int:
    """The map cell whose centre lies nearest an image coordinate at this input scale."""
    return round(point * scale / STRIDE - 0.5)


class FakeInfer:
    """A sure face and a weak candidate in the coarse pass; in a tile, a face at its centre
    and a sure one in its corner (outside what a tile keeps)."""

    def __init__(self, candidates: list[tuple[float, float]]) -> None:
        self.calls: list[tuple[tuple[int, ...], float, tuple[int, int] | None]] = []
        self.candidates = candidates

    def __call__(
        self, image: RGBImage, scale: float, canvas: tuple[int, int] | None
    ) -> list[np.ndarray]:
        self.calls.append((image.shape[:2], scale, canvas))
        if canvas is None:
            h, w = (bucket(round(d * scale), 32) for d in image.shape[:2])
            peaks = [(cell(200, scale), cell(200, scale), 0.9)]
            peaks += [(cell(y, scale), cell(x, scale), 0.1) for x, y in self.candidates]
            return heads(h, w, peaks)
        mid = TILE // STRIDE // 2
        return heads(TILE, TILE, [(mid, mid, 0.5), (2, 2, 0.95)])


def centres(found: Decoded) -> list[tuple[float, float]]:
    return sorted(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b, _, _ in found)


def test_sure_faces_kept_and_candidates_checked_in_full_scale_tiles() -> None:
    image = np.zeros((1000, 2000, 3), np.uint8)
    scale = input_scale(2000, 1000, FaceOptions())  # 0.96: the full pass's scale
    infer = FakeInfer([(1000.0, 500.0)])
    found = coarse_to_fine(infer, image, 0.18, scale, 1280)
    assert found is not None
    (coarse_call, tile_call) = infer.calls
    assert coarse_call == ((1000, 2000), 0.64, None)
    assert tile_call[1:] == (scale, (TILE, TILE))
    assert tile_call[0] == (round(TILE / scale), round(TILE / scale))
    sure, checked = centres(found)
    assert sure == pytest.approx((200, 200), abs=8)
    assert checked == pytest.approx((1000, 500), abs=8)  # the tile's corner face is not kept
    assert [s for _, s, _ in found] == pytest.approx([0.9, 0.5])


def test_candidates_close_together_share_a_tile() -> None:
    infer = FakeInfer([(1000.0, 500.0), (1030.0, 510.0)])
    coarse_to_fine(infer, np.zeros((1000, 2000, 3), np.uint8), 0.18, 0.96, 1280)
    assert len(infer.calls) == 2


def test_a_crowd_of_candidates_gives_way_to_one_full_pass() -> None:
    spread = [(float(x), float(y)) for x in range(400, 1900, 150) for y in range(300, 1000, 150)]
    infer = FakeInfer(spread)
    assert coarse_to_fine(infer, np.zeros((1000, 2000, 3), np.uint8), 0.18, 0.96, 1280) is None
    assert len(infer.calls) == 1


class FakeRunner:
    """Records the input shapes the detector sends; finds nothing."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.batches: list[np.ndarray] = []

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        self.shapes.append(batch.shape)
        self.batches.append(batch)
        return heads(batch.shape[1], batch.shape[2], [])  # (u8 NHWC in)


@pytest.mark.parametrize(
    ("size", "coarse", "shapes"),
    [
        ((800, 600), 1280, [(1, 608, 800, 3)]),  # one pass
        ((1344, 756), 1280, [(1, 768, 1344, 3)]),  # within 5 % of the coarse side: one pass
        ((1920, 1080), 1280, [(1, 736, 1280, 3)]),  # coarse pass; no candidate, no tile
        ((1920, 1080), 0, [(1, 1088, 1920, 3)]),  # off: one full pass
    ],
)
def test_which_passes_run(
    size: tuple[int, int], coarse: int, shapes: list[tuple[int, ...]]
) -> None:
    runner = FakeRunner()
    detector = CenterFaceDetector(runner)  # type: ignore[arg-type]
    image = np.zeros((size[1], size[0], 3), np.uint8)
    assert detector.detect(image, FaceOptions(coarse_resolution=coarse)) == []
    assert runner.shapes == shapes


@pytest.mark.parametrize(
    ("scale", "interpolation"),
    [(2 / 3, cv2.INTER_LINEAR), (LINEAR_DOWN, cv2.INTER_LINEAR), (1 / 3, cv2.INTER_AREA)],
)
def test_shrunk_linearly_down_to_half_then_by_area(scale: float, interpolation: int) -> None:
    runner = FakeRunner()
    image = np.random.default_rng(0).integers(0, 256, (96, 192, 3), np.uint8)
    CenterFaceDetector(runner)._infer(image, scale)  # type: ignore[arg-type]
    size = (round(192 * scale), round(96 * scale))
    expected = cv2.resize(image, size, interpolation=interpolation)
    assert np.array_equal(runner.batches[0][0, : size[1], : size[0]], expected)


def test_warm_up_compiles_the_tile_shape() -> None:
    runner = FakeRunner()
    CenterFaceDetector(runner).warm_up()  # type: ignore[arg-type]
    assert runner.shapes == [(1, TILE, TILE, 3)]


def test_the_setting_is_validated_and_reaches_the_options() -> None:
    assert face_options(load_settings(env={})).coarse_resolution == 1280
    assert face_options(load_settings(env={"FACE_COARSE_RESOLUTION": "0"})).coarse_resolution == 0
    with pytest.raises(ConfigError, match="FACE_COARSE_RESOLUTION"):
        load_settings(env={"FACE_COARSE_RESOLUTION": "100"})


@pytest.mark.models
@pytest.mark.parametrize("coarse", [1280, 0])
def test_a_small_face_in_a_1080p_frame_is_found(settings: Settings, coarse: int) -> None:
    detector = detectors.create("face", "centerface", finder_config(settings))
    frame = np.full((1080, 1920, 3), 110, np.uint8)
    small = np.ascontiguousarray(astronaut()[::4, ::4])  # the face ~30 px high
    frame[700 : 700 + small.shape[0], 1500 : 1500 + small.shape[1]] = small
    options = dataclasses.replace(face_options(settings), coarse_resolution=coarse)
    (face,) = detector.detect(frame, options)
    assert 1500 < face.box[0] < face.box[2] < 1500 + small.shape[1]
    assert 700 < face.box[1] < face.box[3] < 700 + small.shape[0]
