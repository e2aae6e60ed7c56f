"""Train the plate recogniser (training/platerec_model.py) on CPU, with checkpoints and resume.

Data: the synthetic bank (training/bank_platerec.py; parts are picked up as they appear) and
real plate crops of ../shared/data/platetrain pseudo-labelled by the current reader
(training/pseudo_platerec.py), of which every 10th is held out for validation with 2,000
synthetic crops of another seed. plates/br_crops_dev and eu_crops_dev are never read here.

  nice -n 5 training/.venv/bin/python training/train_platerec.py --out training/out/rec1
  ... --resume   continues from OUT/last.pt (model, optimiser, step, RNG state)
  ... --init training/out/ctc1/best.pt   a new schedule from an earlier run's weights
  ... --init training/out/shipped_rec.pt --freeze-bn   fine-tune the shipped weights
      (training/platerec_from_onnx.py; their BatchNorm statistics are folded, so kept frozen)
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platerec_model import ALPHABET, ARCHS, INPUT_H, MAX_CHARS, PlateRec
from platerec_synth import render

cv2.setNumThreads(1)
INDEX = {c: i + 1 for i, c in enumerate(ALPHABET)}  # 0: the CTC blank


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S", time.gmtime()), msg, flush=True)


def encode(text: str) -> np.ndarray:
    """Class ids of the text, padded with zeros to MAX_CHARS (lengths are given apart)."""
    ids = [INDEX[c] for c in text[:MAX_CHARS]]
    return np.array(ids + [0] * (MAX_CHARS - len(ids)), np.int64)


def decode(ids: np.ndarray) -> str:
    """Greedy CTC: repeats merged, blanks dropped."""
    out, previous = [], 0
    for i in ids:
        if i not in (0, previous):
            out.append(ALPHABET[i - 1])
        previous = int(i)
    return "".join(out)


def to_input(rgb: np.ndarray, width: int) -> np.ndarray:
    """An RGB crop as the network's input (INPUT_H x width x 3 uint8)."""
    return cv2.resize(rgb, (width, INPUT_H), interpolation=cv2.INTER_AREA)


def jitter(img: np.ndarray, rng: np.random.Generator, width: int) -> np.ndarray:
    """A random re-crop (margins in or out a little), then INPUT size; colour jitter."""
    h, w = img.shape[:2]
    dx1, dx2 = (rng.uniform(-0.06, 0.06, 2) * w).astype(int)
    dy1, dy2 = (rng.uniform(-0.1, 0.1, 2) * h).astype(int)
    p = max(dx1, dx2, dy1, dy2, -dx1, -dx2, -dy1, -dy2, 1)
    padded = cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_REPLICATE)
    y1, y2 = p + dy1, max(p + dy1 + 4, p + h - dy2)
    x1, x2 = p + dx1, max(p + dx1 + 4, p + w - dx2)
    crop = padded[y1:y2, x1:x2]
    out = to_input(crop, width).astype(np.float32)
    if rng.random() < 0.2:
        out = np.repeat(out.mean(axis=2, keepdims=True), 3, axis=2)
    out = (out - 128) * rng.uniform(0.7, 1.2) + 128 + rng.uniform(-25, 25)
    return np.clip(out, 0, 255).astype(np.uint8)


class Data:
    """Synthetic bank parts and pseudo-labelled real crops, batches mixing both."""

    def __init__(self, bank: Path, pseudo: Path, real_share: float, width: int) -> None:
        self.bank_dir = bank
        self.width = width
        self.parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.real_share = real_share
        rows = [json.loads(x) for x in (pseudo / "labels.jsonl").read_text().splitlines()]
        rows = [r for r in rows if len(r["text"]) <= MAX_CHARS and set(r["text"]) <= set(INDEX)]
        self.real = [(cv2.imread(str(pseudo / r["image"]))[:, :, ::-1], r["text"]) for r in rows]
        self.val_real = self.real[::10]
        self.train_real = [x for i, x in enumerate(self.real) if i % 10]

    def refresh(self) -> None:
        for path in sorted(self.bank_dir.glob("part-[0-9][0-9][0-9].npz")):
            if path.name not in self.parts:
                z = np.load(path)
                self.parts[path.name] = (z["images"], z["texts"])

    def batch(self, size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = [], []
        n_real = int(rng.binomial(size, self.real_share)) if self.train_real else 0
        for k in rng.integers(0, len(self.train_real), n_real) if n_real else ():
            img, text = self.train_real[int(k)]
            images.append(jitter(img, rng, self.width))
            labels.append(encode(text))
        names = list(self.parts)
        for _ in range(size - n_real):
            imgs, texts = self.parts[names[int(rng.integers(len(names)))]]
            k = int(rng.integers(len(imgs)))
            images.append(jitter(imgs[k], rng, self.width))
            labels.append(encode(str(texts[k])))
        return tensor(images), torch.from_numpy(np.stack(labels))


def tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255)


def synthetic_val(count: int) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(424242)
    return [render(rng) for _ in range(count)]


def train_mode(model: PlateRec, freeze_bn: bool) -> None:
    """Training mode; with freeze_bn, BatchNorm layers keep their running statistics."""
    model.train()
    for layer in model.modules():
        if freeze_bn and isinstance(layer, torch.nn.BatchNorm2d):
            layer.eval()


def accuracy(model: PlateRec, rows: list[tuple[np.ndarray, str]], freeze_bn: bool) -> float:
    model.eval()
    hits = 0
    with torch.no_grad():
        for i in range(0, len(rows), 256):
            chunk = rows[i : i + 256]
            batch = tensor([to_input(img, model.arch.input_w) for img, _ in chunk])
            ids = model(batch).argmax(-1).numpy()
            hits += sum(decode(p) == t for p, (_, t) in zip(ids, chunk, strict=True))
    train_mode(model, freeze_bn)
    return hits / max(1, len(rows))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bank", type=Path, default=Path("training/data/bank"))
    parser.add_argument("--pseudo", type=Path, default=Path("training/data/pseudo"))
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--real-share", type=float, default=0.25)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--ckpt-min", type=float, default=5.0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", type=Path, help="start from this checkpoint's weights")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--arch", choices=sorted(ARCHS), default="s")
    parser.add_argument("--freeze-bn", action="store_true", help="keep BatchNorm statistics")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(7)
    model = PlateRec(args.arch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step, best = 0, -1.0
    rng = np.random.default_rng(7)
    if args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        rng = np.random.default_rng(8)
        log(f"weights from {args.init}")
    if args.resume and (args.out / "last.pt").exists():
        state = torch.load(args.out / "last.pt", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, best, rng = state["step"], state["best"], state["rng"]
        log(f"resumed at step {step}, best {best:.3f}")
    data = Data(args.bank, args.pseudo, args.real_share, model.arch.input_w)
    data.refresh()
    val_syn = synthetic_val(2000)
    log(f"real crops: {len(data.train_real)} train, {len(data.val_real)} val")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))

    def save(name: str) -> None:
        state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                 "best": best, "rng": rng, "arch": args.arch}  # fmt: skip
        torch.save(state, args.out / f"{name}.tmp")
        (args.out / f"{name}.tmp").rename(args.out / name)

    last_ckpt, losses = time.time(), []
    train_mode(model, args.freeze_bn)
    while step < args.steps and not stop["now"]:
        if step % 100 == 0:
            data.refresh()
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        lr *= min(1.0, (step + 1) / args.warmup)  # warm-up
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = data.batch(args.batch, rng)
        log_probs = F.log_softmax(model(x), dim=-1).transpose(0, 1)  # T, N, C
        lengths = (y > 0).sum(1)
        steps = torch.full((len(y),), log_probs.shape[0], dtype=torch.long)
        loss = F.ctc_loss(log_probs, y, steps, lengths, blank=0, zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % args.eval_every == 0 or step == args.steps:
            syn = accuracy(model, val_syn, args.freeze_bn)
            real = accuracy(model, data.val_real, args.freeze_bn)
            score = (syn + real) / 2
            log(f"step {step} loss {np.mean(losses):.3f} lr {lr:.5f} val synthetic {syn:.3f} "
                f"real {real:.3f} bank parts {len(data.parts)}")  # fmt: skip
            losses = []
            if score > best:
                best = score
                save("best.pt")
        if time.time() - last_ckpt > args.ckpt_min * 60:
            save("last.pt")
            last_ckpt = time.time()
    save("last.pt")
    log(f"stopped at step {step}, best {best:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
