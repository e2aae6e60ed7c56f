"""Numpy-only pre-processing and decoding for platedet.onnx (usable from any venv with numpy+cv2).

Pre-processing (prepare):
  * image as RGB uint8 (convert from BGR if read with OpenCV);
  * scale factor s = long_side / max(width, height) (e.g. 640 or 960; up- or down-scaling);
    resize to (round(w*s), round(h*s)) with INTER_AREA when s < 1 else INTER_LINEAR;
  * paste at the top-left of a zero (black) canvas whose H and W are the resized size rounded
    up to a multiple of 32;
  * to float32 in 0..255 (no mean, no std), HWC -> CHW, add batch axis: [1,3,H,W].
Decoding (decode): outputs heatmap [1,1,H/4,W/4], size [1,2,H/4,W/4], offset [1,2,H/4,W/4]
  * peaks: cells where heatmap == 3x3 max-pool(heatmap) and heatmap >= threshold;
  * for a peak at cell (y, x): bh = exp(size[0,y,x]) * 4, bw = exp(size[1,y,x]) * 4,
    cy = (y + offset[0,y,x] + 0.5) * 4, cx = (x + offset[1,y,x] + 0.5) * 4;
    box = (cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2) in the padded input; divide by s and clip
    to the original image;
  * greedy NMS at IoU 0.3 (highest score first).
"""

from __future__ import annotations

import cv2
import numpy as np

STRIDE = 4
PAD = 32
NMS_IOU = 0.3


def prepare(rgb: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """RGB uint8 HxWx3 -> ([1,3,H,W] float32 0..255, scale)."""
    h, w = rgb.shape[:2]
    s = long_side / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (nw, nh), interpolation=interp)
    ph, pw = -(-nh // PAD) * PAD, -(-nw // PAD) * PAD
    batch = np.zeros((1, 3, ph, pw), np.float32)
    batch[0, :, :nh, :nw] = resized.transpose(2, 0, 1)
    return batch, s


def maxpool3(x: np.ndarray) -> np.ndarray:
    """3x3 max filter with stride 1 (same size)."""
    p = np.pad(x, 1, mode="constant", constant_values=-np.inf)
    out = x.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(out, p[dy : dy + x.shape[0], dx : dx + x.shape[1]], out=out)
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, thr: float = NMS_IOU) -> list[int]:
    order = np.argsort(-scores)
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            a, b = boxes[i], boxes[j]
            iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = iw * ih
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
            if union > 0 and inter / union > thr:
                ok = False
                break
        if ok:
            keep.append(int(i))
    return keep


def decode(heat, size, offset, threshold: float, scale: float, width: int, height: int):  # noqa: PLR0917
    """-> list of ((x1, y1, x2, y2), score) in original-image pixels, after NMS."""
    hm = heat[0, 0]
    peaks = (hm >= threshold) & (hm == maxpool3(hm))
    ys, xs = np.nonzero(peaks)
    if len(ys) == 0:
        return []
    bh = np.exp(size[0, 0, ys, xs]) * STRIDE
    bw = np.exp(size[0, 1, ys, xs]) * STRIDE
    cy = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1) / scale
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    scores = hm[ys, xs]
    ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores = boxes[ok], scores[ok]
    keep = nms(boxes, scores)
    return [(tuple(float(v) for v in boxes[i]), float(scores[i])) for i in keep]


# ---- metrics (same definitions as /work/main/bench/accuracy.py) ----


def box_iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def expand(box, mode: str):
    """Blur region of a predicted box. none; h03: +0.3*h on every side (brief's rule);
    wh03: +0.3*w left/right and +0.3*h top/bottom (the project's expand_quad, plate_margin 0.3).
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if mode == "none":
        return box
    if mode == "h03":
        return (x1 - 0.3 * h, y1 - 0.3 * h, x2 + 0.3 * h, y2 + 0.3 * h)
    if mode == "wh03":
        return (x1 - 0.3 * w, y1 - 0.3 * h, x2 + 0.3 * w, y2 + 0.3 * h)
    raise ValueError(mode)


def coverage(shape, regions, gt) -> float:
    """Fraction of the ground-truth box covered by the union of regions (pixel mask)."""
    mask = np.zeros(shape, np.uint8)
    for r in regions:
        x1, y1, x2, y2 = (round(v) for v in r)
        cv2.rectangle(mask, (x1, y1), (x2, y2), 1, -1)
    x1, y1 = max(0, round(gt[0])), max(0, round(gt[1]))
    x2, y2 = round(gt[2]), round(gt[3])
    area = max(1, (x2 - x1) * (y2 - y1))
    return float(mask[y1:y2, x1:x2].sum()) / area
