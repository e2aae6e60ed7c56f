"""Model inputs: u8 NHWC images, converted to a model's float NCHW input inside its graph."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import openvino as ov
from openvino.preprocess import PrePostProcessor

Batch = npt.NDArray[np.float32] | npt.NDArray[np.uint8]  # NCHW float32, or NHWC u8 (U8Input)


@dataclass(frozen=True)
class U8Input:
    """A model fed u8 NHWC images (a manifest entry's `u8_input`): the conversion to its float
    NCHW input, x / scale - mean after reversing the channels where asked (RGB in, BGR model),
    runs inside the compiled graph (OpenVINO's PrePostProcessor), not in numpy: 4x less input
    to write and read, and the same outputs where the graph computes them as numpy did (README)."""

    reverse_channels: bool = False
    scale: float = 1.0
    mean: float = 0.0


def u8_batch(image: npt.NDArray[np.uint8], height: int, width: int, fill: int = 0) -> Batch:
    """A one-image NHWC u8 batch (height, width): the image at its top-left, `fill` elsewhere."""
    batch = np.full((1, height, width, image.shape[2]), fill, np.uint8)
    batch[0, : image.shape[0], : image.shape[1]] = image
    return batch


def float_input(batch: Batch, u8: U8Input | None) -> npt.NDArray[np.float32]:
    """The float NCHW input the model's graph makes of a batch (a copy), computed in numpy: for
    tools that feed the model file itself (training/record_det_inputs.py, for quantising)."""
    if u8 is None:
        return np.array(batch, np.float32)
    pixels = batch[..., ::-1] if u8.reverse_channels else batch
    nchw = pixels.transpose(0, 3, 1, 2).astype(np.float32)
    return np.ascontiguousarray(nchw / np.float32(u8.scale) - np.float32(u8.mean))


def for_batch(model: ov.Model, shape: tuple[int, ...], u8: U8Input | None) -> ov.Model:
    """A copy of the model for batches of this shape (-1: dynamic): NCHW float32, or with u8,
    NHWC u8 converted and normalised in its graph as u8 says."""
    model = model.clone()
    nchw = (shape[0], shape[-1], *shape[1:-1]) if u8 else shape
    model.reshape({model.inputs[0].any_name: ov.PartialShape(list(nchw))})
    return model if u8 is None else _with_u8_input(model, u8)


def _with_u8_input(model: ov.Model, spec: U8Input) -> ov.Model:
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    steps = ppp.input().preprocess().convert_element_type(ov.Type.f32)
    if spec.reverse_channels:
        steps.reverse_channels()
    if spec.scale != 1.0:
        steps.scale(spec.scale)
    if spec.mean != 0.0:
        steps.mean(spec.mean)
    return ppp.build()
