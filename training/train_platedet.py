"""Train the plate detector (CenterFace trunk + CenterNet heads) on CPU.

Data: /work/shared/data/platetrain/{openlpr_train, ro_dashcam[split=train], uc3m_lp[split=train]}.
Validation for checkpoint selection: ro_dashcam[split=valid] + uc3m_lp[split=val] (first 150).
(plates/openlpr_val and plates/ccpd_sample are never used here: they are the test sets.)

Example (the run in weights/platedet.md):
  nice -n 19 training/.venv/bin/python training/train_platedet.py --out training/out/run1
  ... --resume   continues from OUT/last.pt (model, optimizer, step, RNG states)

Checkpoints: OUT/last.pt every --ckpt-min minutes, on SIGTERM/SIGINT and at the end;
OUT/best.pt at the best validation score. PID in OUT/../train.pid (training/out/train.pid).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platedet_decode import box_iou, coverage, decode, expand, prepare
from platedet_hard import paste_plate, wash_out
from platedet_model import PlateDet, conv_index

DATA = Path("/work/shared/data/platetrain")
TRAIN_SETS = [("openlpr_train", None, 1.0), ("ro_dashcam", "train", 3.0), ("uc3m_lp", "train", 1.0)]
VAL_SETS = [("ro_dashcam", "valid", None), ("uc3m_lp", "val", 150)]
CACHE_MAX_SIDE = 960
STRIDE = 4

cv2.setNumThreads(1)


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S", time.gmtime()), msg, flush=True)


def load_set(name: str, split: str | None, limit: int | None = None):
    rows = [json.loads(x) for x in (DATA / name / "labels.jsonl").read_text().splitlines()]
    if split is not None:
        rows = [r for r in rows if r.get("split") == split]
    rows = rows[:limit] if limit else rows
    out = []
    for r in rows:
        img = cv2.imread(str(DATA / name / r["image"]), cv2.IMREAD_COLOR)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        boxes = np.array([p["box"] for p in r["plates"]], np.float32).reshape(-1, 4)
        s = min(1.0, CACHE_MAX_SIDE / max(img.shape[:2]))
        if s < 1:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            boxes *= s
        out.append((img, boxes))
    return out


# ---------------------------------------------------------------- augmentation + targets


def random_view(img, boxes, rng: np.random.Generator, size: int):
    """Random scale (often making plates small), crop, small rotation/perspective, flip."""
    h, w = img.shape[:2]
    if len(boxes) and rng.random() < 0.8:
        b = boxes[rng.integers(len(boxes))]
        target_w = math.exp(rng.uniform(math.log(10), math.log(240)))
        s = float(np.clip(target_w / max(b[2] - b[0], 1.0), 0.06, 4.0))
        cx, cy = (b[0] + b[2]) / 2 * s, (b[1] + b[3]) / 2 * s
        px, py = rng.uniform(0.1, 0.9) * size, rng.uniform(0.1, 0.9) * size
        tx, ty = px - cx, py - cy
    else:
        s = math.exp(rng.uniform(math.log(0.25), math.log(1.6))) * size / max(h, w)
        sw, sh = w * s, h * s
        tx = rng.uniform(min(0, size - sw), max(0, size - sw))
        ty = rng.uniform(min(0, size - sh), max(0, size - sh))
    src = img
    pre = 1.0
    if s < 0.6:  # downscale with INTER_AREA first (as at inference), then warp the rest
        pre = s
        src = cv2.resize(
            img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
        )
        pre = src.shape[1] / w
    rest = s / pre
    A = np.array([[rest, 0, tx], [0, rest, ty], [0, 0, 1]], np.float64)
    ang = math.radians(rng.uniform(-6, 6))
    c = size / 2
    R = cv2.getRotationMatrix2D((c, c), math.degrees(ang), 1.0)
    R = np.vstack([R, [0, 0, 1]])
    sq = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    jit = sq + rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * size
    P = cv2.getPerspectiveTransform(sq, jit).astype(np.float64)
    M = P @ R @ A
    border = tuple(int(v) for v in rng.integers(0, 256, 3)) if rng.random() < 0.5 else (0, 0, 0)
    out = cv2.warpPerspective(
        src,
        M,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    nb = []
    for b in boxes * pre:
        pts = np.array([[b[0], b[1], 1], [b[2], b[1], 1], [b[2], b[3], 1], [b[0], b[3], 1]]).T
        q = M @ pts
        q = q[:2] / q[2]
        x1, y1, x2, y2 = q[0].min(), q[1].min(), q[0].max(), q[1].max()
        area = (x2 - x1) * (y2 - y1)
        cx1, cy1, cx2, cy2 = max(x1, 0), max(y1, 0), min(x2, size), min(y2, size)
        if cx2 - cx1 < 2 or cy2 - cy1 < 2:
            continue
        if (cx2 - cx1) * (cy2 - cy1) < 0.5 * area:
            continue
        nb.append([cx1, cy1, cx2, cy2])
    nb = np.array(nb, np.float32).reshape(-1, 4)
    if rng.random() < 0.5:
        out = out[:, ::-1]
        nb = nb[:, [2, 1, 0, 3]].copy()
        nb[:, [0, 2]] = size - nb[:, [0, 2]]
    return np.ascontiguousarray(out), nb


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32)
    if rng.random() < 0.1:
        g = x @ np.float32([0.299, 0.587, 0.114])
        x = np.repeat(g[..., None], 3, axis=2)
    alpha = rng.uniform(0.6, 1.4)
    beta = rng.uniform(-40, 40)
    gains = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    x = (x - 128) * alpha + 128 + beta
    x = x * gains
    if rng.random() < 0.25:
        sig = rng.uniform(0.4, 1.6)
        x = cv2.GaussianBlur(x, (0, 0), sig)
    if rng.random() < 0.2:
        x = x + rng.normal(0, rng.uniform(2, 10), x.shape).astype(np.float32)
    x = np.clip(x, 0, 255)
    if rng.random() < 0.25:
        _, enc = cv2.imencode(
            ".jpg", x.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))]
        )
        x = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED).astype(np.float32)
    return x


def make_targets(boxes: np.ndarray, size: int):
    so = size // STRIDE
    heat = np.zeros((so, so), np.float32)
    wh = np.zeros((2, so, so), np.float32)
    off = np.zeros((2, so, so), np.float32)
    mask = np.zeros((so, so), np.float32)
    yy, xx = np.mgrid[0:so, 0:so].astype(np.float32)
    for x1, y1, x2, y2 in boxes:
        bw, bh = x2 - x1, y2 - y1
        cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
        ix, iy = min(int(cx), so - 1), min(int(cy), so - 1)
        sx = max(0.5, 0.54 * bw / STRIDE / 6)
        sy = max(0.5, 0.54 * bh / STRIDE / 6)
        g = np.exp(-((xx - ix) ** 2) / (2 * sx * sx) - ((yy - iy) ** 2) / (2 * sy * sy))
        np.maximum(heat, g, out=heat)
        heat[iy, ix] = 1.0
        wh[0, iy, ix] = math.log(bh / STRIDE)
        wh[1, iy, ix] = math.log(bw / STRIDE)
        off[0, iy, ix] = cy - 0.5 - iy
        off[1, iy, ix] = cx - 0.5 - ix
        mask[iy, ix] = 1.0
    return heat, wh, off, mask


def make_batch(
    data, probs, rng, batch: int, size: int, *, paste: float = 0.0, washout: float = 0.0
):
    imgs, heats, whs, offs, masks = [], [], [], [], []
    idx = rng.choice(len(data), size=batch, p=probs)
    for i in idx:
        img, boxes = data[i]
        crop, nb = random_view(img, boxes, rng, size)
        if paste and rng.random() < paste:
            donor, donor_boxes = data[int(rng.integers(len(data)))]
            crop, nb = paste_plate(crop, nb, donor, donor_boxes, rng)
        if washout and rng.random() < washout:
            crop, nb = wash_out(crop, nb, rng)
        x = photometric(crop, rng)
        h, wh, o, m = make_targets(nb, size)
        imgs.append(x.transpose(2, 0, 1))
        heats.append(h[None])
        whs.append(wh)
        offs.append(o)
        masks.append(m[None])
    t = lambda a: torch.from_numpy(np.stack(a))  # noqa: E731
    return t(imgs), t(heats), t(whs), t(offs), t(masks)


def losses(pred, heat_t, wh_t, off_t, mask):
    logit, wh, off = pred
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    pos = heat_t.eq(1).float()
    pos_l = torch.log(p) * (1 - p) ** 2 * pos
    neg_l = torch.log(1 - p) * p**2 * (1 - heat_t) ** 4 * (1 - pos)
    npos = pos.sum().clamp(min=1)
    focal = -(pos_l.sum() + neg_l.sum()) / npos
    denom = (mask.sum() * 2).clamp(min=1)
    l_wh = (F.l1_loss(wh, wh_t, reduction="none") * mask).sum() / denom
    l_off = (F.l1_loss(off, off_t, reduction="none") * mask).sum() / denom
    return focal, l_wh, l_off


# ---------------------------------------------------------------- validation


@torch.no_grad()
def validate(model, val, long_side: int = 640, thr: float = 0.3) -> dict:
    model.eval()
    total = found = hit = fp = 0
    for img, gts in val:
        x, s = prepare(img, long_side)
        logit, wh, off = model(torch.from_numpy(x))
        dets = decode(
            torch.sigmoid(logit).numpy(),
            wh.numpy(),
            off.numpy(),
            thr,
            s,
            img.shape[1],
            img.shape[0],
        )
        boxes = [d[0] for d in dets]
        regions = [expand(b, "h03") for b in boxes]
        for g in gts:
            total += 1
            found += coverage(img.shape[:2], regions, g) >= 0.8
            hit += any(box_iou(g, b) >= 0.5 for b in boxes)
        fp += sum(1 for b in regions if all(box_iou(g, b) == 0 for g in gts))
    model.train()
    r = {
        "found": found / max(total, 1),
        "recall50": hit / max(total, 1),
        "fp_img": fp / max(len(val), 1),
    }
    r["score"] = r["found"] + 0.5 * r["recall50"] - 0.05 * r["fp_img"]
    return r


# ---------------------------------------------------------------- main


def save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "run1")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--size", type=int, default=320, help="square training crop (multiple of 32)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument(
        "--freeze",
        type=int,
        default=9,
        help="freeze the first N backbone convs (9 = MobileNetV2 features 0-3)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument(
        "--stop-at",
        type=float,
        default=0.0,
        help="unix time: checkpoint and stop there (wall-clock guard; 0 = off)",
    )
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--paste", type=float, default=0.0, help="share of views with a pasted plate")
    ap.add_argument("--washout", type=float, default=0.0, help="share of views, plates washed out")
    ap.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from the model weights of this checkpoint (new optimizer/schedule)",
    )
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    (Path(__file__).resolve().parent / "out" / "train.pid").write_text(f"{os.getpid()}\n")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    log("loading data")
    data, weights = [], []
    for name, split, w in TRAIN_SETS:
        part = load_set(name, split)
        data += part
        weights += [w] * len(part)
        log(f"  {name}[{split}]: {len(part)} images")
    probs = np.array(weights) / sum(weights)
    val = []
    for name, split, limit in VAL_SETS:
        val += load_set(name, split, limit)
    log(f"  val: {len(val)} images")

    model = PlateDet()
    for n, p in model.trunk.named_parameters():
        p.requires_grad = conv_index(n) >= args.freeze
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    total_steps = args.epochs * args.steps_per_epoch

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, total_steps - args.warmup)
        return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    if args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        log(f"initialised from {args.init}")
    step, best, history = 0, -1e9, []
    last = args.out / "last.pt"
    if args.resume and last.exists():
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best, history = ck["step"], ck["best"], ck["history"]
        rng.bit_generator.state = ck["rng_np"]
        torch.set_rng_state(ck["rng_torch"])
        random.setstate(ck["rng_py"])
        log(f"resumed at step {step} (best {best:.3f})")
    model.train()

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
        log(f"signal {signum}: will checkpoint and stop")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def state() -> dict:
        return {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "best": best,
            "history": history,
            "rng_np": rng.bit_generator.state,
            "rng_torch": torch.get_rng_state(),
            "rng_py": random.getstate(),
            "args": vars(args) | {"out": str(args.out)},
        }

    last_ck = time.monotonic()
    t0, acc = time.time(), np.zeros(3)
    n_acc = 0
    while step < total_steps and not stop["flag"]:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x, h, wh, off, m = make_batch(
            data, probs, rng, args.batch, args.size, paste=args.paste, washout=args.washout
        )
        fl, lw, lo = losses(model(x), h, wh, off, m)
        loss = fl + lw + lo
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        step += 1
        acc += [fl.item(), lw.item(), lo.item()]
        n_acc += 1
        if step % 10 == 0:
            a = acc / n_acc
            log(
                f"step {step}/{total_steps} lr {lr_at(step - 1):.2e} focal {a[0]:.3f} "
                f"wh {a[1]:.3f} off {a[2]:.3f} {(time.time() - t0) / n_acc:.2f}s/step"
            )
            acc[:] = 0
            n_acc = 0
            t0 = time.time()
        if step % args.steps_per_epoch == 0 or step == total_steps:
            r = validate(model, val)
            r["step"] = step
            history.append(r)
            log(f"val step {step}: " + json.dumps({k: round(v, 3) for k, v in r.items()}))
            if r["score"] > best:
                best = r["score"]
                save(args.out / "best.pt", state())
                log("  new best")
            save(last, state())
            last_ck = time.monotonic()
            t0 = time.time()
        if time.monotonic() - last_ck > args.ckpt_min * 60:
            save(last, state())
            last_ck = time.monotonic()
            log(f"checkpoint at step {step}")
        if args.stop_at and time.time() > args.stop_at:
            log("stop-at reached")
            break
    save(last, state())
    log(f"saved {last} at step {step}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
