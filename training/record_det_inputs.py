"""Record every input the product feeds PP-OCRv4's text detector, over platetrain photos, for
quantising it (training/quantize_ppocr_det.py): the whole photos and the plate crops read on
their own, each exactly as the engine prepares it. Run with the product's venv:

  .venv/bin/python training/record_det_inputs.py --out training/data/det_inputs

Writes OUT/calibration.npz and OUT/validation.npz (arrays arr_0..., and `crop`: which inputs
are plate crops). Calibration: 150 photos (openlpr_train every 20th of the first 2000, ro_dashcam
every 27th, uc3m_lp every 40th); validation: 230 other photos (openlpr_train, uc3m_lp,
ro_dashcam). The evaluation sets (openlpr_val, ccpd_sample, the crop sets) are never used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from blur_sdk.core.find.base import PlateOptions  # noqa: E402
from blur_sdk.core.find.engine import Engine  # noqa: E402
from blur_sdk.core.models import runner  # noqa: E402
from blur_sdk.core.models.inputs import float_input  # noqa: E402
from blur_sdk.options import finder_config  # noqa: E402
from blur_sdk.settings import load_settings  # noqa: E402

PLATETRAIN = ROOT.parent / "shared" / "data" / "platetrain"
# (set, start, every, at most) per split; no photo is in both
SPLITS = {
    "calibration": (
        ("openlpr_train", 0, 20, 100),
        ("ro_dashcam", 0, 27, 10),
        ("uc3m_lp", 1, 40, 40),
    ),
    "validation": (
        ("openlpr_train", 3, 20, 100),
        ("uc3m_lp", 9, 13, 100),
        ("ro_dashcam", 5, 9, 30),
    ),
}


def photos(split: str) -> list[Path]:
    """The split's photos."""
    out = []
    for name, start, every, limit in SPLITS[split]:
        lines = (PLATETRAIN / name / "labels.jsonl").read_text().splitlines()
        out += [
            PLATETRAIN / name / json.loads(line)["image"] for line in lines[start::every][:limit]
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "training" / "data" / "det_inputs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    recorded: list[tuple[np.ndarray, bool]] = []
    infer = runner.OpenVinoRunner.infer

    def recording(self: runner.OpenVinoRunner, batch: Any, dynamic: bool = False) -> Any:
        if self.path.name.startswith("ch_PP-OCRv4_det"):
            # (the model file's own input: the runner feeds u8 images, normalised in its graph;
            # dynamic: a plate crop read on its own)
            recorded.append((float_input(batch, self.u8_input), dynamic))
        return infer(self, batch, dynamic)

    runner.OpenVinoRunner.infer = recording  # type: ignore[method-assign]
    # (on the f32 detector, the one being quantised, whatever OV_PRECISION says: on a CPU with
    # VNNI the default would run the INT8 one, and find and crop other plates)
    settings = dataclasses.replace(load_settings(), ov_precision="f32")
    engine = Engine.build(finder_config(settings), faces=False)
    for split in SPLITS:
        recorded.clear()
        paths = photos(split)
        for path in paths:
            bgr = cv2.imread(str(path))
            if bgr is None:
                raise SystemExit(f"cannot read {path}")
            rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
            engine.detect(rgb, plate_options=PlateOptions(mode="redaction"))
        crops = np.array([dynamic for _, dynamic in recorded])
        np.savez_compressed(args.out / f"{split}.npz", *[b for b, _ in recorded], crop=crops)
        print(f"{split}: {len(paths)} photos, {len(crops)} inputs ({crops.sum()} crops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
