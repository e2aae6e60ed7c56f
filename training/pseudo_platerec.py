"""Pseudo-label real plate crops of ../shared/data/platetrain for the plate recogniser.

Each labelled plate box (grown by the reader's READ_MARGIN) is read by the product's current
reader (PP-OCRv4 through OcrPlateDetector.read_crop, no region hint); a crop is kept when its
best reading fits a known plate format and scores >= --min-score. Output: OUT/crops/*.png and
OUT/labels.jsonl ({"image", "text", "score", "set"}). Run with the product's venv:
  .venv/bin/python training/pseudo_platerec.py --out training/data/pseudo
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blur_sdk.core.find.base import PlateOptions
from blur_sdk.core.find.engine import Engine
from blur_sdk.core.find.plate_rereads import READ_MARGIN, upright
from blur_sdk.core.geometry import expand_quad
from blur_sdk.core.plates.regions import KNOWN_FORMATS, matches
from blur_sdk.options import finder_config
from blur_sdk.settings import load_settings

DATA = Path("/work/shared/data/platetrain")
SETS = (("openlpr_train", None), ("ro_dashcam", "train"), ("uc3m_lp", "train"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-score", type=float, default=0.8)
    parser.add_argument("--min-height", type=float, default=12.0)
    args = parser.parse_args()
    (args.out / "crops").mkdir(parents=True, exist_ok=True)
    engine = Engine.build(finder_config(load_settings()), faces=False)
    ocr = next(f for f in engine.plate_detectors if hasattr(f, "read_crop"))
    options = PlateOptions()
    kept = seen = 0
    with (args.out / "labels.jsonl").open("w") as out:
        for name, split in SETS:
            for line in (DATA / name / "labels.jsonl").read_text().splitlines():
                row = json.loads(line)
                if split is not None and row.get("split") != split:
                    continue
                bgr = cv2.imread(str(DATA / name / row["image"]), cv2.IMREAD_COLOR)
                rgb = np.ascontiguousarray(bgr[:, :, ::-1])
                for k, plate in enumerate(row["plates"]):
                    x1, y1, x2, y2 = plate["box"]
                    if y2 - y1 < args.min_height:
                        continue
                    seen += 1
                    quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)
                    crop = upright(rgb, expand_quad(quad, *READ_MARGIN))
                    ranked = ocr.read_crop(crop, options)
                    if not ranked:
                        continue
                    text, score = ranked[0]
                    if score < args.min_score or not matches(text, KNOWN_FORMATS):
                        continue
                    file = f"{name}_{Path(row['image']).stem}_{k}.png"
                    cv2.imwrite(str(args.out / "crops" / file), crop[:, :, ::-1])
                    record = {"image": f"crops/{file}", "text": text, "score": score, "set": name}
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                    kept += 1
                if seen % 200 == 0:
                    print(f"{name}: seen {seen}, kept {kept}", flush=True)
    print(f"done: seen {seen}, kept {kept}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
