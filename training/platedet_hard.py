"""Hard cases for the plate detector's training views: plates out of a car's context (a plate
crop of another training image pasted on the view, at 40-260 px wide) and washed-out plates
(night, infra-red, dirty or blurred: contrast cut around the plate's mean, blur, grey).

Used by train_platedet.py (--paste / --washout): both act on a view (H x W x 3 uint8) and its
plate boxes (x1, y1, x2, y2 in the view's pixels) and return new ones.
"""

from __future__ import annotations

import cv2
import numpy as np


def _covered(box: np.ndarray, rect: tuple[float, float, float, float]) -> float:
    """Share of box's area inside rect."""
    ix = max(0.0, min(box[2], rect[2]) - max(box[0], rect[0]))
    iy = max(0.0, min(box[3], rect[3]) - max(box[1], rect[1]))
    return ix * iy / max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))


def paste_plate(view, boxes, donor, donor_boxes, rng: np.random.Generator):
    """A plate of the donor image (its box grown by 5-30 %) pasted at a random place, size
    and tilt; labelled plates it hides are dropped."""
    usable = [b for b in donor_boxes if b[2] - b[0] >= 16 and b[3] - b[1] >= 6]
    if not usable:
        return view, boxes
    b = usable[int(rng.integers(len(usable)))]
    gx, gy = (b[2] - b[0]) * rng.uniform(0.05, 0.3), (b[3] - b[1]) * rng.uniform(0.05, 0.3)
    h, w = donor.shape[:2]
    x1, y1 = int(max(0, b[0] - gx)), int(max(0, b[1] - gy))
    x2, y2 = int(min(w, b[2] + gx)), int(min(h, b[3] + gy))
    crop = donor[y1:y2, x1:x2]
    size = view.shape[0]
    scale = rng.uniform(40, min(260, size * 0.85)) / max(1, crop.shape[1])
    cw, ch = max(4, round(crop.shape[1] * scale)), max(4, round(crop.shape[0] * scale))
    if ch >= size * 0.9:
        return view, boxes
    inner = np.array([b[0] - x1, b[1] - y1, b[2] - x1, b[3] - y1], np.float64) * scale
    crop = cv2.resize(
        crop, (cw, ch), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    ox, oy = rng.uniform(-0.2 * cw, size - 0.8 * cw), rng.uniform(0, size - ch)
    angle = np.radians(rng.uniform(-8, 8))
    c, s = np.cos(angle), np.sin(angle)
    centre = np.array([ox + cw / 2, oy + ch / 2])
    M = np.array([[c, -s, 0], [s, c, 0]], np.float64)
    M[:, 2] = centre - M[:, :2] @ np.array([cw / 2, ch / 2])
    mask = cv2.warpAffine(np.full((ch, cw), 255, np.uint8), M, (size, size))
    warped = cv2.warpAffine(crop, M, (size, size))
    out = np.where(mask[..., None] > 127, warped, view)
    corners = np.array([[inner[0], inner[1]], [inner[2], inner[1]], [inner[2], inner[3]],
                        [inner[0], inner[3]]]) @ M[:, :2].T + M[:, 2]  # fmt: skip
    new = np.array([corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(),
                    corners[:, 1].max()])  # fmt: skip
    new = np.clip(new, 0, size)
    outer = (float(ox), float(oy), float(ox + cw), float(oy + ch))
    kept = [bx for bx in boxes if _covered(bx, outer) < 0.3]
    visible = (new[2] - new[0]) * (new[3] - new[1]) / max(1e-6, np.prod(inner[2:] - inner[:2]))
    if new[2] - new[0] >= 4 and new[3] - new[1] >= 3 and visible > 0.6:
        kept.append(new)
    return np.ascontiguousarray(out), np.array(kept, np.float32).reshape(-1, 4)


def wash_out(view, boxes, rng: np.random.Generator):
    """Each plate (grown by 20-60 %, feathered edges) with its contrast cut to 0.25-0.6 around
    its mean, blurred, sometimes grey (infra-red) and darker or brighter; a plate left with
    almost no contrast (standard deviation < 8) is kept as it was."""
    out = view.astype(np.float32)
    size_y, size_x = view.shape[:2]
    grey = rng.random() < 0.5
    for b in boxes:
        g = rng.uniform(0.2, 0.6)
        gx, gy = (b[2] - b[0]) * g, (b[3] - b[1]) * g
        x1, y1 = int(max(0, b[0] - gx)), int(max(0, b[1] - gy))
        x2, y2 = int(min(size_x, b[2] + gx)), int(min(size_y, b[3] + gy))
        if x2 - x1 < 4 or y2 - y1 < 4:
            continue
        region = out[y1:y2, x1:x2]
        if grey:
            region = np.repeat(region.mean(axis=2, keepdims=True), 3, axis=2)
        mean = region.mean(axis=(0, 1), keepdims=True)
        region = (region - mean) * rng.uniform(0.25, 0.6) + mean * rng.uniform(0.7, 1.15)
        sigma = rng.uniform(0.3, 1.0) + (b[3] - b[1]) * rng.uniform(0.0, 0.03)
        region = cv2.GaussianBlur(region, (0, 0), sigma)
        if float(region.mean(axis=2).std()) < 8:
            continue
        feather = np.zeros((y2 - y1, x2 - x1), np.float32)
        feather[1:-1, 1:-1] = 1
        edge = max(1.0, min(x2 - x1, y2 - y1) / 8)
        feather = cv2.GaussianBlur(feather, (0, 0), edge)[..., None]
        out[y1:y2, x1:x2] = region * feather + out[y1:y2, x1:x2] * (1 - feather)
    return np.clip(out, 0, 255).astype(np.uint8), boxes
