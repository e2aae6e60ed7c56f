"""Render a bank of synthetic plate crops for training the plate recogniser, in parallel.

  training/.venv/bin/python training/bank_platerec.py --out training/data/bank --count 80000
Writes OUT/part-K.npz (images: N x H x W x 3 uint8 at the recogniser's input size, texts).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platerec_model import BANK_H as INPUT_H
from platerec_model import BANK_W as INPUT_W
from platerec_synth import render

PART = 5000


def make_part(args: tuple[Path, int, int]) -> str:
    out, part, seed = args
    path = out / f"part-{part:03d}.npz"
    if path.exists():
        return f"{path} (kept)"
    rng = np.random.default_rng(seed)
    images = np.zeros((PART, INPUT_H, INPUT_W, 3), np.uint8)
    texts = []
    for i in range(PART):
        crop, text = render(rng)
        images[i] = cv2.resize(crop, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA)
        texts.append(text)
    np.savez(path.with_suffix(".tmp.npz"), images=images, texts=np.array(texts))
    path.with_suffix(".tmp.npz").rename(path)
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=80000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(args.out, k, args.seed + k) for k in range(args.count // PART)]
    with multiprocessing.Pool(args.jobs) as pool:
        for done in pool.imap_unordered(make_part, jobs):
            print(done, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
