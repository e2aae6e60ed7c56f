"""Our plate detector (CenterNet-style heads on the CenterFace trunk, trained in training/)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from blur_sdk.core.find import register
from blur_sdk.core.find.base import PlateDetection, PlateFinder, PlateOptions, RGBImage
from blur_sdk.core.find.config import FinderConfig
from blur_sdk.core.find.text_plates import ranking_formats
from blur_sdk.core.geometry import Box, as_quad, expand_quad, heatmap_peaks, nms
from blur_sdk.core.models.inputs import u8_batch
from blur_sdk.core.models.manifest_runners import model_runners
from blur_sdk.core.models.ppocr import crop_quad, load_charset
from blur_sdk.core.models.runner import FloatArray, OpenVinoRunner, bucket
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.deskew import box_corners, deskew_plate
from blur_sdk.core.plates.emblems import read_plate_lines

STRIDE = 4
SHAPE_STEP = 32  # the network's stride: no more padding than it needs
NMS_IOU = 0.3
READ_MARGIN = (0.15, 0.05)  # boxes can be tight: read a little beyond them (x, y fractions)
DOWNSCALE = cv2.INTER_LINEAR  # INTER_AREA: same united figures, +9 ms at 1080p, +30 at 4K
MIN_LONG_SIDE = 320  # small images are upscaled to this before detection


def decode_platedet(
    outputs: list[FloatArray], threshold: float, scale: float, width: int, height: int
) -> list[tuple[Box, float]]:
    """Heatmap peaks (3x3 local maxima >= threshold) with size/offset -> boxes in image pixels."""
    heatmap, sizes, offsets = (o[0] for o in outputs)
    heat = heatmap[0]
    found: list[tuple[Box, float]] = []
    for y, x in zip(*heatmap_peaks(heat, threshold), strict=True):
        box_h = float(np.exp(sizes[0, y, x])) * STRIDE
        box_w = float(np.exp(sizes[1, y, x])) * STRIDE
        cy = (y + float(offsets[0, y, x]) + 0.5) * STRIDE
        cx = (x + float(offsets[1, y, x]) + 0.5) * STRIDE
        box = (
            max(0.0, (cx - box_w / 2) / scale),
            max(0.0, (cy - box_h / 2) / scale),
            min(float(width), (cx + box_w / 2) / scale),
            min(float(height), (cy + box_h / 2) / scale),
        )
        if box[2] > box[0] and box[3] > box[1]:
            found.append((box, float(heat[y, x])))
    keep = nms([f[0] for f in found], [f[1] for f in found], NMS_IOU)
    return [found[i] for i in keep]


class PlateDetDetector(PlateFinder):
    """Plates as objects (not through their text): boxes, deskewed quads, then read by PP-OCR."""

    name = "platedet"
    confirms_text = True  # with it, the engine keeps text-found plates only where it agrees

    def __init__(
        self,
        det: OpenVinoRunner,
        rec: OpenVinoRunner,
        *,
        long_side: int,
        threshold: float,
        confirm_threshold: float,
        promote_threshold: float = 1.0,
    ) -> None:
        self.det = det
        self.rec = rec
        self.charset = load_charset(rec)
        self.long_side = long_side
        self.threshold = threshold  # a plate on its own
        self.confirm_threshold = min(confirm_threshold, threshold)  # evidence for a text plate
        # a hit weaker than that is only read: a plate where it reads as one (promote)
        self.promote_threshold = min(promote_threshold, self.confirm_threshold)

    def boxes(self, image: RGBImage) -> list[tuple[Box, float]]:
        """Plate boxes in image pixels with their scores."""
        height, width = image.shape[:2]
        scale = min(self.long_side, max(width, height, MIN_LONG_SIDE)) / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = DOWNSCALE if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        batch = u8_batch(
            np.asarray(resized, np.uint8), bucket(new_h, SHAPE_STEP), bucket(new_w, SHAPE_STEP)
        )
        threshold = self.promote_threshold
        return decode_platedet(self.det.infer(batch), threshold, scale, width, height)

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        """Plates (score >= threshold: deskewed quad, not read yet) and weaker evidence (box).

        The engine keeps the first and uses the second to confirm text-found plates (hits >=
        the confirm threshold) and as places a reader may find a plate at (promote); it then
        calls complete() for the plates that no text-found plate already reads.
        """
        threshold = self.threshold if options.threshold_d is None else options.threshold_d
        found = self.boxes(image)
        plates = [
            PlateDetection(
                as_quad(deskew_plate(image, box)), box, "", round(score, 3), 0.0, source=self.name
            )
            for box, score in found
            if score >= threshold
        ]
        plates += [
            PlateDetection(
                as_quad(box_corners(*box)), box, "", round(score, 3), 0.0, source=self.name,
                evidence_only=True, supports_text=score >= self.confirm_threshold,
            )
            for box, score in found
            if score < threshold
        ]  # fmt: skip
        return plates

    def complete(
        self, image: RGBImage, plates: list[PlateDetection], options: PlateOptions
    ) -> list[PlateDetection]:
        """The plates with this detector's unread plates read by PP-OCR (one batch)."""
        unread = [
            i
            for i, p in enumerate(plates)
            if p.source == self.name and not p.text and not p.evidence_only
        ]
        if not unread:
            return plates
        crops = [crop_quad(image, expand_quad(plates[i].polygon, *READ_MARGIN)) for i in unread]
        formats = ranking_formats(options)
        out = list(plates)
        for i, reading in zip(unread, read_plate_lines(self.rec, crops, self.charset), strict=True):
            ranked = plate_text.candidates(reading.chars, formats)
            if ranked:
                out[i] = replace(
                    plates[i], text=ranked[0][0], oscore=round(reading.score, 3),
                    candidates=tuple(ranked),
                )  # fmt: skip
        return out


@register("plate", "platedet")
def create_platedet(config: FinderConfig) -> PlateDetDetector:
    """Build the detector from our bundled weights and the PP-OCRv4 recogniser."""
    det, rec = model_runners(config.runner, "platedet", "ppocr_rec")
    return PlateDetDetector(
        det,
        rec,
        long_side=config.platedet_resolution,
        threshold=config.platedet_threshold,
        confirm_threshold=config.platedet_confirm_threshold,
        promote_threshold=config.platedet_promote_threshold,
    )
