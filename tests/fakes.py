"""Fake finders and engines (the fast tier): they find what they are told, or coloured blobs, and
record what they were called with."""

from __future__ import annotations

import time
from collections.abc import Sequence

import cv2
import numpy as np

from bench.synthetic import FACE_BOX, PLATE_QUAD, box_quad
from blur_sdk.core.find.base import (
    FaceDetection,
    FaceOptions,
    PlateDetection,
    PlateFinder,
    PlateOptions,
    RGBImage,
)
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.geometry import as_quad, box_of, expand_quad
from blur_sdk.core.watermark.finder import WatermarkFinding, WatermarkOptions

Box = tuple[float, float, float, float]
Points = list[tuple[float, float]]
Plate = tuple[Points, str]  # a quad (TL, TR, BR, BL) and its text

PLATE: Points = [(float(x), float(y)) for x, y in PLATE_QUAD]  # the synthetic scene's plate
OTHER_PLATE: Points = [(40.0, 300.0), (160.0, 300.0), (160.0, 330.0), (40.0, 330.0)]


class FakeFaceDetector:
    """Returns the boxes it was given, clipped to the image; records the options it saw."""

    name = "fake-faces"

    def __init__(self, boxes: Sequence[Box], *, delay: float = 0.0) -> None:
        self.boxes = list(boxes)
        self.delay = delay  # seconds each call takes
        self.calls: list[FaceOptions] = []

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        self.calls.append(options)
        time.sleep(self.delay)
        h, w = image.shape[:2]
        out = []
        for x1, y1, x2, y2 in self.boxes:
            box = (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
            if box[2] > box[0] and box[3] > box[1]:
                out.append(FaceDetection(box=box, region=box, score=0.9))
        return out


class FakePlateDetector(PlateFinder):
    """Returns fixed plates (quad, text) that lie inside the image it is given."""

    name = "fake-plates"

    def __init__(self, plates: Sequence[Plate], *, delay: float = 0.0) -> None:
        self.plates = list(plates)
        self.delay = delay  # seconds each call takes
        self.calls: list[PlateOptions] = []

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        self.calls.append(options)
        time.sleep(self.delay)
        h, w = image.shape[:2]
        out = []
        for quad, text in self.plates:
            box = box_of(quad)
            if box[0] >= 0 and box[1] >= 0 and box[2] <= w and box[3] <= h:
                out.append(
                    PlateDetection(
                        polygon=as_quad(quad), box=box, text=text, dscore=0.9, oscore=0.8,
                        candidates=((text, 0.8),), source=self.name,
                    )
                )  # fmt: skip
        return out


class FakeEngine(Engine):
    """An engine over a FakeFaceDetector (none if faces is None) and one FakePlateDetector, kept
    as .faces and .plates; by default they find the synthetic scene's face and plate."""

    def __init__(
        self,
        faces: Sequence[Box] | None = (FACE_BOX,),
        plates: Sequence[Plate] = ((PLATE, "KA482MX"),),
        *,
        delay: float = 0.0,
    ) -> None:
        self.faces = None if faces is None else FakeFaceDetector(faces)
        self.plates = FakePlateDetector(plates, delay=delay)
        self.watermarks = MagentaWatermarks(delay=delay)
        super().__init__(self.faces, [self.plates], self.watermarks)


MAGENTA = (255, 0, 255)


class MagentaWatermarks:
    """Fake watermark finder: every pixel of pure magenta is a watermark pixel to fill."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def find(self, rgb: RGBImage, options: WatermarkOptions | None = None) -> WatermarkFinding:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        hit = np.all(rgb == np.array(MAGENTA, np.uint8), axis=2)
        mask = np.where(hit, 255, 0).astype(np.uint8)
        return WatermarkFinding(mask, [], [], [])


class BlobFaces:
    """Position-aware fake: every blob of red 255 in the image (or chunk) it is given is a face."""

    name = "blob-faces"

    def __init__(self) -> None:
        self.widths: list[int] = []  # of each image it was given

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        self.widths.append(image.shape[1])
        mask = (image[:, :, 0] == 255).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        faces = []
        for x, y, w, h, area in stats[1:count]:
            box = (float(x), float(y), float(x + w), float(y + h))
            faces.append(FaceDetection(box, box, score=min(1.0, area / 1000)))
        return faces


class ColourPlates(PlateFinder):
    """Position-aware fake: every blob of exactly `colour` in the image (or chunk) it is given is
    a plate reading `text`, its quad grown by `grow` of its size on each side."""

    def __init__(
        self,
        name: str = "blobs",
        text: str = "AB123",
        colour: tuple[int, int, int] = (0, 255, 0),
        grow: float = 0.0,
    ) -> None:
        self.name, self.text, self.colour, self.grow = name, text, colour, grow
        self.widths: list[int] = []  # of each image it was given

    def detect(self, image: RGBImage, options: PlateOptions) -> list[PlateDetection]:
        self.widths.append(image.shape[1])
        mask = np.all(image == self.colour, axis=2).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        plates = []
        for x, y, w, h, _area in stats[1:count]:
            quad = expand_quad(box_quad(x, y, x + w, y + h), self.grow, self.grow)
            plates.append(
                PlateDetection(
                    as_quad(quad), box_of(quad), self.text, 0.9, 0.8,
                    ((self.text, 0.8),), self.name,
                )
            )  # fmt: skip
        return plates
