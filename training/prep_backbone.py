"""Cut CenterFace (MIT, /work/main/models/centerface.onnx) at its stride-4 neck output and convert to torch.

Writes out/centerface_trunk.pt (a torch fx GraphModule, whole object) and prints a sanity check.
"""
import sys
import types

# onnx2torch imports torchvision only for its NMS/RoiAlign converters, which this graph does not
# use; the PyPI torchvision wheels do not match the CPU torch 2.13 wheel, so stub the module.
_tv = types.ModuleType("torchvision"); _ops = types.ModuleType("torchvision.ops")
_ops.roi_align = None; _tv.ops = _ops
sys.modules.setdefault("torchvision", _tv); sys.modules.setdefault("torchvision.ops", _ops)
import onnx
import torch
from onnx import helper, shape_inference
from onnx2torch import convert

SRC = "/work/main/models/centerface.onnx"
FEAT = "535"  # ReLU after the 3x3 head conv: 24 ch at stride 4

m = onnx.load(SRC)
g = m.graph
init_names = {i.name for i in g.initializer}
# drop initializers listed as graph inputs (IR 4 style), keep the image input
keep_inputs = [i for i in g.input if i.name not in init_names]
assert len(keep_inputs) == 1, [i.name for i in keep_inputs]
del g.input[:]
g.input.extend(keep_inputs)
inp = g.input[0]
dims = inp.type.tensor_type.shape.dim
dims[0].dim_param = "N"; dims[2].dim_param = "H"; dims[3].dim_param = "W"
# new output: the stride-4 feature
del g.output[:]
g.output.extend([helper.make_tensor_value_info(FEAT, onnx.TensorProto.FLOAT, ["N", 24, "h4", "w4"])])
del g.value_info[:]
m = onnx.utils.Extractor(m).extract_model([inp.name], [FEAT]) if False else m
# prune unused nodes (the old heads)
needed = {FEAT}
nodes = []
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
onnx.save(m, "out/centerface_trunk.onnx")
tm = convert(m)
tm.eval()
x = torch.rand(1, 3, 256, 320) * 255
with torch.no_grad():
    y = tm(x)
print("feat", tuple(y.shape), float(y.mean()))
torch.save(tm, "out/centerface_trunk.pt")
