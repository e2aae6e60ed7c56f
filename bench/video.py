"""Video benchmark: frames per second at 720p and 1080p per --sample, and recall with and without
tracking on a synthetic video made from labelled photos.

- Speed: ../shared/bench/street_1920x1080.jpg (and car_*), panned a few pixels per frame, at
  1280x720 and 1920x1080, faces and plates hidden (the default job), through anonymize_video
  (decode, detect every Nth frame, track, redact, encode MP4); frames per second of the whole.
- Recall: each labelled photo of ../shared/data/faces/face_mask_dev becomes a clip of moving
  crops (the crop window slides across the photo; the boxes move with it). A labelled face of a
  frame is covered when >= 80 % of its box lies inside what that frame hides. Printed: the share
  of labelled (frame, face) pairs covered, per-frame detection only (no tracking: windows 0) and
  tracked, at --sample 1, 2 and 5.

    .venv/bin/python bench/video.py [--frames 24] [--clips 24] [--clip-frames 16]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blur_sdk.core.find.engine import Detections, Engine
from blur_sdk.core.geometry import Box
from blur_sdk.core.pipeline import intensity_job
from blur_sdk.core.regions import POLYGON, Region
from blur_sdk.core.video.process import anonymize_video, track_options
from blur_sdk.core.video.track import TrackOptions
from blur_sdk.options import face_options, finder_config
from blur_sdk.settings import load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SIZES = ((1280, 720), (1920, 1080))
SAMPLES = (1, 2, 5)
COVER = 0.8


class CachingEngine(Engine):
    """The engine, remembering each frame's detections (the recall runs see the same frames)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.face_detector, engine.plate_detectors)
        self.cache: dict[tuple[str, bool, bool], Detections] = {}

    def detect(self, image: Any, **kwargs: Any) -> Detections:
        key = (
            hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest(),
            kwargs.get("face_options") is not None,
            kwargs.get("plate_options") is not None,
        )
        if key not in self.cache:
            self.cache[key] = super().detect(image, **kwargs)
        return self.cache[key]  # fmt: skip


def panned(path: Path, size: tuple[int, int], frames: int, step: int = 3) -> list[np.ndarray]:
    """Frames of size `size` panning across the photo (scaled to leave room for the motion)."""
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    width, height = size
    scale = max((width + step * frames) / bgr.shape[1], height / bgr.shape[0])
    big = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(big[:height, i * step : i * step + width]) for i in range(frames)]


def write(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> None:
    """The frames as an MP4 (mp4v, as anonymize_video writes)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


def speed(engine: Engine, frames: int, folder: Path) -> list[dict[str, Any]]:
    """Frames per second of anonymize_video per size and sample (faces and plates hidden)."""
    rows = []
    job = intensity_job(10, 10, face_options=face_options(load_settings()))
    for name in ("street", "car"):
        for width, height in SIZES:
            src = folder / f"{name}_{height}p.mp4"
            write(src, panned(SHARED / "bench" / f"{name}_1920x1080.jpg", (width, height), frames))
            anonymize_video(engine, src, folder / "warm.mp4", job, 5)  # compile this shape
            for sample in SAMPLES:
                started = time.perf_counter()
                result = anonymize_video(engine, src, folder / "out.mp4", job, sample)
                seconds = time.perf_counter() - started
                rows.append({"scene": name, "size": f"{width}x{height}", "sample": sample,
                             "frames": result.frames, "fps": round(result.frames / seconds, 2),
                             "detect_ms_per_searched": round(result.timings["detect_ms"]
                                                             / result.searched, 1),
                             "render_ms_per_frame": round(result.timings["render_ms"]
                                                          / result.frames, 1)})  # fmt: skip
                print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def clips(count: int, frames: int) -> list[tuple[list[np.ndarray], list[list[Box]]]]:
    """Moving crops of the labelled photos: (frames, the labelled boxes in each frame)."""
    root = SHARED / "data" / "faces" / "face_mask_dev"
    rows = [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]
    out = []
    for row in rows[:count]:
        bgr = cv2.imread(str(root / row["image"]))
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        cw, ch = int(w * 0.8) // 2 * 2, int(h * 0.8) // 2 * 2
        video, labels = [], []
        for i in range(frames):
            t = i / max(frames - 1, 1)
            ox, oy = round((w - cw) * t), round((h - ch) * (0.5 + 0.5 * np.sin(3 * t)) / 1.0)
            oy = min(oy, h - ch)
            video.append(np.ascontiguousarray(bgr[oy : oy + ch, ox : ox + cw]))
            boxes = []
            for face in row["faces"]:
                x0, y0, x1, y1 = (float(v) for v in face["box"])
                box = (x0 - ox, y0 - oy, x1 - ox, y1 - oy)
                if box[0] >= 0 and box[1] >= 0 and box[2] <= cw and box[3] <= ch:
                    boxes.append(box)  # wholly in the frame: labelled in it
            labels.append(boxes)
        out.append((video, labels))
    return out


def covered_share(box: Box, regions: list[Region], shape: tuple[int, int]) -> float:
    """The share of the box inside what the regions hide (faces: their shape in their box)."""
    mask = np.zeros(shape, np.uint8)
    for r in regions:
        if r.shape == POLYGON:
            cv2.fillPoly(mask, [np.rint(np.asarray(r.polygon)).astype(np.int32)], 1)
        elif r.shape == "square":
            x0, y0, x1, y1 = (round(v) for v in r.box)
            cv2.rectangle(mask, (x0, y0), (x1, y1), 1, -1)
        else:
            x0, y0, x1, y1 = r.box
            axes = (round((x1 - x0) / 2), round((y1 - y0) / 2))
            if r.shape == "circle":
                axes = (max(axes),) * 2
            cv2.ellipse(mask, (round((x0 + x1) / 2), round((y0 + y1) / 2)), axes, 0, 0, 360, 1, -1)
    x0, y0, x1, y1 = (round(v) for v in box)
    area = max((x1 - x0) * (y1 - y0), 1)
    return float(mask[y0:y1, x0:x1].sum()) / area


def recall(engine: Engine, count: int, frames: int, folder: Path) -> list[dict[str, Any]]:
    """Share of labelled (frame, face) pairs covered, without and with tracking, per sample."""
    job = intensity_job(10, -1, face_options=face_options(load_settings()))
    data = clips(count, frames)
    runs: list[tuple[str, int, TrackOptions]] = [("per-frame detection", 1, TrackOptions(0, 0))]
    runs += [("tracked", s, track_options(s)) for s in SAMPLES]
    rows = []
    for label, sample, track in runs:
        covered = total = 0
        for n, (video, labels) in enumerate(data):
            src = folder / f"clip{n}.mp4"
            if not src.exists():
                write(src, video, 25.0)
            hidden: dict[int, list[Region]] = {}
            anonymize_video(engine, src, folder / "out.mp4", job, sample, track=track,
                            on_regions=hidden.__setitem__)  # fmt: skip
            shape = video[0].shape[:2]
            for i, boxes in enumerate(labels):
                for box in boxes:
                    total += 1
                    covered += covered_share(box, hidden.get(i, []), shape) >= COVER
        rows.append({"run": label, "sample": sample, "window": track.look_ahead,
                     "labelled": total, "covered": round(covered / max(total, 1), 3)})  # fmt: skip
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24, help="frames per speed video")
    parser.add_argument("--clips", type=int, default=24, help="labelled photos made into clips")
    parser.add_argument("--clip-frames", type=int, default=16, help="frames per recall clip")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    engine = CachingEngine(Engine.build(finder_config(settings)))
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        folder = Path(tmp)
        if not args.skip_speed:
            print("| scene | size | --sample | frames/s | detect ms / searched frame |"
                  " render ms / frame |\n|---|---|---|---|---|---|")  # fmt: skip
            for r in speed(Engine.build(finder_config(settings)), args.frames, folder):
                print(
                    f"| {r['scene']} | {r['size']} | {r['sample']} | {r['fps']} | "
                    f"{r['detect_ms_per_searched']} | {r['render_ms_per_frame']} |"
                )
        print("\n| run | --sample | window (frames) | labelled (frame, face) | covered |")
        print("|---|---|---|---|---|")
        for r in recall(engine, args.clips, args.clip_frames, folder):
            print(
                f"| {r['run']} | {r['sample']} | {r['window']} | {r['labelled']} | "
                f"{r['covered']:.1%} |"
            )


if __name__ == "__main__":
    main()
