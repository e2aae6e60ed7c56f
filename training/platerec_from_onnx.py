"""Recover a PlateRec checkpoint from weights/platerec.onnx, so that a later run can fine-tune the
shipped weights (`train_platerec.py --init OUT --freeze-bn`) when the original checkpoint is gone.

The export folded each BatchNorm into the convolution before it (the ONNX initialisers are the
folded kernels and biases, in the network's order); here each conv gets its folded kernel and its
BatchNorm becomes the identity plus that bias (running mean 0, variance 1 - eps, weight 1), so the
network computes exactly what the ONNX does as long as its BatchNorm statistics stay frozen.

  training/.venv/bin/python training/platerec_from_onnx.py --out training/out/shipped_rec.pt
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platerec_model import INPUT_H, Exported, PlateRec

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=ROOT / "weights" / "platerec.onnx")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    graph = onnx.load(str(args.onnx)).graph
    arrays = {i.name: numpy_helper.to_array(i).copy() for i in graph.initializer}
    folded = [
        n.input[1:] for n in graph.node if n.op_type == "Conv" and n.input[1].startswith("onnx::")
    ]
    net = PlateRec()
    layers = list(net.features.modules())
    pairs = [(a, b) for a, b in itertools.pairwise(layers)
             if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)]  # fmt: skip
    if len(pairs) != len(folded):
        raise SystemExit(f"{len(folded)} folded convs in {args.onnx}, {len(pairs)} in PlateRec")
    with torch.no_grad():
        for (conv, bn), (kernel, bias) in zip(pairs, folded, strict=True):
            conv.weight.copy_(torch.from_numpy(arrays[kernel]))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(arrays[bias]))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        net.classify.weight.copy_(torch.from_numpy(arrays["net.classify.weight"]))
        net.classify.bias.copy_(torch.from_numpy(arrays["net.classify.bias"]))
    import openvino as ov

    compiled = ov.Core().compile_model(str(args.onnx), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    x = torch.rand(4, 3, INPUT_H, net.arch.input_w)
    with torch.no_grad():
        ref = Exported(net).eval()(x).numpy()
    diff = float(np.abs(compiled(x.numpy())[0] - ref).max())
    print(f"max |onnx - torch| {diff:.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict(), "step": 0, "best": float("nan")}, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
