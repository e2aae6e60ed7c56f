"""Measure weights/platedet.onnx alone (no OCR, no pipeline) with OpenVINO CPU, f32.

Run with the project venv (it has openvino, cv2 and the project's metric code):
  /work/main/.venv/bin/python training/eval_platedet.py [--model weights/platedet.onnx]

Per set (plates/openlpr_val, plates/ccpd_sample), per inference size (long side 640 / 960,
padded to multiples of 32) and per threshold:
  found@cover80  the union of predicted regions covers >= 80% of a ground-truth box
                 (bench/accuracy.py's coverage on a filled-polygon mask), with three region rules:
                 none = the predicted box; h03 = box grown by 0.3*box_h on every side;
                 wh03 = the project's expand_quad(quad, 0.3, 0.3)
                 (+0.3*w left/right, +0.3*h top/bottom)
  recall@iou0.5  a predicted box with IoU >= 0.5
  fp/img         predicted boxes that touch no ground-truth box (IoU == 0), as in bench/accuracy.py
Latency: a 1920x1080 image, resize+pad+infer+decode (and infer only), median of N runs.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from platedet_decode import decode, prepare  # noqa: E402

from bench.accuracy import coverage  # noqa: E402
from blur_sdk.core.geometry import expand_quad, iou  # noqa: E402
from blur_sdk.core.models.runner import OpenVinoRunner, RunnerConfig  # noqa: E402

SETS = [
    ROOT.parent / "shared/data/plates/openlpr_val",
    ROOT.parent / "shared/data/plates/ccpd_sample",
]
THRESHOLDS = [0.2, 0.3, 0.4, 0.5]
SIZES = [640, 960]
MARGINS = ["none", "h03", "wh03"]


def region_mask(shape, boxes, rule: str) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for x1, y1, x2, y2 in boxes:
        quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)
        w, h = max(x2 - x1, 1e-6), y2 - y1
        if rule == "h03":
            quad = expand_quad(quad, 0.3 * h / w, 0.3)
        elif rule == "wh03":
            quad = expand_quad(quad, 0.3, 0.3)
        cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    return mask.astype(bool)


def run_set(runner: OpenVinoRunner, set_dir: Path, long_side: int) -> list[dict]:
    rows = [json.loads(x) for x in (set_dir / "labels.jsonl").read_text().splitlines()]
    stats = {t: {"objects": 0, "iou": 0, "fp": 0, **{m: 0 for m in MARGINS}} for t in THRESHOLDS}
    lat = []
    for row in rows:
        bgr = cv2.imread(str(set_dir / row["image"]), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        t0 = time.perf_counter()
        batch, s = prepare(rgb, long_side)
        heat, size, off = runner.infer(batch)
        lat.append((time.perf_counter() - t0) * 1000)
        truth = [p["box"] for p in row["plates"]]
        for t in THRESHOLDS:
            boxes = [b for b, _ in decode(heat, size, off, t, s, w, h)]
            st = stats[t]
            masks = {m: region_mask((h, w), boxes, m) for m in MARGINS}
            for gt in truth:
                st["objects"] += 1
                for m in MARGINS:
                    st[m] += coverage(masks[m], gt) >= 0.8
                st["iou"] += any(iou(tuple(gt), b) >= 0.5 for b in boxes)
            st["fp"] += sum(1 for b in boxes if all(iou(tuple(gt), b) == 0 for gt in truth))
    out = []
    for t in THRESHOLDS:
        st = stats[t]
        n = max(st["objects"], 1)
        out.append(
            {
                "set": set_dir.name,
                "long_side": long_side,
                "thr": t,
                "images": len(rows),
                "objects": st["objects"],
                "found@cover80": round(st["none"] / n, 3),
                "found@cover80_h03": round(st["h03"] / n, 3),
                "found@cover80_wh03": round(st["wh03"] / n, 3),
                "recall@iou0.5": round(st["iou"] / n, 3),
                "fp_per_image": round(st["fp"] / max(len(rows), 1), 2),
                "median_ms_prep+infer": round(statistics.median(lat), 1),
            }
        )
    return out


def latency(runner: OpenVinoRunner, long_side: int, runs: int) -> dict:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    batch, s = prepare(img, long_side)
    for _ in range(3):
        runner.infer(batch)
    full, infer_only = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        batch, s = prepare(img, long_side)
        t1 = time.perf_counter()
        heat, size, off = runner.infer(batch)
        t2 = time.perf_counter()
        decode(heat, size, off, 0.3, s, 1920, 1080)
        t3 = time.perf_counter()
        full.append((t3 - t0) * 1000)
        infer_only.append((t2 - t1) * 1000)
    return {
        "input": "1920x1080",
        "long_side": long_side,
        "tensor": list(batch.shape),
        "median_ms_total": round(statistics.median(full), 1),
        "median_ms_infer": round(statistics.median(infer_only), 1),
        "min_ms_infer": round(min(infer_only), 1),
        "runs": runs,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "weights" / "platedet.onnx")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--threads", type=int, default=0, help="INFERENCE_NUM_THREADS (0 = OpenVINO default)"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write all rows to this file")
    args = ap.parse_args()
    runner = OpenVinoRunner(
        args.model, RunnerConfig(args.model.parent, precision="f32", threads=args.threads)
    )
    rows = []
    for long_side in SIZES:
        for set_dir in SETS:
            for r in run_set(runner, set_dir, long_side):
                print(json.dumps(r), flush=True)
                rows.append(r)
    for long_side in SIZES:
        r = latency(runner, long_side, args.runs)
        print(json.dumps(r), flush=True)
        rows.append(r)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
