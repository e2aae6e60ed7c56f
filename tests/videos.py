"""Short videos made in the tests (cv2.VideoWriter), a fake face finder that sees their moving
"face" (and can be told to miss it), and the checks: covered, unchanged, same shape."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from blur_sdk.core.find.base import FaceDetection, FaceOptions, RGBImage
from blur_sdk.core.find.engine import Engine

Box = tuple[int, int, int, int]
WIDTH, HEIGHT, FPS = 320, 240, 25.0
FACE = 40  # the face's side (px)
PRESENT = range(16, 32)  # frames the face is in (of FRAMES)
FRAMES = 48
FREE_ROWS = slice(200, 240)  # a strip the face never enters
GROW = 0.3  # the fake finder's region: its box grown by this share


def background(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A smooth BGR scene (codecs keep it well)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    bgr = np.stack([60 + 80 * y / height, 90 + 60 * x / width, 70 + 40 * np.sin(x / 23)], 2)
    return np.clip(bgr, 0, 255).astype(np.uint8)


def face_box(index: int) -> Box | None:
    """Where the face is in frame `index` (None: not in it): moving right and a little down."""
    if index not in PRESENT:
        return None
    t = index - PRESENT.start
    x, y = 30 + 11 * t, 40 + 3 * t + int(6 * np.sin(t / 3))
    return (x, y, x + FACE, y + FACE)


def draw_face(bgr: np.ndarray, box: Box) -> None:
    """A red-and-dark checkerboard square: red enough to find, textured enough to see a blur."""
    x0, y0, x1, y1 = box
    cells = np.indices((y1 - y0, x1 - x0)).sum(axis=0) // 5 % 2
    patch = np.where(cells[..., None] == 0, (20, 20, 250), (40, 10, 60)).astype(np.uint8)
    bgr[y0:y1, x0:x1] = patch


def make_video(path: Path, frames: int = FRAMES, fourcc: str = "mp4v", fps: float = FPS,
               size: tuple[int, int] = (WIDTH, HEIGHT)) -> list[np.ndarray]:  # fmt: skip
    """Write the test video (the moving face over the background); its frames as written."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
    assert writer.isOpened(), path
    written = []
    for index in range(frames):
        bgr = background(*size)
        box = face_box(index)
        if box is not None:
            draw_face(bgr, box)
        writer.write(bgr)
        written.append(bgr)
    writer.release()
    return written


def read_video(path: Path) -> tuple[list[np.ndarray], float, tuple[int, int]]:
    """Every frame (BGR), the frame rate and (width, height) of a video file."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    height, width = frames[0].shape[:2] if frames else (0, 0)
    return frames, fps, (width, height)


@dataclass
class RedFaces:
    """Every blob of strong red (after a lossy codec) is a face; calls listed in `miss` (0: the
    first call) find nothing, as a real detector misses a face now and then."""

    miss: set[int] = field(default_factory=set)
    name: str = "red-faces"
    calls: int = 0

    def detect(self, image: RGBImage, options: FaceOptions) -> list[FaceDetection]:
        call, self.calls = self.calls, self.calls + 1
        if call in self.miss:
            return []
        red = (image[:, :, 0] > 170) & (image[:, :, 1] < 90) & (image[:, :, 2] < 90)
        mask = cv2.morphologyEx(red.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        faces = []
        for x, y, w, h, area in stats[1:count]:
            if area >= 100:
                box = (float(x), float(y), float(x + w), float(y + h))
                pad_x, pad_y = w * GROW / 2, h * GROW / 2  # the region hidden: a little larger
                region = (box[0] - pad_x, box[1] - pad_y, box[2] + pad_x, box[3] + pad_y)
                faces.append(FaceDetection(box, region, 0.9))
        return faces


def red_engine(miss: set[int] | None = None) -> Engine:
    """An engine finding the test video's face (no plate finder)."""
    return Engine(RedFaces(miss or set()), [])


def texture(bgr: np.ndarray, box: Box) -> float:
    """How much detail the box holds: the std of its Laplacian."""
    x0, y0, x1, y1 = box
    crop = cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(crop, cv2.CV_32F).std())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of two images."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def uncovered(source: list[np.ndarray], output: list[np.ndarray]) -> Iterator[int]:
    """Frames whose face keeps more than a quarter of its detail (it was not hidden)."""
    for index, (before, after) in enumerate(zip(source, output, strict=True)):
        box = face_box(index)
        if box is not None and texture(after, box) > 0.25 * texture(before, box):
            yield index


def check_anonymized(src: Path, dst: Path) -> None:
    """Same frame count, rate and size; the face hidden in every frame; the rest unchanged."""
    source, fps_in, size_in = read_video(src)
    output, fps_out, size_out = read_video(dst)
    assert len(output) == len(source) == FRAMES
    assert fps_out == pytest_approx(fps_in) and size_out == size_in
    assert list(uncovered(source, output)) == []
    for index, (before, after) in enumerate(zip(source, output, strict=True)):
        assert psnr(before[FREE_ROWS], after[FREE_ROWS]) > 30, index  # codec noise only
        if index < PRESENT.start - 8 or index >= PRESENT.stop + 8:  # outside every window
            assert psnr(before, after) > 30, index


def pytest_approx(value: float) -> object:
    """pytest.approx, imported late (this module is imported by non-test code too)."""
    import pytest

    return pytest.approx(value, rel=1e-3)
