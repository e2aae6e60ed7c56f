"""Watermark finding on clean photos with synthetic marks: found share, false positives, time.

    .venv/bin/python -m bench.watermark_find [--images N] [--min-score S] [--passes rgb,clahe]
        [--overlay-score S] [--all-text]

A mark is found when >= 80 % of its truth pixels (changed by more than a few levels) lie in the
mask. False positives are measured on the clean photos: text blocks, logos and mask share.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from bench import watermark_synth as ws
from blur_sdk.core.models.runner import RunnerConfig
from blur_sdk.core.watermark.finder import WatermarkFinder, WatermarkOptions

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FOUND_COVER = 0.8
KINDS = ("text", "tiled", "logo")


def clean_images(count: int) -> list[tuple[str, np.ndarray]]:
    """The bench photos (800x600, 1080p) and a sample of the labelled sets' photos."""
    paths = sorted((SHARED / "bench").glob("*_800x600.jpg"))
    paths += sorted((SHARED / "bench").glob("*_1920x1080.jpg"))
    for folder in ("plates/openlpr_val/images", "faces/face_mask_dev/images"):
        found = sorted((SHARED / "data" / folder).glob("*.*"))
        paths += random.Random(1).sample(found, min(count, len(found)))
    images = []
    for path in paths:
        bgr = cv2.imread(str(path))
        if bgr is not None:
            images.append((path.name, np.ascontiguousarray(bgr[:, :, ::-1])))
    return images


def coverage(mask: np.ndarray, truth: np.ndarray) -> float:
    """Share of the truth pixels inside the mask."""
    on = truth > 0
    return float((mask[on] > 0).mean()) if on.any() else 1.0


def main() -> None:
    """Print found share per kind, false positives on clean photos, and per-image times."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=15, help="photos per labelled set")
    parser.add_argument("--min-score", type=float, default=WatermarkOptions().min_score)
    parser.add_argument("--passes", default=",".join(WatermarkOptions().passes))
    parser.add_argument("--marks", type=int, default=2, help="seeds per kind per photo")
    parser.add_argument("--overlay-score", type=float, default=WatermarkOptions().overlay_score)
    parser.add_argument("--all-text", action="store_true", help="no overlay test: every block")
    args = parser.parse_args()
    finder = WatermarkFinder.create(RunnerConfig(ROOT / "models"))
    finder.warm_up()
    options = WatermarkOptions(
        min_score=args.min_score,
        passes=tuple(args.passes.split(",")),
        overlay_only=not args.all_text,
        overlay_score=args.overlay_score,
    )
    found: dict[str, list[float]] = {k: [] for k in KINDS}
    extra: dict[str, list[float]] = {k: [] for k in KINDS}
    clean_texts, clean_logos, clean_mask, logo_fp_images = [], [], [], 0
    times: dict[str, list[float]] = {}
    images = clean_images(args.images)
    for n, (_name, clean) in enumerate(images):
        start = time.perf_counter()
        result = finder.find(clean, options)
        key = "1080p" if max(clean.shape[:2]) >= 1900 else f"<={max(clean.shape[:2])}"
        key = "800x600" if clean.shape[:2] == (600, 800) else key
        times.setdefault(key, []).append((time.perf_counter() - start) * 1000)
        clean_texts.append(len(result.texts))
        clean_logos.append(len(result.logos))
        logo_fp_images += bool(result.logos)
        clean_mask.append(float((result.mask > 0).mean()))
        for kind in KINDS:
            for seed in range(args.marks):
                rng = random.Random(1000 * n + 17 * seed + KINDS.index(kind))
                add = {"text": ws.add_text, "tiled": ws.add_tiled, "logo": ws.add_logo}[kind]
                marked, truth, _marks = add(clean, rng)
                mask = finder.find(marked, options).mask
                found[kind].append(coverage(mask, truth))
                # mask outside the (dilated) truth and outside what the clean photo had
                near = cv2.dilate(truth, np.ones((9, 9), np.uint8)) > 0
                outside = (mask > 0) & ~near & (result.mask == 0)
                extra[kind].append(float(outside.sum()) / max(1, int((truth > 0).sum())))
    print(
        f"min_score={args.min_score} passes={args.passes} overlay_only={not args.all_text} "
        f"overlay_score={args.overlay_score} photos={len(images)}"
    )
    print("| kind | marks | found@80 | mean cover | extra mask / truth |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        cov = found[kind]
        share = sum(c >= FOUND_COVER for c in cov) / len(cov)
        print(
            f"| {kind} | {len(cov)} | {share:.0%} | {statistics.mean(cov):.0%} |"
            f" {statistics.mean(extra[kind]):.2f} |"
        )
    print(
        f"clean photos: text blocks/photo {statistics.mean(clean_texts):.2f}, "
        f"mask {statistics.mean(clean_mask):.2%} of pixels, "
        f"logos {sum(clean_logos)} on {logo_fp_images} of {len(images)} photos"
    )
    for key, values in sorted(times.items()):
        print(f"time {key}: median {statistics.median(values):.0f} ms over {len(values)}")


if __name__ == "__main__":
    main()
