"""Our plate recogniser (trained in training/): a whole plate crop, one or two rows, read by CTC.

The network ends in a 2 x W/4 feature map read as one sequence (top row, then bottom row):
greedy CTC decoding gives a one-row plate's characters and a two-row plate's rows in order. Its
input size (48 x 128) is in the ONNX metadata (`input_size`).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.models.ppocr import TextReading, decode_ctc
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner

BATCHES = (1, 2, 4, 8)


def prepare(crop: npt.NDArray[np.uint8], size: tuple[int, int]) -> FloatArray:
    """An RGB crop as the network's input: resized to size (height, width; aspect ignored),
    CHW, 0..1."""
    h, w = crop.shape[:2]
    input_h, input_w = size
    shrink = w > input_w or h > input_h
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = cv2.resize(crop, (input_w, input_h), interpolation=interpolation)
    out: FloatArray = resized.transpose(2, 0, 1).astype(np.float32) / 255.0
    return out


def read_plates(runner: OpenVinoRunner, crops: list[npt.NDArray[np.uint8]]) -> list[TextReading]:
    """Readings of whole-plate RGB crops, in power-of-two batches (no padded rows)."""
    alphabet = load_alphabet(runner)
    size = input_size(runner)
    readings: list[TextReading] = []
    pending = [prepare(c, size) for c in crops]
    while pending:
        size = max(b for b in BATCHES if b <= len(pending))
        chunk, pending = pending[:size], pending[size:]
        probs = runner.infer(np.stack(chunk))[0]
        readings += [decode_ctc(p, alphabet) for p in probs]
    return readings


def load_alphabet(runner: OpenVinoRunner) -> list[str]:
    """The recogniser's characters (class i + 1; class 0 is the CTC blank), from the ONNX
    metadata."""
    return list(runner.metadata("framework", "alphabet"))


def input_size(runner: OpenVinoRunner) -> tuple[int, int]:
    """The recogniser's input height and width, from the ONNX metadata (`input_size`: "48x128")."""
    height, width = runner.metadata("framework", "input_size").split("x")
    return int(height), int(width)
