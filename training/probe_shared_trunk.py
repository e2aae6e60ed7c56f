"""Can plate heads sit on CenterFace's frozen trunk (one network pass for faces and plates)?

Run with the project venv (openvino, cv2, numpy; no torch):
  .venv/bin/python training/probe_shared_trunk.py [--train 700] [--step 3]

The plate detector (weights/platedet.md) is CenterFace's trunk fine-tuned for plates. A head on
the frozen face trunk would save the detector's whole pass if that trunk's last features (the
24-channel stride-4 map both networks end in: CenterFace's tensor `535`, our detector's
`/net/trunk/Relu_41/Relu`) told plates apart as well. The same probe, a small MLP on each cell's
3x3 neighbourhood of that map (216 -> 48 -> 1, like the detector's heatmap head), is trained on
each trunk's features of every `--step`-th photo of platetrain/openlpr_train (up to `--train`) to
mark plate centres, and measured on plates/openlpr_val: plates found (a 3x3 peak of the probe's
map at or above the threshold inside the labelled box) against peaks elsewhere per photo. Our
detector's own heatmap is measured the same way, for scale. CenterFace's trunk is probed at the
face pass's scale (a long side of 800: FACE_MIN_RESOLUTION) and at the detector's (512).
Prints one line per trunk and threshold. Nothing of openlpr_val is trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import blur_sdk.core.find  # noqa: E402, F401  (first: geometry and find import each other)
from blur_sdk.core.geometry import heatmap_peaks  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRUNKS = {  # name: (model file, feature tensor, long side, upscale small photos)
    "platedet trunk @512": ("platedet.onnx", "/net/trunk/Relu_41/Relu_output_0", 512, False),
    "CenterFace trunk @800": ("centerface.onnx", "535", 800, True),
    "CenterFace trunk @512": ("centerface.onnx", "535", 512, False),
}
THRESHOLDS = (0.9, 0.97, 0.99, 0.995, 0.998, 0.999, 0.9995)
HEAT_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
rng = np.random.default_rng(0)


def compiled(name: str, feature: str) -> ov.CompiledModel:
    """The model with its feature map as an extra output (f32, any input size)."""
    core = ov.Core()
    model = core.read_model(str(ROOT / "models" / name))
    model.reshape({model.inputs[0].any_name: ov.PartialShape([1, 3, -1, -1])})
    model.add_outputs([feature])
    return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})


def run(model: ov.CompiledModel, rgb: np.ndarray, side: int, upscale: bool) -> dict[str, Any]:
    """The feature map (24, H/4, W/4), the heatmap if the model has one, and the scale."""
    h, w = rgb.shape[:2]
    scale = side / max(h, w) if upscale else min(side, max(w, h, 320)) / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)
    batch = np.zeros((1, 3, -(-nh // 32) * 32, -(-nw // 32) * 32), np.float32)
    batch[0, :, :nh, :nw] = resized.transpose(2, 0, 1)  # RGB 0..255, as both networks take
    out = model(batch)
    feature = next(v for k, v in out.items() if k.get_partial_shape()[1].get_length() == 24)
    heat = next((v[0, 0] for k, v in out.items() if "heatmap" in k.get_names()), None)
    return {"feature": feature[0].astype(np.float16), "heat": heat, "scale": scale}


def photos(folder: Path, limit: int, step: int) -> Iterator[tuple[list[list[float]], np.ndarray]]:
    """(plate boxes, RGB) of every step-th labelled photo, up to limit."""
    rows = [json.loads(line) for line in (folder / "labels.jsonl").open()][::step][:limit]
    for row in rows:
        bgr = cv2.imread(str(folder / row["image"]))
        if bgr is not None:
            yield [p["box"] for p in row["plates"]], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def unfold(feature: np.ndarray) -> np.ndarray:
    """Each cell's 3x3 neighbourhood of the map, (H*W, 9*C)."""
    f = feature.astype(np.float32)
    c, h, w = f.shape
    padded = np.pad(f, ((0, 0), (1, 1), (1, 1)))
    cols = [padded[:, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return np.concatenate(cols, 0).reshape(9 * c, h * w).T


def cell_labels(boxes: list[list[float]], scale: float, shape: tuple[int, ...]) -> np.ndarray:
    """Per cell: 1 near a plate's centre, 0 away from every plate, -1 (ignored) in between."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cy, cx = (yy + 0.5) * 4 / scale, (xx + 0.5) * 4 / scale
    labels = np.zeros(shape, np.int8)
    for x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        near = (cx >= x0 - 0.2 * w) & (cx <= x1 + 0.2 * w) & (cy >= y0 - 0.3 * h)
        labels[near & (cy <= y1 + 0.3 * h)] = -1
        rx, ry = max(w / 6, 2 / scale), max(h / 4, 2 / scale)
        labels[((cx - (x0 + x1) / 2) / rx) ** 2 + ((cy - (y0 + y1) / 2) / ry) ** 2 <= 1] = 1
    return labels.ravel()


def train_probe(x: np.ndarray, y: np.ndarray, steps: int = 4000) -> Callable[[np.ndarray], Any]:
    """An MLP (216 -> 48 -> 1) fitted with Adam on balanced batches; returns cells -> score."""
    mu, sd = x.mean(0), x.std(0) + 1e-3
    xn = (x - mu) / sd
    params = [
        rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], 48)).astype(np.float32),
        np.zeros(48, np.float32),
        rng.normal(0, np.sqrt(1 / 48), (48, 1)).astype(np.float32),
        np.zeros(1, np.float32),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    for t in range(1, steps + 1):
        idx = np.concatenate([rng.choice(pos, 512), rng.choice(neg, 1536)])
        w1, b1, w2, b2 = params
        hidden = np.maximum(xn[idx] @ w1 + b1, 0)
        g = (1 / (1 + np.exp(-(hidden @ w2 + b2))) - y[idx][:, None]) / len(idx)
        gh = g @ w2.T * (hidden > 0)
        grads = [xn[idx].T @ gh + 1e-4 * w1, gh.sum(0), hidden.T @ g + 1e-4 * w2, g.sum(0)]
        for i, grad in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad * grad
            params[i] -= 2e-3 * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
    w1, b1, w2, b2 = params
    return lambda cells: 1 / (1 + np.exp(-(np.maximum(((cells - mu) / sd) @ w1 + b1, 0) @ w2 + b2)))


def found_and_false(
    val: list[tuple[list[list[float]], np.ndarray, float]], threshold: float
) -> tuple[float, float]:
    """Share of plates with a peak inside, and peaks outside every plate per photo."""
    found = total = false = 0
    for boxes, heat, scale in val:
        ys, xs = heatmap_peaks(np.asarray(heat, np.float32), threshold)  # (the product's peaks)
        points = (np.stack([xs, ys], 1) + 0.5) * 4 / scale
        inside = [[b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes] for x, y in points]
        total += len(boxes)
        found += sum(any(row[i] for row in inside) for i in range(len(boxes)))
        false += sum(not any(row) for row in inside)
    return found / max(total, 1), false / max(len(val), 1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--train", type=int, default=700, help="training photos")
    parser.add_argument("--step", type=int, default=3, help="every n-th openlpr_train photo")
    args = parser.parse_args()
    train_dir, val_dir = DATA / "platetrain" / "openlpr_train", DATA / "plates" / "openlpr_val"
    if not (train_dir / "labels.jsonl").is_file() or not (val_dir / "labels.jsonl").is_file():
        print(f"needs {train_dir} and {val_dir}")
        return 1
    for name, (file, tensor, side, upscale) in TRUNKS.items():
        model = compiled(file, tensor)
        xs, ys = [], []
        for boxes, rgb in photos(train_dir, args.train, args.step):
            out = run(model, rgb, side, upscale)
            labels = cell_labels(boxes, out["scale"], out["feature"].shape[1:])
            pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
            idx = np.concatenate([pos, rng.choice(neg, min(len(neg), 400), replace=False)])
            xs.append(unfold(out["feature"])[idx])
            ys.append((labels[idx] == 1).astype(np.float32))
        probe = train_probe(np.concatenate(xs), np.concatenate(ys))
        val, heats = [], []
        for boxes, rgb in photos(val_dir, 100_000, 1):
            out = run(model, rgb, side, upscale)
            shape = out["feature"].shape[1:]
            val.append((boxes, probe(unfold(out["feature"])).reshape(shape), out["scale"]))
            if out["heat"] is not None:
                heats.append((boxes, out["heat"], out["scale"]))
        for label, rows, thresholds in (
            (f"{name}, its own heatmap", heats, HEAT_THRESHOLDS),
            (f"{name}, probe", val, THRESHOLDS),
        ):
            for threshold in thresholds if rows else ():
                found, false = found_and_false(rows, threshold)
                print(f"{label}: threshold {threshold}: found {found:.3f}, elsewhere {false:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
