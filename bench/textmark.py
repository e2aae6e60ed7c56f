"""Text-watermark API benchmark: rendered Chinese and Latin watermarks on real photos, through the
API's own processing (OCR blocks, strokes, inpainting), against the clean original.

Per alphabet it prints: found (the blocks the API processed cover >= 80 % of the watermark's
pixels), read (character accuracy of the best covering block's `word`: 1 - edit distance /
length), removed (PSNR inside the watermark before -> after, against the clean photo), the share
of images where pixels more than 4 px from the watermark changed, and ms per image.

    .venv/bin/python bench/textmark.py [--limit N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import watermark_synth as synth
from bench.inpaint import SHARED, grow, photos, psnr
from bench.synthetic import encode
from blur_sdk.apis.textmark.matching import normalise, similarity
from blur_sdk.apis.textmark.process import process
from blur_sdk.apis.textmark.request import Params
from blur_sdk.core.image.decode import ImageLimits, decode_image
from blur_sdk.core.models.runner import RunnerConfig
from blur_sdk.core.watermark.finder import WatermarkFinder
from blur_sdk.settings import load_settings

ALPHABETS = {"latin": synth.LATIN + synth.HANDLES, "chinese": synth.CHINESE}


def _inside(rects: list[tuple[int, int, int, int]], shape: tuple[int, int]) -> np.ndarray:
    inside = np.zeros(shape, bool)
    for x, y, w, h in rects:
        inside[y : y + h, x : x + w] = True
    return inside


def run(limit: int) -> dict[str, list[float]]:
    """Every photo x alphabet through process(); the figures."""
    settings = load_settings(env={})
    finder = WatermarkFinder.create(RunnerConfig(settings.models_dir, settings.ov_precision))
    figures: dict[str, list[float]] = defaultdict(list)
    for index, (_name, clean) in enumerate(photos(limit)):
        for k, (alphabet, texts) in enumerate(ALPHABETS.items()):
            r = random.Random(index * 10 + k)
            text = r.choice(texts)
            alpha, px = r.uniform(0.4, 0.8), r.randint(24, 64)
            marked, truth, _ = synth.add_text(clean, r, text=text, angle=0.0, alpha=alpha, px=px)
            started = time.perf_counter()
            outcome = process(finder, encode(marked, "PNG"), Params(), limits=ImageLimits(),
                              method=settings.inpaint_method, timeout=None)  # fmt: skip
            figures[f"ms:{alphabet}"].append((time.perf_counter() - started) * 1000)
            rects = [(b["x"], b["y"], b["w"], b["h"]) for b in outcome.locations]
            marks = truth > 0
            covered = (marks & _inside(rects, marks.shape)).sum() / max(1, marks.sum())
            figures[f"found:{alphabet}"].append(float(covered >= 0.8))
            pairs = zip([b["word"] for b in outcome.locations], rects, strict=True)
            words = [w for w, rect in pairs if (marks & _inside([rect], marks.shape)).any()]
            best = max((similarity(normalise(text), normalise(w)) for w in words), default=0.0)
            figures[f"read:{alphabet}"].append(best)
            out = decode_image(outcome.image).rgb if outcome.image else marked
            figures[f"psnr_before:{alphabet}"].append(psnr(marked, clean, marks))
            figures[f"psnr_after:{alphabet}"].append(psnr(out, clean, marks))
            far = ~(grow(truth, 4) > 0)
            figures[f"outside:{alphabet}"].append(float((out[far] != marked[far]).any()))
        print(f"  {index + 1} photos", file=sys.stderr)
    return figures


def report(figures: dict[str, list[float]]) -> None:
    """Print the table."""
    print("| alphabet | images | found | read (char accuracy) | PSNR in the mark: before -> "
          "after | changed elsewhere | ms / image |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for alphabet in ALPHABETS:
        f = {key.split(":")[0]: v for key, v in figures.items() if key.endswith(":" + alphabet)}
        print(f"| {alphabet} | {len(f['found'])} | {np.mean(f['found']):.2f} | "
              f"{np.mean(f['read']):.2f} | {np.mean(f['psnr_before']):.1f} -> "
              f"{np.mean(f['psnr_after']):.1f} dB | {np.mean(f['outside']):.2f} | "
              f"{np.median(f['ms']):.0f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=24, help="clean photos used")
    args = parser.parse_args()
    if not (SHARED / "bench").is_dir():
        print(f"no photos: {SHARED / 'bench'} is missing", file=sys.stderr)
        return 1
    report(run(args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
