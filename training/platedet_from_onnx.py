"""Recover a PlateDet checkpoint from weights/platedet.onnx (its initialisers are the model's
state_dict under the export wrapper's `net.` prefix), so that a later run can start from the
shipped weights with `train_platedet.py --init` when the original checkpoint is gone.

  training/.venv/bin/python training/platedet_from_onnx.py --out training/out/shipped.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platedet_model import PlateDet, PlateDetExport

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=ROOT / "weights" / "platedet.onnx")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    graph = onnx.load(str(args.onnx)).graph
    weights = {
        i.name.removeprefix("net."): torch.from_numpy(numpy_helper.to_array(i).copy())
        for i in graph.initializer
        if i.name.startswith("net.")
    }
    net = PlateDet()
    state = net.state_dict()
    missing = [k for k in state if k not in weights and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"not in {args.onnx}: {missing[:8]} ({len(missing)})")
    net.load_state_dict({k: weights.get(k, v) for k, v in state.items()})
    import openvino as ov

    compiled = ov.Core().compile_model(str(args.onnx), "CPU")
    x = torch.rand(1, 3, 320, 480) * 255
    with torch.no_grad():
        ref = [t.numpy() for t in PlateDetExport(net).eval()(x)]
    got = compiled(x.numpy())
    diff = max(float(np.abs(got[compiled.output(n)] - r).max())
               for n, r in zip(("heatmap", "size", "offset"), ref, strict=True))  # fmt: skip
    print(f"max |onnx - torch| {diff:.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict(), "step": 1100, "best": float("nan")}, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
