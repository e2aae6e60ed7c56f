"""Accuracy of the engine on labels.jsonl sets: found@cover80, recall@IoU0.5, FP/image, latency.

Usage: python bench/accuracy.py [SET_DIR ...] [--limit N] [--shape ellipse]
Default sets: ../shared/data/{plates/openlpr_val, plates/ccpd_sample, faces/face_mask_dev}.
A ground-truth object is *found* when the union of the regions the server would blur
(plate polygons grown by PLATE_MARGIN, face regions drawn in SHAPE) covers >= 80% of its box.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blur_sdk.config import load_settings
from blur_sdk.core.detectors.base import FaceOptions, PlateOptions
from blur_sdk.core.engine import Engine
from blur_sdk.core.geometry import expand_quad, iou
from blur_sdk.core.imaging import decode_image

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_SETS = ["plates/openlpr_val", "plates/ccpd_sample", "faces/face_mask_dev"]


def blur_mask(shape: tuple[int, int], plates: list, faces: list, margin: float, face_shape: str):
    """The pixels the server would blur, as a boolean mask."""
    mask = np.zeros(shape, np.uint8)
    for plate in plates:
        quad = expand_quad(np.array(plate.polygon), margin, margin)
        cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    for face in faces:
        x1, y1, x2, y2 = face.region
        if face_shape == "square":
            cv2.rectangle(mask, (round(x1), round(y1)), (round(x2), round(y2)), 1, -1)
            continue
        axes = ((x2 - x1) / 2, (y2 - y1) / 2)
        if face_shape == "circle":
            axes = (max(axes), max(axes))
        centre = (round((x1 + x2) / 2), round((y1 + y2) / 2))
        cv2.ellipse(mask, centre, (round(axes[0]), round(axes[1])), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def coverage(mask: np.ndarray, box: list[float]) -> float:
    """Fraction of a ground-truth box covered by the mask."""
    x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
    x2, y2 = round(box[2]), round(box[3])
    area = max(1, (x2 - x1) * (y2 - y1))
    return float(mask[y1:y2, x1:x2].sum()) / area


def evaluate(engine: Engine, set_dir: Path, args: argparse.Namespace, settings) -> dict:
    """Run one set and return its figures."""
    rows = [json.loads(line) for line in (set_dir / "labels.jsonl").read_text().splitlines()]
    rows = rows[: args.limit] if args.limit else rows
    kind = "faces" if "faces" in rows[0] else "plates"
    face_opts = FaceOptions.from_settings(settings)
    total = found = hit_iou = false_pos = 0
    latencies, misses = [], []
    for row in rows:
        decoded = decode_image((set_dir / row["image"]).read_bytes())
        started = time.perf_counter()
        result = engine.detect(
            decoded.rgb,
            face_options=face_opts if kind == "faces" else None,
            plate_options=PlateOptions(mode=args.mode) if kind == "plates" else None,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        plates = result.plates if kind == "plates" else []
        faces = result.faces if kind == "faces" else []
        mask = blur_mask(decoded.rgb.shape[:2], plates, faces, settings.plate_margin, args.shape)
        boxes = [p.box for p in plates] + [f.box for f in faces]  # detector boxes, for IoU
        regions = [p.box for p in plates] + [f.region for f in faces]  # what gets blurred
        truth = [o["box"] for o in row[kind]]
        for gt in truth:
            total += 1
            if coverage(mask, gt) >= 0.8:
                found += 1
            else:
                misses.append(row["image"])
            if any(iou(tuple(gt), b) >= 0.5 for b in boxes):
                hit_iou += 1
        false_pos += sum(1 for b in regions if all(iou(tuple(gt), b) == 0 for gt in truth))
    return {
        "set": str(set_dir.relative_to(SHARED)) if set_dir.is_relative_to(SHARED) else str(set_dir),
        "images": len(rows),
        "objects": total,
        "found@cover80": round(found / max(total, 1), 3),
        "found": found,
        "recall@iou0.5": round(hit_iou / max(total, 1), 3),
        "fp_per_image": round(false_pos / max(len(rows), 1), 2),
        "median_ms": round(statistics.median(latencies), 1),
        "misses": sorted(set(misses))[:20],
    }


def main() -> int:
    """Print one JSON line of figures per set."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--mode", default="redaction", choices=["redaction", "fast"])
    parser.add_argument("--shape", default=None, choices=["ellipse", "circle", "square"])
    args = parser.parse_args()
    settings = load_settings()
    args.shape = args.shape or settings.shape
    sets = args.sets or [SHARED / s for s in DEFAULT_SETS]
    missing = [s for s in sets if not (s / "labels.jsonl").is_file()]
    if missing:
        print(f"no labels.jsonl in {', '.join(map(str, missing))} (is ../shared present?)")
        return 1
    engine = Engine.from_settings(settings)
    for set_dir in sets:
        print(json.dumps(evaluate(engine, set_dir, args, settings)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
