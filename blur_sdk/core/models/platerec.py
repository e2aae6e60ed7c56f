"""Our plate recogniser (trained in training/): a whole plate crop, one or two rows, read by CTC.

The network ends in a 2 x 24 feature map read as one sequence (top row, then bottom row):
greedy CTC decoding gives a one-row plate's characters and a two-row plate's rows in order.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.models.ppocr import TextReading, decode_ctc
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner

INPUT_H, INPUT_W = 48, 96
BATCHES = (1, 2, 4, 8)


def prepare(crop: npt.NDArray[np.uint8]) -> FloatArray:
    """An RGB crop as the network's input: resized to 48x96 (aspect ignored), CHW, 0..1."""
    h, w = crop.shape[:2]
    shrink = w > INPUT_W or h > INPUT_H
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = cv2.resize(crop, (INPUT_W, INPUT_H), interpolation=interpolation)
    out: FloatArray = resized.transpose(2, 0, 1).astype(np.float32) / 255.0
    return out


def read_plates(runner: OpenVinoRunner, crops: list[npt.NDArray[np.uint8]]) -> list[TextReading]:
    """Readings of whole-plate RGB crops, in power-of-two batches (no padded rows)."""
    alphabet = load_alphabet(runner)
    readings: list[TextReading] = []
    pending = [prepare(c) for c in crops]
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
