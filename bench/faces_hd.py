"""Face recall on 1080p frames, where the face detector's resolution policy matters.

Usage: python bench/faces_hd.py [--limit N] [--coarse 1280 0]
face_mask_dev's photos are 400-600 px (upscaled to 800 by the server, so the dev set never sees a
large frame); here each is pasted at its native size onto a 1920x1080 photo with no face
(../shared/bench/car_1920x1080.jpg; "sparse": a few small faces in a large frame, as in street
and CCTV images), and all of them are packed side by side into 1920x1080 mosaics ("crowd").
Per FACE_COARSE_RESOLUTION value: faces found (a detection's box holds the labelled face's
centre), those under 20 px, false positives (detections touching no labelled face) and the
detector's median / mean milliseconds per frame. One JSON line per set and setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blur_sdk.core import find as detectors
from blur_sdk.core.find.base import FaceDetector, FaceOptions
from blur_sdk.core.geometry import Box
from blur_sdk.core.image.decode import decode_image
from blur_sdk.options import face_options, finder_config
from blur_sdk.settings import load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
FACES = SHARED / "data" / "faces" / "face_mask_dev"
BACKGROUND = SHARED / "bench" / "car_1920x1080.jpg"
WIDTH, HEIGHT = 1920, 1080
Frame = tuple[npt.NDArray[np.uint8], list[Box]]


def photos(limit: int) -> Iterator[tuple[npt.NDArray[np.uint8], list[Box]]]:
    """face_mask_dev's photos with their face boxes."""
    rows = [json.loads(line) for line in (FACES / "labels.jsonl").read_text().splitlines()]
    for row in rows[: limit or None]:
        rgb = decode_image((FACES / row["image"]).read_bytes()).rgb
        yield rgb, [tuple(face["box"]) for face in row["faces"]]  # type: ignore[misc]


def moved(boxes: list[Box], x: int, y: int) -> list[Box]:
    return [(b[0] + x, b[1] + y, b[2] + x, b[3] + y) for b in boxes]


def sparse(limit: int) -> list[Frame]:
    """Each photo at a random place (fixed seed) on the 1080p background."""
    background = decode_image(BACKGROUND.read_bytes()).rgb
    rng = np.random.default_rng(3)
    frames = []
    for rgb, boxes in photos(limit):
        h, w = rgb.shape[:2]
        x, y = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
        frame = background.copy()
        frame[y : y + h, x : x + w] = rgb
        frames.append((frame, moved(boxes, x, y)))
    return frames


def crowd(limit: int) -> list[Frame]:
    """The photos packed in rows into grey 1080p frames."""
    frames: list[Frame] = []
    truth: list[Box] = []
    frame, x, y, row_h = np.full((HEIGHT, WIDTH, 3), 90, np.uint8), 0, 0, 0
    for rgb, boxes in photos(limit):
        h, w = rgb.shape[:2]
        if x + w > WIDTH:
            x, y, row_h = 0, y + row_h, 0
        if y + h > HEIGHT:
            frames.append((frame, truth))
            truth = []
            frame, x, y, row_h = np.full((HEIGHT, WIDTH, 3), 90, np.uint8), 0, 0, 0
        frame[y : y + h, x : x + w] = rgb
        truth += moved(boxes, x, y)
        x, row_h = x + w, max(row_h, h)
    return [*frames, (frame, truth)]


def holds_centre(face: Box, box: Box) -> bool:
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def touches(a: Box, b: Box) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def measure(detector: FaceDetector, frames: list[Frame], options: FaceOptions) -> dict[str, float]:
    """Found, small found, false positives and milliseconds over the frames."""
    detector.detect(frames[0][0], options)  # (compiles the shapes)
    found = small = small_n = total = false_pos = 0
    times = []
    for frame, truth in frames:
        started = time.perf_counter()
        faces = detector.detect(frame, options)
        times.append((time.perf_counter() - started) * 1000)
        false_pos += sum(1 for f in faces if not any(touches(f.box, t) for t in truth))
        for face in truth:
            hit = any(holds_centre(face, f.box) for f in faces)
            found, total = found + hit, total + 1
            if face[3] - face[1] < 20:
                small, small_n = small + hit, small_n + 1
    return {
        "faces": total,
        "found": round(found / total, 3),
        "found_under_20px": round(small / max(small_n, 1), 3),
        "fp_per_frame": round(false_pos / len(frames), 2),
        "median_ms": round(statistics.median(times)),
        "mean_ms": round(statistics.mean(times)),
    }


def main() -> int:
    """Print one JSON line per set and FACE_COARSE_RESOLUTION value."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=0, help="photos (0 = all 212)")
    parser.add_argument("--coarse", type=int, nargs="+", default=[1280, 0])
    args = parser.parse_args()
    if not (FACES / "labels.jsonl").is_file() or not BACKGROUND.is_file():
        print(f"needs {FACES} and {BACKGROUND} (is ../shared present?)")
        return 1
    settings = load_settings()
    detector = detectors.create("face", "centerface", finder_config(settings))
    sets = {"sparse": sparse(args.limit), "crowd": crowd(args.limit)}
    for name, frames in sets.items():
        for coarse in args.coarse:
            options = dataclasses.replace(face_options(settings), coarse_resolution=coarse)
            row = {"set": name, "frames": len(frames), "face_coarse_resolution": coarse}
            print(json.dumps({**row, **measure(detector, frames, options)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
