"""Quick reading figures of a recogniser checkpoint on the crop sets (exact top-1, raw and with
the product's formats), for choosing among runs; bench/plate_reading.py is the real measure.

  training/.venv/bin/python training/eval_platerec.py training/out/rec1/best.pt [--limit 80]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from platerec_model import ALPHABET, INPUT_H, PlateRec

from bench.vehicle_codes import VEHICLE_CODES
from blur_sdk.core.plates import text as plate_text
from blur_sdk.core.plates.regions import region_formats

DATA = Path("/work/shared/data/plates")


def chars_of(probs: np.ndarray) -> list[tuple[str, float, str, float]]:
    """Greedy CTC (class 0 blank) with each character's runner-up, as the product decodes."""
    out, previous = [], 0
    for t, (second, best) in enumerate(np.argsort(probs, axis=1)[:, -2:]):
        if best not in (0, previous):
            alt = ALPHABET[second - 1] if second > 0 else ""
            out.append((ALPHABET[best - 1], float(probs[t, best]), alt, float(probs[t, second])))
        previous = best
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--limit", type=int, default=80)
    args = parser.parse_args()
    state = torch.load(args.checkpoint, weights_only=False)
    net = PlateRec(state.get("arch", "s"))
    net.load_state_dict(state["model"])
    net.eval()
    for name in ("br_crops_dev", "eu_crops_dev"):
        rows = [json.loads(x) for x in (DATA / name / "labels.jsonl").read_text().splitlines()]
        rows = rows[: args.limit] if args.limit else rows
        raw = fmt = hint = 0
        misses = []
        for r in rows:
            img = cv2.imread(str(DATA / name / r["image"]))[:, :, ::-1]
            x = cv2.resize(img, (net.arch.input_w, INPUT_H), interpolation=cv2.INTER_AREA)
            x = torch.from_numpy(x.copy()).permute(2, 0, 1)[None].float() / 255
            with torch.no_grad():
                probs = torch.softmax(net(x), -1)[0].numpy()
            chars = chars_of(probs)
            truth = r["plates"][0]["text"]
            text = "".join(c[0] for c in chars)
            raw += text == truth
            ranked = plate_text.candidates(chars)
            fmt += bool(ranked) and ranked[0][0] == truth
            region = VEHICLE_CODES.get(r["region"], r["region"])
            ranked_h = plate_text.candidates(chars, region_formats((region,)))
            hint += bool(ranked_h) and ranked_h[0][0] == truth
            if not ranked or ranked[0][0] != truth:
                misses.append(f"{truth}->{ranked[0][0] if ranked else ''}")
        n = len(rows)
        print(f"{name}: raw {raw / n:.3f} formats {fmt / n:.3f} hint {hint / n:.3f} (n={n})")
        print("  ", " ".join(misses[:20]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
