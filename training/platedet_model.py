"""Plate detector model: CenterFace trunk (MIT) cut at its stride-4 feature + new CenterNet heads.

Shared by train_platedet.py and export_platedet.py (training venv: torch, onnx, onnx2torch).

Output conventions follow CenterFace so a runtime can reuse the same decoder:
  heatmap [N,1,H/4,W/4]  sigmoid score of a plate centre
  size    [N,2,H/4,W/4]  ch0 = log(box_h / 4), ch1 = log(box_w / 4)
  offset  [N,2,H/4,W/4]  ch0 = dy, ch1 = dx; centre = ((x + dx + 0.5) * 4, (y + dy + 0.5) * 4)
Input: [N,3,H,W] float32 RGB in 0..255 (no mean/std), H and W multiples of 32.
"""

from __future__ import annotations

import sys
import types

import torch
from torch import nn

CENTERFACE = "/work/main/models/centerface.onnx"
FEAT = "535"  # ReLU after CenterFace's 3x3 head conv: 24 channels at stride 4
FEAT_CH = 24
STRIDE = 4


def _stub_torchvision() -> None:
    """onnx2torch imports torchvision only for NMS/RoiAlign converters (unused here); the PyPI
    torchvision wheels do not match the CPU torch 2.13 wheel, so a stub module is enough."""
    if "torchvision" in sys.modules:
        return
    tv = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    ops.roi_align = None
    tv.ops = ops
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.ops"] = ops


def centerface_trunk_onnx(src: str = CENTERFACE):
    """The CenterFace graph with dynamic N/H/W, cut at the stride-4 feature (heads removed)."""
    import onnx
    from onnx import helper

    m = onnx.load(src)
    g = m.graph
    init_names = {i.name for i in g.initializer}
    image_inputs = [i for i in g.input if i.name not in init_names]
    assert len(image_inputs) == 1, [i.name for i in image_inputs]
    del g.input[:]
    g.input.extend(image_inputs)
    dims = g.input[0].type.tensor_type.shape.dim
    dims[0].dim_param, dims[2].dim_param, dims[3].dim_param = "N", "H", "W"
    del g.output[:]
    g.output.extend(
        [helper.make_tensor_value_info(FEAT, onnx.TensorProto.FLOAT, ["N", FEAT_CH, "h", "w"])]
    )
    del g.value_info[:]
    needed, nodes = {FEAT}, []
    for n in reversed(list(g.node)):
        if any(o in needed for o in n.output):
            nodes.append(n)
            needed.update(n.input)
    nodes.reverse()
    del g.node[:]
    g.node.extend(nodes)
    used = {x for n in g.node for x in n.input}
    inits = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    onnx.checker.check_model(m)
    return m


def build_trunk(src: str = CENTERFACE) -> nn.Module:
    """CenterFace trunk as a torch fx GraphModule (pretrained weights, BN folded in)."""
    _stub_torchvision()
    from onnx2torch import convert

    return convert(centerface_trunk_onnx(src))


def conv_index(param_name: str) -> int:
    """Order of a backbone Conv in the graph (Conv, Conv_1, ...); large for anything else."""
    base = param_name.split(".", maxsplit=1)[0]
    if base == "Conv":
        return 0
    if base.startswith("Conv_") and base[5:].isdigit():
        return int(base[5:])
    return 10**6


def _head(out_ch: int, mid: int = 48) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(FEAT_CH, mid, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(mid, out_ch, 1)
    )


class PlateDet(nn.Module):
    """Trunk + heatmap/size/offset heads. forward() returns (heat_logits, size, offset)."""

    def __init__(self, trunk: nn.Module | None = None) -> None:
        super().__init__()
        self.trunk = trunk if trunk is not None else build_trunk()
        self.heat = _head(1)
        self.size = _head(2)
        self.offset = _head(2)
        nn.init.constant_(self.heat[-1].bias, -2.19)  # prior 0.1, CenterNet
        nn.init.constant_(self.size[-1].bias, 1.5)
        for h in (self.heat, self.size, self.offset):
            nn.init.normal_(h[-1].weight, std=0.01)

    def forward(self, x: torch.Tensor):
        f = self.trunk(x)
        return self.heat(f), self.size(f), self.offset(f)

    def train(self, mode: bool = True):
        super().train(mode)
        for m in self.modules():  # keep the neck's BatchNorm statistics frozen (tiny batches)
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


class PlateDetExport(nn.Module):
    """Export wrapper: sigmoid on the heatmap, named outputs heatmap/size/offset."""

    def __init__(self, net: PlateDet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor):
        h, s, o = self.net(x)
        return torch.sigmoid(h), s, o
