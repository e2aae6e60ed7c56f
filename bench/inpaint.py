"""Watermark removal benchmark: synthetic watermarks on real photos whose clean original is known.

For each clean photo (../shared/bench at 800x600 and 1080p, a sample of ../shared/data) and each
watermark kind (Latin text, Chinese text, tiled text, a corner logo; bench/watermark_synth.py),
prints per inpainting method (patchmatch, telea, ns, none):
- with the smear mask (the truth mask grown by 2 px, as a client would draw it) and with
  automatic finding: PSNR and SSIM inside the watermark region (the truth mask grown by 4 px)
  against the clean original, and the milliseconds of the fill;
- for automatic finding: the share of watermarks found (>= 80 % of their truth pixels in the
  found mask), the share of images where removal changed pixels outside any watermark (more
  than 4 px from it), the same on the clean photos (nothing to remove), and the finder's ms.

    .venv/bin/python bench/inpaint.py [--limit N] [--methods patchmatch,telea]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import watermark_synth as synth
from blur_sdk.core.models.runner import RunnerConfig
from blur_sdk.core.redact.inpaint import inpaint
from blur_sdk.core.watermark.finder import WatermarkFinder
from blur_sdk.settings import load_settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
METHODS = ("patchmatch", "telea", "ns", "none")
KINDS = ("latin", "chinese", "tiled", "logo")
FOUND_COVER = 0.8
SMEAR_GROW, REGION_GROW = 2, 4
MAX_SIDE = 1920


def photos(limit: int) -> list[tuple[str, np.ndarray]]:
    """The clean photos: the bench photos at 800x600 and 1080p, then the data sets' first."""
    paths = sorted((SHARED / "bench").glob("*_800x600.jpg"))
    paths += sorted((SHARED / "bench").glob("*_1920x1080.jpg"))
    for name in ("faces/face_mask_dev", "plates/openlpr_val"):
        labels = SHARED / "data" / name / "labels.jsonl"
        if labels.exists():
            rows = [json.loads(line) for line in labels.read_text().splitlines()[:40:4]]
            paths += [labels.parent / row["image"] for row in rows]
    out = []
    for path in paths[:limit]:
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        scale = min(1.0, MAX_SIDE / max(bgr.shape[:2]))
        if scale < 1.0:
            bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append((path.name, np.ascontiguousarray(bgr[:, :, ::-1])))
    return out


def watermark(clean: np.ndarray, kind: str, seed: int) -> synth.Marked:
    """One watermark of the kind on the photo."""
    r = random.Random(seed)
    if kind == "latin":
        return synth.add_text(clean, r, text=r.choice(synth.LATIN + synth.HANDLES))
    if kind == "chinese":
        return synth.add_text(clean, r, text=r.choice(synth.CHINESE))
    if kind == "tiled":
        return synth.add_tiled(clean, r)
    return synth.add_logo(clean, r)


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """The mask dilated by px."""
    return cv2.dilate(mask, np.ones((2 * px + 1, 2 * px + 1), np.uint8))


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """PSNR (dB) over the pixels where `where` is set."""
    diff = a[where].astype(np.float64) - b[where].astype(np.float64)
    mse = float(np.mean(diff**2)) if diff.size else 0.0
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """Mean SSIM (Wang 2004, Gaussian 11x11, sigma 1.5, on luma) over the `where` pixels."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(v: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.GaussianBlur(v, (11, 11), 1.5))

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    score = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(score[where].mean()) if where.any() else 1.0


def fill(marked: np.ndarray, mask: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """The fill by one method, and its ms."""
    started = time.perf_counter()
    out = marked.copy() if method == "none" or not mask.any() else inpaint(marked, mask, method)
    return out, (time.perf_counter() - started) * 1000


def run(limit: int, methods: tuple[str, ...]) -> dict[str, Any]:
    """Every case through every method; the figures."""
    settings = load_settings(env={})
    config = RunnerConfig(settings.models_dir, settings.ov_precision, settings.ov_threads)
    finder = WatermarkFinder.create(config)
    figures: dict[str, list[float]] = defaultdict(list)
    clean_photos = photos(limit)
    for index, (_name, clean) in enumerate(clean_photos):
        started = time.perf_counter()
        nothing = finder.find(clean).mask
        figures["find_ms"].append((time.perf_counter() - started) * 1000)
        figures["clean_changed"].append(float(nothing.any()))
        for k, kind in enumerate(KINDS):
            marked, truth, _ = watermark(clean, kind, seed=index * 10 + k)
            region = grow(truth, REGION_GROW) > 0
            smear = grow(truth, SMEAR_GROW)
            started = time.perf_counter()
            found = finder.find(marked).mask
            figures["find_ms"].append((time.perf_counter() - started) * 1000)
            covered = np.count_nonzero((found > 0) & (truth > 0)) / max(1, np.count_nonzero(truth))
            figures[f"found:{kind}"].append(float(covered >= FOUND_COVER))
            figures["outside_changed"].append(float(((found > 0) & ~region).any()))
            for method in methods:
                for source, mask in (("smear", smear), ("auto", found)):
                    out, ms = fill(marked, mask, method)
                    key = f"{source}:{method}"
                    figures[f"psnr:{key}"].append(psnr(out, clean, region))
                    figures[f"ssim:{key}"].append(ssim(out, clean, region))
                    figures[f"ms:{key}"].append(ms)
                    figures[f"psnr:{key}:{kind}"].append(psnr(out, clean, region))
        print(f"  {index + 1}/{len(clean_photos)} photos", file=sys.stderr)
    return {"photos": len(clean_photos), "figures": figures}


def report(result: dict[str, Any], methods: tuple[str, ...]) -> None:
    """Print the tables."""
    f = result["figures"]

    def mean(key: str) -> float:
        return float(np.mean(f[key])) if f.get(key) else float("nan")

    cases = len(f.get("outside_changed", []))
    print(f"{result['photos']} clean photos x {len(KINDS)} watermark kinds = {cases} cases\n")
    print("| method | mask | PSNR dB | SSIM | fill ms (mean) | " + " | ".join(
        f"PSNR {k}" for k in KINDS) + " |")  # fmt: skip
    print("|---|---|---|---|---|" + "---|" * len(KINDS))
    for method in methods:
        for source in ("smear", "auto"):
            key = f"{source}:{method}"
            per_kind = " | ".join(f"{mean(f'psnr:{key}:{k}'):.1f}" for k in KINDS)
            quality = f"{mean('psnr:' + key):.1f} | {mean('ssim:' + key):.3f}"
            print(f"| {method} | {source} | {quality} | {mean('ms:' + key):.0f} | {per_kind} |")
    print("\nautomatic finding:")
    for kind in KINDS:
        print(f"  found {kind}: {mean('found:' + kind):.2f}")
    print(f"  changed pixels outside any watermark: {mean('outside_changed'):.2f} of images")
    print(f"  changed anything on a clean photo: {mean('clean_changed'):.2f} of photos")
    ms = f.get("find_ms", [])
    print(f"  finder ms: median {np.median(ms):.0f}, max {np.max(ms):.0f}" if ms else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=24, help="clean photos used")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    if not (SHARED / "bench").is_dir():
        print(f"no photos: {SHARED / 'bench'} is missing", file=sys.stderr)
        return 1
    methods = tuple(m for m in args.methods.split(",") if m)
    report(run(args.limit, methods), methods)
    return 0


if __name__ == "__main__":
    sys.exit(main())
