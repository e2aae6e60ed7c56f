"""PP-OCRv4 text detection (DBNet) and recognition (CTC): pre-processing and decoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pyclipper

from blur_sdk.core.find.base import RGBImage
from blur_sdk.core.geometry import order_quad
from blur_sdk.core.models.inputs import u8_batch
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner, bucket

DET_MIN_SIDE = 736
DET_MAX_SIDE = 1280  # default; PLATE_MAX_RESOLUTION
# A whole frame's short side is upscaled to this (PLATE_MIN_RESOLUTION), not to PP-OCR's 736
# (plate crops keep 736): 800x600 runs at 800 x 608, not 992 x 736 (docs/plate-reading-history.md).
FRAME_MIN_SIDE = 600
DET_SHAPE_STEP = 32  # DBNet's stride: no more padding than it needs
DET_PAD = 128  # the padding's grey: 0.004 once normalised (x / 127.5 - 1); PP-OCR pads with 0
DB_BIN_THRESHOLD = 0.3
DB_UNCLIP_RATIO = 1.6
REC_HEIGHT = 48
REC_WIDTHS = (160, 320, 480, 640, 960)
REC_BATCHES = (1, 2, 4, 8)


@dataclass(frozen=True)
class TextBox:
    """A detected text quad (TL, TR, BR, BL) in image pixels with its DB score."""

    quad: npt.NDArray[np.float64]
    score: float


@dataclass(frozen=True)
class TextReading:
    """A CTC reading: best text, its confidence, and per-character top-2 alternatives."""

    text: str
    score: float
    chars: tuple[tuple[str, float, str, float], ...]
    xs: tuple[float, ...] = ()  # each character's centre in the input's pixels (PP-OCR: its crop's)


def det_scale(
    width: int, height: int, max_side: int = DET_MAX_SIDE, min_side: int = DET_MIN_SIDE
) -> float:
    """RapidOCR's sizing: short side up to min_side (736), long side at most max_side."""
    scale = max(1.0, min_side / min(width, height))
    return min(scale, max_side / max(width, height))


def normalise_into(out: FloatArray, rgb: RGBImage) -> None:
    """Write an RGB image into a (3, h, w) float32 slice as PP-OCR's input: BGR channels,
    (x / 255 - 0.5) / 0.5. One pass per channel (the astype/divide/transpose chain it replaces
    cost 8-10 ms on a 1280 x 720 input)."""
    for c, channel in enumerate(cv2.split(rgb)[::-1]):
        np.multiply(channel, np.float32(1 / 127.5), out=out[c])
        out[c] -= np.float32(1.0)


def prob_map(
    runner: OpenVinoRunner,
    image: RGBImage,
    max_side: int = DET_MAX_SIDE,
    *,
    interpolation: int = cv2.INTER_LINEAR,
    dynamic: bool = False,
    min_side: int = DET_MIN_SIDE,
) -> FloatArray:
    """DBNet's text probability at the detector's input scale (det_scale), cropped to the
    image (its shape gives the scale back). dynamic: on the runner's dynamic-shape model
    (inputs of many sizes, each seen about once, as plate crops are: no compile each)."""
    height, width = image.shape[:2]
    scale = det_scale(width, height, max_side, min_side)
    new_w, new_h = max(32, round(width * scale)), max(32, round(height * scale))
    # (resized as RGB: a channel-reversed view made cv2 copy the whole image first, +7 ms at 1080p)
    resized = np.asarray(cv2.resize(image, (new_w, new_h), interpolation=interpolation), np.uint8)
    height, width = bucket(new_h, DET_SHAPE_STEP), bucket(new_w, DET_SHAPE_STEP)
    batch = u8_batch(resized, height, width, fill=DET_PAD)  # (normalised in the model's graph)
    prob: FloatArray = runner.infer(batch, dynamic=dynamic)[0][0, 0, :new_h, :new_w]
    return prob


def detect_text(
    runner: OpenVinoRunner,
    image: RGBImage,
    min_score: float,
    max_side: int = DET_MAX_SIDE,
    *,
    dynamic: bool = False,
    min_side: int = DET_MIN_SIDE,
) -> list[TextBox]:
    """Text quads in an RGB image, in its pixels, at DB box score >= min_score."""
    height, width = image.shape[:2]
    prob = prob_map(runner, image, max_side, dynamic=dynamic, min_side=min_side)
    return decode_db(prob, min_score, prob.shape[1] / width, prob.shape[0] / height)


def decode_db(prob: FloatArray, min_score: float, sx: float, sy: float) -> list[TextBox]:
    """DBNet post-processing: binarise, contours, box score, unclip, back to image pixels."""
    bitmap = cv2.dilate((prob > DB_BIN_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours[:1000]:
        rect = cv2.minAreaRect(contour)
        if min(rect[1]) < 3:
            continue
        score = _box_score(prob, contour)
        if score < min_score:
            continue
        expanded = _unclip(cv2.boxPoints(rect))
        if expanded is None:
            continue
        rect = cv2.minAreaRect(expanded)
        if min(rect[1]) < 5:
            continue
        quad = order_quad(cv2.boxPoints(rect)) / np.array([sx, sy])
        boxes.append(TextBox(quad=quad, score=score))
    return boxes


def _box_score(prob: FloatArray, contour: npt.NDArray[Any]) -> float:
    x, y, w, h = cv2.boundingRect(contour)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [contour.reshape(-1, 2) - np.array([x, y])], 1)
    return float(cv2.mean(prob[y : y + h, x : x + w], mask)[0])


def _unclip(points: npt.NDArray[Any]) -> npt.NDArray[np.float32] | None:
    area = cv2.contourArea(points)
    perimeter = cv2.arcLength(points, True)
    if perimeter <= 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(points.astype(np.int64).tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    expanded = offset.Execute(area * DB_UNCLIP_RATIO / perimeter)
    if len(expanded) != 1:
        return None
    return np.array(expanded[0], dtype=np.float32)


def crop_quad(image: RGBImage, quad: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """The quad's content warped upright to height 48 (two-row text stays as one crop)."""
    tl, tr, br, bl = quad
    w = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    h = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    out_w = max(8, min(REC_WIDTHS[-1], round(REC_HEIGHT * w / max(h, 1.0))))
    target = np.array([[0, 0], [out_w, 0], [out_w, REC_HEIGHT], [0, REC_HEIGHT]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return np.asarray(
        cv2.warpPerspective(
            image,
            matrix,
            (out_w, REC_HEIGHT),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ),
        dtype=np.uint8,
    )


def recognise(
    runner: OpenVinoRunner, crops: list[npt.NDArray[np.uint8]], charset: list[str]
) -> list[TextReading]:
    """CTC readings of height-48 RGB crops, batched into a few fixed shapes.

    Crops are grouped by width bucket (no crop is padded to a much wider one) and each group
    is split into power-of-two batches (no padded rows: they would cost as much as real ones).
    """
    readings: list[TextReading] = [TextReading("", 0.0, ())] * len(crops)
    groups: dict[int, list[int]] = {}
    for i, crop in enumerate(crops):
        width = next(w for w in REC_WIDTHS if w >= crop.shape[1])
        groups.setdefault(width, []).append(i)
    for width, group in groups.items():
        pending = list(group)
        while pending:
            size = max(b for b in REC_BATCHES if b <= len(pending))
            chunk, pending = pending[:size], pending[size:]
            batch = np.zeros((size, 3, REC_HEIGHT, width), np.float32)
            for row, i in enumerate(chunk):
                normalise_into(batch[row, :, :, : crops[i].shape[1]], crops[i])
            probs = runner.infer(batch)[0]
            for row, i in enumerate(chunk):
                readings[i] = decode_ctc(probs[row], charset, width)
    return readings


def decode_ctc(probs: FloatArray, charset: list[str], width: int = 0) -> TextReading:
    """Greedy CTC decoding (index 0 = blank) keeping the top-2 classes of each character and,
    given the input's width (its steps spread evenly over it), each character's centre.

    The runner-up is looked for only at the steps that emit a character (sorting every step's
    6,625 PP-OCR classes cost 4-5 ms a batch)."""
    chars, xs = [], []
    step = width / max(len(probs), 1)
    previous = 0
    for t, best in enumerate(probs.argmax(axis=1).tolist()):
        if best not in (0, previous):
            others = probs[t].copy()
            others[best] = -np.inf
            second = int(others.argmax())
            alt = charset[second - 1] if second > 0 else ""
            chars.append((charset[best - 1], float(probs[t, best]), alt, float(probs[t, second])))
            xs.append((t + 0.5) * step)
        previous = best
    text = "".join(c[0] for c in chars)
    score = float(np.mean([c[1] for c in chars])) if chars else 0.0
    return TextReading(text, score, tuple(chars), tuple(xs) if width else ())


def load_charset(runner: OpenVinoRunner) -> list[str]:
    """The recogniser's characters from the ONNX metadata, plus the trailing space class."""
    return [*runner.metadata("framework", "character").split("\n"), " "]
