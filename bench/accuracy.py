"""Accuracy of the whole pipeline on labels.jsonl sets: cover, hidden, recall@IoU0.5, FP/image.

Usage: python bench/accuracy.py [SET_DIR ...] [--limit N] [--shape ellipse] [--intensity 10]
Default sets: ../shared/data/{plates/openlpr_val, plates/ccpd_sample, faces/face_mask_dev}.
Each image goes through the pipeline the server runs (decode, detect, blur, encode). A labelled
object is *found* when the union of the blurred regions (plate polygons grown by PLATE_MARGIN,
face regions drawn in SHAPE) covers >= 80 % of its box (found@cover95: >= 95 %), and *hidden*
when the output keeps at most 35 % of the edge energy (mean |Laplacian|) inside its box.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measures import blur_mask, measure_objects, size_table, summarise
from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.geometry import iou
from blur_sdk.core.image.decode import decode_image
from blur_sdk.core.pipeline import Job, anonymize, intensity_job
from blur_sdk.core.regions import FACE, PLATE
from blur_sdk.options import face_options, finder_config
from blur_sdk.settings import Settings, load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_SETS = ["plates/openlpr_val", "plates/ccpd_sample", "faces/face_mask_dev"]


def blur_request(kind: str, args: argparse.Namespace, settings: Settings) -> Job:
    """What a client asking for `kind` at the given intensity sends, with the server's settings."""
    return intensity_job(
        args.intensity if kind == "faces" else -1,
        args.intensity if kind == "plates" else -1,
        face_shape=args.shape,
        plate_margin=settings.plate_margin,
        jpeg_quality=settings.jpeg_quality,
        face_options=face_options(settings),
        plate_options=PlateOptions(mode=args.mode),
    )


def evaluate(engine: Engine, set_dir: Path, args: argparse.Namespace, settings: Settings) -> dict:
    """Run one set and return its figures."""
    rows = [json.loads(line) for line in (set_dir / "labels.jsonl").read_text().splitlines()]
    rows = rows[: args.limit] if args.limit else rows
    kind = "faces" if "faces" in rows[0] else "plates"
    request = blur_request(kind, args, settings)
    measures, latencies, misses = [], [], []
    hit_iou = false_pos = 0
    for row in rows:
        data = (set_dir / row["image"]).read_bytes()
        started = time.perf_counter()
        result = anonymize(engine, data, request)
        latencies.append((time.perf_counter() - started) * 1000)
        before = decode_image(data).rgb
        after = decode_image(result.image).rgb if result.image else None
        plates, faces = result.of_kind(PLATE), result.of_kind(FACE)
        polygons = [r.polygon for r in plates]
        regions = [r.box for r in faces]  # the blurred region of each face
        mask = blur_mask(before.shape[:2], polygons, regions, settings.plate_margin, args.shape)
        truth = [o["box"] for o in row[kind]]
        found = measure_objects(truth, mask, before, after)
        measures += found
        misses += [row["image"] for m in found if not (m.whole and m.hidden)]
        boxes = [r.box for r in plates] + [r.detection.box for r in faces if r.detection]
        hit_iou += sum(any(iou(tuple(gt), b) >= 0.5 for b in boxes) for gt in truth)
        blurred = [r.box for r in plates] + regions
        false_pos += sum(1 for b in blurred if all(iou(tuple(gt), b) == 0 for gt in truth))
    figures = summarise(measures)
    out = {
        "set": str(set_dir.relative_to(SHARED)) if set_dir.is_relative_to(SHARED) else str(set_dir),
        "images": len(rows),
        **figures,
        "found": sum(m.found for m in measures),
        "recall@iou0.5": round(hit_iou / max(len(measures), 1), 3),
        "fp_per_image": round(false_pos / max(len(rows), 1), 2),
        "median_ms": round(statistics.median(latencies), 1),
    }
    if kind == "faces":
        out["by_height"] = size_table(measures)
    out["misses"] = sorted(set(misses))[:20]
    return out


def main() -> int:
    """Print one JSON line of figures per set."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--mode", default="redaction", choices=["redaction", "fast"])
    parser.add_argument("--shape", default=None, choices=["ellipse", "circle", "square"])
    parser.add_argument("--intensity", type=int, default=10, choices=range(1, 11))
    args = parser.parse_args()
    settings = load_settings()
    args.shape = args.shape or settings.shape
    sets = args.sets or [SHARED / s for s in DEFAULT_SETS]
    missing = [s for s in sets if not (s / "labels.jsonl").is_file()]
    if missing:
        print(f"no labels.jsonl in {', '.join(map(str, missing))} (is ../shared present?)")
        return 1
    engine = Engine.build(finder_config(settings))
    for set_dir in sets:
        print(json.dumps(evaluate(engine, set_dir, args, settings)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
