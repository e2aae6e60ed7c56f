"""Cover plates with a logo: warped in perspective onto each plate polygon, the rest blurred."""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from blur_sdk.core.redact import Redaction, polygons_of, register
from blur_sdk.core.redact.blur import (
    Polygon,
    as_points,
    blur_plates,
    check_image,
    quad_size,
)
from blur_sdk.core.redact.filters import Image8
from blur_sdk.core.regions import Region
from blur_sdk.errors import InputError

MAX_LOGO_SIDE = 4096
LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)


def _letterbox(logo: npt.NDArray[np.float32], cw: int, ch: int) -> npt.NDArray[np.float32]:
    """Fit a premultiplied RGBA logo in a cw x ch canvas, aspect kept, transparent padding."""
    h, w = logo.shape[:2]
    k = min(cw / w, ch / h)
    nw, nh = min(cw, max(1, round(w * k))), min(ch, max(1, round(h * k)))
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    fitted = cv2.resize(logo, (nw, nh), interpolation=interp)
    top, left = (ch - nh) // 2, (cw - nw) // 2
    padded = cv2.copyMakeBorder(
        fitted, top, ch - nh - top, left, cw - nw - left, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0)
    )
    return np.asarray(padded, dtype=np.float32)


def _on_plate(
    logo: npt.NDArray[np.float32], tw: int, th: int, logo_size: float, screws: bool
) -> npt.NDArray[np.float32]:
    """The plate's canvas: the logo letterboxed at logo_size of it, centred, and screw heads."""
    lw, lh = max(1, round(tw * logo_size)), max(1, round(th * logo_size))
    fitted = _letterbox(logo, lw, lh)
    top, left = (th - lh) // 2, (tw - lw) // 2
    padded = cv2.copyMakeBorder(
        fitted, top, th - lh - top, left, tw - lw - left, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0)
    )
    canvas = np.asarray(padded, dtype=np.float32)
    if screws:
        radius = max(1, round(0.09 * th))
        for cx in (round(0.09 * tw), round(0.91 * tw)):
            centre = (cx, th // 2)  # premultiplied RGBA: an opaque steel disc with a slot
            cv2.circle(canvas, centre, radius, (175, 178, 182, 255), -1, cv2.LINE_AA)
            cv2.circle(canvas, centre, radius, (90, 92, 96, 255), max(1, radius // 4), cv2.LINE_AA)
            slot = (max(1, round(radius * 0.7)), 0)
            p0, p1 = (centre[0] - slot[0], centre[1]), (centre[0] + slot[0], centre[1])
            cv2.line(canvas, p0, p1, (60, 62, 66, 255), max(1, radius // 3), cv2.LINE_AA)
    return canvas


def cover_with_logo(
    image: Image8,
    polygons: Sequence[Polygon],
    logo_rgba: Image8,
    margin: float = 0.1,
    *,
    logo_size: float = 1.0,
    screws: bool = False,
    copy: bool = True,
) -> Image8:
    """A copy of `image` (`image` itself, written over, without `copy`) with each plate
    polygon blurred at intensity 10, then covered by the logo (aspect kept by transparent
    letterboxing, at `logo_size` of the plate, centred; with two screw heads when asked)
    warped in perspective onto the polygon."""
    check_image(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("cover_with_logo needs an HxWx3 image")
    if (
        not isinstance(logo_rgba, np.ndarray)
        or logo_rgba.dtype != np.uint8
        or logo_rgba.ndim != 3
        or logo_rgba.shape[2] not in (3, 4)
        or logo_rgba.shape[0] == 0
        or logo_rgba.shape[1] == 0
    ):
        raise ValueError("logo must be a non-empty uint8 HxWx4 (RGBA) or HxWx3 array")
    out = blur_plates(image, polygons, 10, margin, copy=copy)
    logo = logo_rgba.astype(np.float32)
    if logo.shape[2] == 3:
        logo = np.dstack([logo, np.full(logo.shape[:2], 255.0, np.float32)])
    logo[..., :3] *= logo[..., 3:] / 255.0  # premultiply: no colour fringes when resampled
    h_img, w_img = image.shape[:2]
    for polygon in polygons:
        pts = as_points(polygon)
        if pts is None or len(pts) != 4 or abs(cv2.contourArea(pts.astype(np.float32))) < 1.0:
            continue
        width, height = quad_size(pts)
        if width < 1 or height < 1:
            continue
        x0, y0 = max(0, math.floor(pts[:, 0].min())), max(0, math.floor(pts[:, 1].min()))
        x1 = min(w_img, math.ceil(pts[:, 0].max()) + 1)
        y1 = min(h_img, math.ceil(pts[:, 1].max()) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        # A canvas with the polygon's aspect, at about its on-screen resolution (capped).
        edges = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1)
        k = max(max(edges[0], edges[2]) / width, max(edges[1], edges[3]) / height)
        cap = 2 * max(h_img, w_img)
        tw, th = min(cap, math.ceil(width * k)), min(cap, math.ceil(height * k))
        boxed = _on_plate(logo, tw, th, logo_size, screws)
        src = np.array([[-0.5, -0.5], [tw - 0.5, -0.5], [tw - 0.5, th - 0.5], [-0.5, th - 0.5]])
        dst = pts - (x0, y0)
        try:
            matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
        except cv2.error:
            continue  # degenerate quad: it stays blurred
        warped = cv2.warpPerspective(
            boxed, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )  # fmt: skip
        alpha = np.clip(warped[..., 3:] / 255.0, 0.0, 1.0)
        bg = out[y0:y1, x0:x1].astype(np.float32)
        mixed = warped[..., :3] + bg * (1.0 - alpha)
        out[y0:y1, x0:x1] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def load_logo(data: bytes) -> Image8:
    """Decode logo bytes (PNG, JPEG, WebP, GIF, BMP, TIFF) to an HxWx4 RGBA uint8 array."""
    if not data:
        raise InputError("logo: the file is empty", field="logo")
    try:
        with Image.open(io.BytesIO(data), formats=LOGO_FORMATS) as img:
            w, h = img.size
            if w < 1 or h < 1:
                raise InputError("logo: the image has no pixels", field="logo")
            if max(w, h) > MAX_LOGO_SIDE:
                raise InputError(
                    f"logo: the image is {w}x{h}, more than {MAX_LOGO_SIDE} px on a side",
                    field="logo",
                )
            rgba = img.convert("RGBA")
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as e:
        raise InputError(
            f"logo: not a readable image (supported: {', '.join(LOGO_FORMATS)})", field="logo"
        ) from e
    return np.array(rgba, dtype=np.uint8)


@register("logo")
def _cover_regions(
    image: Image8, regions: Sequence[Region], redaction: Redaction, in_place: bool
) -> Image8:
    """Plates covered by the redaction's logo (polygon regions; others are blurred at 10)."""
    if redaction.logo is None:
        raise ValueError("the logo redactor needs a logo image")
    return cover_with_logo(
        image, polygons_of(regions), redaction.logo, redaction.margin,
        logo_size=redaction.logo_size, screws=redaction.screws, copy=not in_place,
    )  # fmt: skip
