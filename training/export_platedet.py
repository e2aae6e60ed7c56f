"""Export a training checkpoint to weights/platedet.onnx and print its sha256 and size.

  training/.venv/bin/python training/export_platedet.py --ckpt training/out/run1/best.pt

ONNX: opset 17, input "image" [N,3,H,W] float32 RGB 0..255 (no normalisation), H/W dynamic
(multiples of 32); outputs "heatmap" [N,1,H/4,W/4] (sigmoid), "size" [N,2,H/4,W/4]
(log(h/4), log(w/4)), "offset" [N,2,H/4,W/4] (dy, dx). Decoding: see platedet_decode.py.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platedet_model import PlateDet, PlateDetExport

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ckpt", type=Path, default=ROOT / "training" / "out" / "run1" / "best.pt")
    ap.add_argument("--out", type=Path, default=ROOT / "weights" / "platedet.onnx")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    net = PlateDet()
    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    net.load_state_dict(ck["model"])
    model = PlateDetExport(net).eval()
    print(f"checkpoint {args.ckpt}: step {ck['step']}, best val score {ck['best']:.3f}")

    x = torch.rand(1, 3, 384, 640) * 255
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (x,),
        str(args.out),
        opset_version=args.opset,
        dynamo=False,
        input_names=["image"],
        output_names=["heatmap", "size", "offset"],
        dynamic_axes={
            "image": {0: "N", 2: "H", 3: "W"},
            "heatmap": {0: "N", 2: "H4", 3: "W4"},
            "size": {0: "N", 2: "H4", 3: "W4"},
            "offset": {0: "N", 2: "H4", 3: "W4"},
        },
        do_constant_folding=True,
    )
    import onnx

    m = onnx.load(str(args.out))
    onnx.checker.check_model(m)
    m.doc_string = (
        "Licence-plate detector (CenterNet-style) on the CenterFace trunk. Input image [N,3,H,W] "
        "float32 RGB 0..255, H,W multiples of 32. Outputs at stride 4: heatmap (sigmoid), "
        "size (log(h/4), log(w/4)), offset (dy, dx). See weights/platedet.md."
    )
    onnx.save(m, str(args.out))

    # check against torch at another size
    import openvino as ov

    core = ov.Core()
    cm = core.compile_model(str(args.out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    y = torch.rand(1, 3, 480, 736) * 255
    with torch.no_grad():
        ref = [t.numpy() for t in model(y)]
    got = cm(y.numpy())
    for i, name in enumerate(["heatmap", "size", "offset"]):
        diff = float(np.abs(got[cm.output(name)] - ref[i]).max())
        print(f"{name}: shape {tuple(got[cm.output(name)].shape)} max|ov-torch| {diff:.2e}")

    data = args.out.read_bytes()
    print(f"wrote {args.out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
