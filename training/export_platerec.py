"""Export a plate-recogniser checkpoint to ONNX (CTC softmax per step, alphabet in metadata).

  training/.venv/bin/python training/export_platerec.py \
      training/out/ctc1/best.pt weights/platerec.onnx
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platerec_model import ALPHABET, INPUT_H, Exported, PlateRec


def main() -> int:
    checkpoint, target = Path(sys.argv[1]), Path(sys.argv[2])
    state = torch.load(checkpoint, weights_only=False)
    net = PlateRec(state.get("arch", "s"))
    net.load_state_dict(state["model"])
    model = Exported(net).eval()
    dummy = torch.zeros(1, 3, INPUT_H, net.arch.input_w)
    torch.onnx.export(
        model, (dummy,), str(target), input_names=["image"], output_names=["probs"],
        dynamic_axes={"image": {0: "n"}, "probs": {0: "n"}}, opset_version=17, dynamo=False,
    )  # fmt: skip
    proto = onnx.load(str(target))
    for key, value in (("alphabet", ALPHABET), ("input_size", f"{INPUT_H}x{net.arch.input_w}")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(target))
    print(target, target.stat().st_size, hashlib.sha256(target.read_bytes()).hexdigest())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
