"""Quantise PP-OCRv4's text detector to INT8 (NNCF post-training, OpenVINO backend) into
weights/ppocr_det_int8.xml/.bin, checked on plate photos, and print the files' sha256.

  python3 -m venv training/.venv-nncf
  training/.venv-nncf/bin/pip install nncf==2.19.0 openvino==2026.4.1 opencv-python-headless \
      pyclipper pyyaml
  training/.venv-nncf/bin/python training/quantize_ppocr_det.py

Calibration: 110 photos of ../shared/data/platetrain (openlpr_train every 20th of the first
2000, ro_dashcam every 27th), pre-processed as blur_sdk.core.models.ppocr.prob_map does (BGR,
x / 127.5 - 1, short side up to 736, long side at most 1280, padded to multiples of 32).
Validation (NNCF's accuracy control, at most 0.005 lost): the share of the plates of 254 other
platetrain photos (openlpr_train, uc3m_lp, ro_dashcam) that a text box found at DB score 0.4
covers by at least 30 %. The dev sets (openlpr_val, the crop sets) are never used here.
NNCF's ONNX backend (QuantizeLinear / DequantizeLinear nodes) gave a model whose probability map
was empty (max 5e-4 against 1.0): the OpenVINO backend is the one that works.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import cv2
import nncf
import numpy as np
import openvino as ov

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from blur_sdk.core.models.ppocr import DET_SHAPE_STEP, decode_db, det_scale  # noqa: E402
from blur_sdk.core.models.runner import bucket  # noqa: E402

PLATETRAIN = ROOT.parent / "shared" / "data" / "platetrain"
Item = tuple[np.ndarray, list[np.ndarray], int, int]  # input, plate boxes (input px), h, w


def photos(
    set_name: str, every: int, start: int, limit: int
) -> list[tuple[Path, list[list[float]]]]:
    """Every `every`-th labelled photo of a platetrain set from `start`, at most `limit`."""
    folder = PLATETRAIN / set_name
    rows = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]
    return [(folder / r["image"], [p["box"] for p in r["plates"]]) for r in rows[start::every]][
        :limit
    ]


def prepare(path: Path) -> tuple[np.ndarray, float, int, int]:
    """The detector's input for one photo, its scale and the image's size in it."""
    bgr = cv2.imread(str(path))
    height, width = bgr.shape[:2]
    scale = det_scale(width, height)
    new_w, new_h = max(32, round(width * scale)), max(32, round(height * scale))
    resized = cv2.resize(bgr, (new_w, new_h))
    shape = (1, 3, bucket(new_h, DET_SHAPE_STEP), bucket(new_w, DET_SHAPE_STEP))
    batch = np.zeros(shape, np.float32)
    batch[0, :, :new_h, :new_w] = resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1
    return batch, scale, new_h, new_w


def plates_found(compiled: ov.CompiledModel, items: list[Item]) -> float:
    """Share of plates that a DB text box (score >= 0.4) covers by at least 30 %."""
    hits = total = 0
    for batch, boxes, height, width in items:
        prob = compiled(batch)[0][0, 0, :height, :width]
        rects = [
            (q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max())
            for q in (t.quad for t in decode_db(prob, 0.4, 1.0, 1.0))
        ]
        for b in boxes:
            area = max(1.0, (b[2] - b[0]) * (b[3] - b[1]))
            covers = [
                max(0, min(b[2], r[2]) - max(b[0], r[0]))
                * max(0, min(b[3], r[3]) - max(b[1], r[1]))
                / area
                for r in rects
            ]
            hits += max(covers, default=0.0) >= 0.3
            total += 1
    return hits / total


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, default=ROOT / "models" / "ch_PP-OCRv4_det_infer.onnx"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "weights" / "ppocr_det_int8.xml")
    args = parser.parse_args()
    calibration = [prepare(p)[0] for p, _ in photos("openlpr_train", 20, 0, 100)]
    calibration += [prepare(p)[0] for p, _ in photos("ro_dashcam", 27, 0, 10)]
    validation: list[Item] = []
    for path, boxes in (
        photos("openlpr_train", 9, 5, 150)
        + photos("uc3m_lp", 15, 7, 80)
        + photos("ro_dashcam", 11, 3, 30)
    ):
        batch, scale, height, width = prepare(path)
        validation.append((batch, [np.array(b) * scale for b in boxes], height, width))
    core = ov.Core()
    model = core.read_model(str(args.model))
    model.reshape({model.inputs[0].any_name: ov.PartialShape([1, 3, -1, -1])})
    print(f"f32: plates found {plates_found(core.compile_model(model, 'CPU'), validation):.3f}")
    quantised = nncf.quantize_with_accuracy_control(
        model,
        nncf.Dataset(calibration),
        nncf.Dataset(validation),
        validation_fn=plates_found,
        max_drop=0.005,
        drop_type=nncf.DropType.ABSOLUTE,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(calibration),
    )
    ov.save_model(quantised, str(args.out))
    found = plates_found(core.compile_model(quantised, "CPU"), validation)
    print(f"int8: plates found {found:.3f}")
    for path in (args.out, args.out.with_suffix(".bin")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes, sha256 {sha256(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
