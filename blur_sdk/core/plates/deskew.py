"""Find a licence plate's real (rotated / perspective) quadrilateral inside a detector's box."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from blur_sdk.core.geometry import order_quad

Image8 = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float64]

PAD = 0.15  # crop padding around the box, as a fraction of its width / height
WORK_HEIGHT = 120.0  # the box is resampled to about this height before the search
MIN_BOX_COVER = 0.85  # the quad's bounding box must cover this much of the detector's box
MAX_BBOX_GROWTH = 1.3  # ... and be at most this many times its area
MIN_FILL = 0.25  # quad area / box area, at least
ASPECT = (0.8, 8.0)  # plausible plate width / height
MIN_CONTRAST = 12.0  # grey levels between the bands just inside and just outside the quad


def box_corners(x0: float, y0: float, x1: float, y1: float) -> Points:
    """The box as a quad: TL, TR, BR, BL."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _to_gray(crop: Image8) -> Image8:
    if crop.ndim == 2:
        return crop
    code = {3: cv2.COLOR_RGB2GRAY, 4: cv2.COLOR_RGBA2GRAY}.get(crop.shape[2])
    if code is None:
        return np.asarray(crop[..., 0], dtype=np.uint8)
    return np.asarray(cv2.cvtColor(crop, code), dtype=np.uint8)


def _fit_quad(contour: npt.NDArray[np.int32]) -> Points | None:
    """A 4-corner fit of the contour's convex hull, or None when the hull is not quad-like."""
    hull = cv2.convexHull(contour)
    hull_area = cv2.contourArea(hull)
    if hull_area <= 0:
        return None
    peri = cv2.arcLength(hull, True)
    quad: Points | None = None
    for eps in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float64)
            break
    if quad is None:
        quad = np.asarray(cv2.boxPoints(cv2.minAreaRect(hull)), dtype=np.float64)
    ratio = cv2.contourArea(quad.astype(np.float32)) / hull_area
    if not 0.85 <= ratio <= 1.2:
        return None
    return order_quad(quad)


def _candidates(gray: Image8, min_area: float) -> Iterator[Points]:
    """Quads from Canny edge outlines and from both polarities of an Otsu threshold."""
    smooth = cv2.GaussianBlur(gray, (5, 5), 0)
    mag = np.abs(cv2.Sobel(smooth, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    high = max(20.0, float(np.percentile(mag, 85)))
    edges = cv2.Canny(smooth, high / 2, high)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    _, binary = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    for layer in (edges, binary, cv2.bitwise_not(binary)):
        contours, _ = cv2.findContours(layer, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            _, _, w, h = cv2.boundingRect(contour)
            if w * h < min_area:
                continue
            quad = _fit_quad(np.asarray(contour, dtype=np.int32))
            if quad is not None:
                yield quad


def _contrast(gray: Image8, quad: Points, band: int) -> float:
    """Mean grey level just inside the quad's outline minus just outside it, in absolute value."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(inside, [np.rint(quad).astype(np.int32).reshape(-1, 1, 2)], 255)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    inner = cv2.subtract(inside, cv2.erode(inside, kernel))
    outer = cv2.subtract(cv2.dilate(inside, kernel), inside)
    if not inner.any() or not outer.any():
        return 0.0
    return abs(float(cv2.mean(gray, inner)[0]) - float(cv2.mean(gray, outer)[0]))


def _plausible(quad: Points, box: tuple[float, float, float, float], gray: Image8) -> bool:
    x0, y0, x1, y1 = box
    box_area = (x1 - x0) * (y1 - y0)
    area = cv2.contourArea(quad.astype(np.float32))
    if area < MIN_FILL * box_area:
        return False
    e = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    width, height = (e[0] + e[2]) / 2, (e[1] + e[3]) / 2
    if height <= 0 or not ASPECT[0] <= width / height <= ASPECT[1]:
        return False
    qx0, qy0 = quad.min(axis=0)
    qx1, qy1 = quad.max(axis=0)
    inter = max(0.0, min(x1, qx1) - max(x0, qx0)) * max(0.0, min(y1, qy1) - max(y0, qy0))
    if inter < MIN_BOX_COVER * box_area or (qx1 - qx0) * (qy1 - qy0) > MAX_BBOX_GROWTH * box_area:
        return False
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    if cv2.pointPolygonTest(quad.astype(np.float32).reshape(-1, 1, 2), centre, False) < 0:
        return False
    band = max(2, round(0.06 * height))
    return _contrast(gray, quad, band) >= MIN_CONTRAST


def deskew_plate(image: Image8, box: Sequence[float]) -> Points:
    """The plate's quad (4x2 float, TL,TR,BR,BL, image coords) inside a detector box.

    Searches a padded crop for the largest quad-like outline with a plate-like aspect that
    spans the box (its bounding box covers >= MIN_BOX_COVER of the box, not much more) and
    has a contrasting edge. If none qualifies, the box's own corners are the answer.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("image must be a uint8 array of shape HxW or HxWxC")
    coords = [float(v) for v in box]
    if len(coords) != 4 or not all(math.isfinite(v) for v in coords):
        raise ValueError(f"box must be 4 finite numbers (xmin, ymin, xmax, ymax), got {box!r}")
    x0, y0, x1, y1 = coords
    fallback = box_corners(x0, y0, x1, y1)
    bw, bh = x1 - x0, y1 - y0
    if bw < 4 or bh < 4:
        return fallback
    h_img, w_img = image.shape[:2]
    cx0, cy0 = max(0, math.floor(x0 - PAD * bw)), max(0, math.floor(y0 - PAD * bh))
    cx1, cy1 = min(w_img, math.ceil(x1 + PAD * bw)), min(h_img, math.ceil(y1 + PAD * bh))
    if cx1 - cx0 < 8 or cy1 - cy0 < 8:
        return fallback
    gray = _to_gray(image[cy0:cy1, cx0:cx1])
    scale = min(4.0, max(0.25, WORK_HEIGHT / bh))
    ww, wh = max(8, round((cx1 - cx0) * scale)), max(8, round((cy1 - cy0) * scale))
    sx, sy = ww / (cx1 - cx0), wh / (cy1 - cy0)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    work = np.asarray(cv2.resize(gray, (ww, wh), interpolation=interp), dtype=np.uint8)

    def to_work(x: float, y: float) -> tuple[float, float]:  # pixel-centre convention
        return (x - cx0 + 0.5) * sx - 0.5, (y - cy0 + 0.5) * sy - 0.5

    wbox = (*to_work(x0, y0), *to_work(x1, y1))
    wbox_area = (wbox[2] - wbox[0]) * (wbox[3] - wbox[1])
    best: Points | None = None
    best_area = 0.0
    for quad in _candidates(work, MIN_FILL * wbox_area):
        area = cv2.contourArea(quad.astype(np.float32))
        if area > best_area and _plausible(quad, wbox, work):
            best, best_area = quad, area
    if best is None:
        return fallback
    out = np.empty_like(best)
    out[:, 0] = (best[:, 0] + 0.5) / sx - 0.5 + cx0
    out[:, 1] = (best[:, 1] + 0.5) / sy - 0.5 + cy0
    return out
