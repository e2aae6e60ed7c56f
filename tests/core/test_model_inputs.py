"""Tests of u8 image inputs converted in the model's graph (runner.U8Input, manifest `u8_input`);
those marked `models` use the real CenterFace and PP-OCR text detection models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blur_sdk.core.models.inputs import U8Input, float_input, u8_batch
from blur_sdk.core.models.manifest_runners import model_spec, u8_input
from blur_sdk.core.models.ppocr import DET_PAD, normalise_into
from blur_sdk.core.models.runner import input_pixels
from blur_sdk.core.models.store import ModelSpec, load_manifest, verify_model
from blur_sdk.errors import ModelError
from blur_sdk.settings import load_settings
from tests.core.runners import runner_for

PPOCR_DET = U8Input(reverse_channels=True, scale=127.5, mean=1.0)


def model_path(name: str) -> Path:
    spec = model_spec("f32", name, load_manifest())
    try:
        return verify_model(load_settings(env={}).models_dir, spec)
    except ModelError:
        pytest.skip("models missing: run `make models`")


def image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_u8_batch_puts_the_image_top_left_on_the_fill() -> None:
    rgb = image(3, 5)
    batch = u8_batch(rgb, 4, 8, fill=DET_PAD)
    assert batch.shape == (1, 4, 8, 3) and batch.dtype == np.uint8
    np.testing.assert_array_equal(batch[0, :3, :5], rgb)
    assert (batch[0, 3:] == DET_PAD).all() and (batch[0, :, 5:] == DET_PAD).all()


def test_float_input_is_what_numpy_fed_before() -> None:
    rgb = image(3, 5)
    want = np.zeros((1, 3, 3, 5), np.float32)
    normalise_into(want[0], rgb)
    got = float_input(u8_batch(rgb, 3, 5), PPOCR_DET)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, atol=1e-6)
    raw = float_input(u8_batch(rgb, 3, 5), U8Input())  # (CenterFace, the plate detector)
    np.testing.assert_array_equal(raw, rgb.transpose(2, 0, 1)[None].astype(np.float32))


def test_input_pixels_of_either_layout() -> None:
    assert input_pixels((2, 3, 48, 320)) == input_pixels((2, 48, 320, 3), channels_last=True)


def test_the_image_models_take_u8_and_the_recognisers_float() -> None:
    manifest = load_manifest()
    for name in ("centerface", "platedet"):
        assert u8_input(manifest[name]) == U8Input()  # 0..255 as they are
    for name in ("ppocr_det", "ppocr_det_int8"):  # PP-OCR's (x / 255 - 0.5) / 0.5, BGR
        assert u8_input(manifest[name]) == PPOCR_DET
    for name in ("ppocr_rec", "platerec"):  # crops of many widths, padded with PP-OCR's 0
        assert u8_input(manifest[name]) is None


def test_an_unknown_u8_input_key_is_a_model_error() -> None:
    spec = ModelSpec("m", "m.onnx", "0" * 64, "MIT", "here", u8_input={"std": 2.0})
    with pytest.raises(ModelError, match="m: u8_input"):
        u8_input(spec)


@pytest.mark.models
def test_wrong_input_type_is_a_model_error_naming_the_expected_one() -> None:
    path = model_path("centerface")
    with pytest.raises(ModelError, match="expected uint8 NHWC"):
        runner_for(path, precision="f32", u8_input=U8Input()).infer(np.zeros((1, 3, 32, 32)))
    with pytest.raises(ModelError, match="expected float32 NCHW"):
        runner_for(path, precision="f32").infer(u8_batch(image(32, 32), 32, 32))


@pytest.mark.models
@pytest.mark.parametrize("dynamic", [True, False])
def test_centerface_gives_the_same_outputs_from_u8(dynamic: bool) -> None:
    path = model_path("centerface")
    floats = runner_for(path, precision="f32", threads=1)
    u8 = runner_for(path, precision="f32", threads=1, u8_input=U8Input())
    rgb = image(64, 96)
    want = floats.infer(rgb.transpose(2, 0, 1)[None].astype(np.float32), dynamic=dynamic)
    got = u8.infer(u8_batch(rgb, 64, 96), dynamic=dynamic)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.models
def test_ppocr_det_normalised_in_its_graph_as_in_numpy() -> None:
    path = model_path("ppocr_det")  # (the f32 model: INT8's rounding would blur the check)
    floats = runner_for(path, precision="f32", threads=1)
    u8 = runner_for(path, precision="f32", threads=1, u8_input=PPOCR_DET)
    rgb = image(64, 96)
    batch = np.zeros((1, 3, 64, 96), np.float32)
    normalise_into(batch[0], rgb)
    want = floats.infer(batch, dynamic=True)[0]
    got = u8.infer(u8_batch(rgb, 64, 96), dynamic=True)[0]
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert list(u8._compiled) == [] and u8._dynamic is not None
    assert u8._dynamic.shape == (-1, -1, -1, 3)  # (NHWC; the model's own input stays NCHW)
