"""Train the plate detector (`detector_model.PlateNet`) on synthetic gate scenes and export ONNX.

    python -m models.training.train_detector --frames 10000 --minutes 60 --seed 3 --out models/detector.onnx

Data: ``--frames`` scenes from `models.training.scenes.scene` (sizes 1280x720 to 1920x1080), each
letterboxed exactly as `edge.own_detector.letterbox` does at run time, cached in ``--cache`` as one raw
uint8 file plus the plate quads (the data is a pure function of seed and count, so a rerun reuses it).
Generating is fast (~60 ms a frame) next to training, so the set is made up front with ``--workers``
processes, then training runs on random 256x384 crops of it (scale-jittered 0.75-1.3x, brightness,
contrast, sometimes grey), which multiplies the set many times over and costs 2.5x less than full frames.

Losses (CenterNet): penalty-reduced focal loss on a Gaussian heat map (elliptical, following the plate's
aspect), L1 on log box size and on the corner offsets, the latter in units of the plate's own width and
height so small and large plates weigh the same. Schedule: 300 steps of warm-up, cosine decay over the
time budget to 5 % of the peak; validation recall/precision (IoU >= 0.5 on held-out full frames) is
logged every ``--val-every`` steps and the best weights by F1 are exported. A checkpoint (.pt and .onnx)
is written every 10 minutes, so a job cut short still leaves a usable model.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from edge.own_detector import IN_H, IN_W, STRIDE, decode, iou, letterbox
from models.training.detector_model import PlateNet, export_onnx
from models.training.scenes import SIZES, scene

CROP_H, CROP_W = 256, 384


def _gen(args: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """``n`` letterboxed frames from seed ``seed``, with their plate quads in letterbox pixels."""
    seed, n = args
    rng = np.random.default_rng(seed)
    frames = np.empty((n, IN_H, IN_W, 3), np.uint8)
    quads = []
    for i in range(n):
        size = SIZES[int(rng.integers(len(SIZES)))]
        img, plates = scene(rng, size)
        frames[i], scale = letterbox(img)
        quads.append(np.array([p.quad * scale for p in plates], np.float32).reshape(-1, 4, 2))
    return frames, quads


def make_data(
    cache: Path, frames: int, seed: int, workers: int, chunk: int = 50
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The cached set (memory-mapped frames, quads per frame); generated first if missing."""
    raw, meta = cache / f"frames-{seed}-{frames}.u8", cache / f"quads-{seed}-{frames}.npz"
    if not meta.exists():
        cache.mkdir(parents=True, exist_ok=True)
        mm = np.lib.format.open_memmap(str(raw) + ".tmp.npy", "w+", np.uint8, (frames, IN_H, IN_W, 3))
        jobs = [
            (seed * 1_000_003 + k, min(chunk, frames - k * chunk))
            for k in range((frames + chunk - 1) // chunk)
        ]
        allq: list[np.ndarray] = []
        t0 = time.time()
        with mp.Pool(workers) as pool:
            for k, (f, q) in enumerate(pool.imap(_gen, jobs)):
                mm[k * chunk : k * chunk + len(f)] = f
                allq += q
                if k % 20 == 0:
                    print(f"data: {len(allq)}/{frames} frames, {time.time() - t0:.0f}s", flush=True)
        mm.flush()
        del mm
        Path(str(raw) + ".tmp.npy").rename(raw)
        counts = np.array([len(q) for q in allq])
        np.savez(meta, counts=counts, quads=np.concatenate(allq) if counts.sum() else np.zeros((0, 4, 2)))
    with np.load(meta) as z:
        counts, flat = z["counts"], z["quads"]
    quads = np.split(flat, np.cumsum(counts)[:-1])
    return np.load(raw, mmap_mode="r"), quads


def targets(quads: np.ndarray, gh: int, gw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heat map (gh, gw), regression targets (10, gh, gw) and regression weights (gh, gw) for plates.

    A plate's centre is its box centre; the peak cell gets exactly 1, its neighbours a Gaussian as wide
    as ~1/8 of the plate (so a long plate spreads along x); cells above 0.6 also learn its geometry."""
    heat = np.zeros((gh, gw), np.float32)
    reg = np.zeros((10, gh, gw), np.float32)
    wgt = np.zeros((gh, gw), np.float32)
    owner = np.zeros((gh, gw), np.float32)
    gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for q in quads:
        lo, hi = q.min(axis=0), q.max(axis=0)
        bw, bh = max(float(hi[0] - lo[0]), 2.0), max(float(hi[1] - lo[1]), 2.0)
        cx, cy = (lo + hi) / 2 / STRIDE
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < gw and 0 <= iy < gh):
            continue
        sx, sy = max(0.5, bw / STRIDE * 0.12), max(0.5, bh / STRIDE * 0.25)
        g = np.exp(-((gx - (cx - 0.5)) ** 2) / (2 * sx * sx) - ((gy - (cy - 0.5)) ** 2) / (2 * sy * sy))
        g[iy, ix] = 1.0
        heat = np.maximum(heat, g)
        sel = (g > 0.6) & (g > owner)
        owner = np.where(sel, g, owner)
        ys, xs = np.nonzero(sel)
        cell = np.stack([(xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE], -1)
        reg[0, ys, xs] = np.log(bw / STRIDE)
        reg[1, ys, xs] = np.log(bh / STRIDE)
        off = (q[None, :, :] - cell[:, None, :]) / STRIDE  # (k, 4, 2)
        reg[2:, ys, xs] = off.reshape(-1, 8).T
        wgt[ys, xs] = 1.0
    return heat, reg, wgt


def crop_sample(
    frame: np.ndarray, quads: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A scale-jittered crop (CROP_H, CROP_W, 3), mostly around a plate, and its quads."""
    f = 1.0 if rng.random() < 0.5 else float(np.exp(rng.uniform(np.log(0.75), np.log(1.3))))
    ww, wh = CROP_W / f, CROP_H / f
    if len(quads) and rng.random() < 0.75:
        c = quads[int(rng.integers(len(quads)))].mean(axis=0)
        ox, oy = c[0] - rng.uniform(0.1, 0.9) * ww, c[1] - rng.uniform(0.1, 0.9) * wh
    else:
        ox, oy = (
            rng.uniform(min(0, IN_W - ww), max(0, IN_W - ww)),
            rng.uniform(min(0, IN_H - wh), max(0, IN_H - wh)),
        )
    m = np.array([[f, 0, -ox * f], [0, f, -oy * f]], np.float32)
    out = cv2.warpAffine(frame, m, (CROP_W, CROP_H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    q = (quads - np.array([ox, oy], np.float32)) * f if len(quads) else quads
    if rng.random() < 0.5:
        out = cv2.convertScaleAbs(out, alpha=rng.uniform(0.7, 1.3), beta=rng.uniform(-30, 30))
    if rng.random() < 0.1:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return out, q


def batch(
    frames: np.ndarray, quads: list[np.ndarray], idx: np.ndarray, rng: np.random.Generator
) -> tuple[torch.Tensor, ...]:
    xs, hs, rs, ws = [], [], [], []
    for i in idx:
        img, q = crop_sample(frames[i], quads[i], rng)
        h, r, w = targets(q, CROP_H // STRIDE, CROP_W // STRIDE)
        xs.append(img)
        hs.append(h)
        rs.append(r)
        ws.append(w)
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return x, torch.from_numpy(np.stack(hs)), torch.from_numpy(np.stack(rs)), torch.from_numpy(np.stack(ws))


def losses(
    out: torch.Tensor, heat: torch.Tensor, reg: torch.Tensor, wgt: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    p = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    pos = (heat >= 1.0).float()
    npos = pos.sum().clamp(min=1.0)
    focal = (
        -(pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * (1 - heat) ** 4 * p**2 * torch.log(1 - p)).sum()
        / npos
    )
    nw = wgt.sum().clamp(min=1.0)
    size = ((out[:, 1:3] - reg[:, 0:2]).abs().sum(1) * wgt).sum() / nw
    # corner offsets in units of the plate's own width (x) and height (y)
    scale = torch.exp(reg[:, 0:2]).clamp(min=0.5).repeat(1, 4, 1, 1)
    corner = (((out[:, 3:] - reg[:, 2:]).abs() / scale).sum(1) * wgt).sum() / nw
    return focal, size, corner


def validate(
    net: PlateNet, frames: np.ndarray, quads: list[np.ndarray], thresh: float = 0.3
) -> tuple[float, float]:
    """Recall and precision at IoU >= 0.5 on full letterboxed frames, decoded as at run time."""
    net.eval()
    tp = fp = npl = 0
    with torch.no_grad():
        for s in range(0, len(frames), 16):
            x = torch.from_numpy(np.array(frames[s : s + 16])).permute(0, 3, 1, 2).float() / 127.5 - 1.0
            out = net(x)
            out = torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:]], 1).numpy()
            for k in range(len(out)):
                q = quads[s + k]
                truth = np.array([[*qq.min(axis=0), *qq.max(axis=0)] for qq in q]).reshape(-1, 4)
                used = np.zeros(len(truth), bool)
                npl += len(truth)
                for _box, pq, _score in decode(out[k], 1.0, thresh):
                    pb = np.array([*pq.min(axis=0), *pq.max(axis=0)])
                    ov = iou(pb, truth) if len(truth) else np.zeros(0)
                    j = int(np.argmax(ov)) if len(ov) else -1
                    if j >= 0 and ov[j] >= 0.5 and not used[j]:
                        used[j] = True
                        tp += 1
                    else:
                        fp += 1
    net.train()
    return tp / max(npl, 1), tp / max(tp + fp, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.train_detector")
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--val-frames", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=Path("models/detector.onnx"))
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--width", type=float, default=1.5, help="channel multiplier of the network")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--cache", type=Path, default=Path("build/detector-data"))
    ap.add_argument("--init", type=Path, help="start from these weights (.pt)")
    ap.add_argument("--no-record", action="store_true", help="do not write the models/manifest.json entry")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    frames, quads = make_data(a.cache, a.frames + a.val_frames, a.seed, a.workers)
    nval = a.val_frames
    print(
        f"detector data: {len(frames)} frames, {sum(len(q) for q in quads)} plates ({nval} frames held out)",
        flush=True,
    )
    net = PlateNet(a.width)
    if a.init is not None:
        net.load_state_dict(torch.load(a.init))
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    rng = np.random.default_rng(a.seed)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    best, best_metrics = -1.0, (0.0, 0.0)
    best_pt = a.out.with_suffix(".pt")
    budget, t0, step, last_ckpt = a.minutes * 60, time.time(), 0, time.time()
    run = [0.0, 0.0, 0.0]
    while (el := time.time() - t0) < budget:
        lr = a.lr * min(1.0, (step + 1) / 300) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * el / budget)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, heat, reg, wgt = batch(frames, quads, rng.integers(nval, len(frames), a.batch), rng)
        focal, size, corner = losses(net(x), heat, reg, wgt)
        loss = focal + 0.5 * size + corner
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        step += 1
        run = [0.98 * r + 0.02 * v.item() for r, v in zip(run, (focal, size, corner), strict=True)]
        if step % 100 == 0:
            print(
                f"step {step} t={el:.0f}s lr={lr:.1e} focal={run[0]:.3f} size={run[1]:.3f} "
                f"corner={run[2]:.3f} samples/s={step * a.batch / el:.0f}",
                flush=True,
            )
        final = time.time() - t0 >= budget
        if step % a.val_every == 0 or final:
            rec, prec = validate(net, frames[:nval], quads[:nval])
            f1 = 2 * rec * prec / max(rec + prec, 1e-9)
            print(f"val step {step}: recall={rec:.4f} precision={prec:.4f} f1={f1:.4f}", flush=True)
            if f1 >= best:
                best, best_metrics = f1, (rec, prec)
                torch.save(net.state_dict(), best_pt)
        if time.time() - last_ckpt > 600:
            torch.save(net.state_dict(), a.out.with_suffix(".last.pt"))
            last_ckpt = time.time()
    if best_pt.exists():
        net.load_state_dict(torch.load(best_pt))
    export_onnx(net, str(a.out))
    print(
        f"wrote {a.out} (best val recall={best_metrics[0]:.4f} precision={best_metrics[1]:.4f})", flush=True
    )
    if not a.no_record:
        from models.training.manifest import record

        cmd = "python -m models.training.train_detector " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        metrics = {"val_recall": round(best_metrics[0], 4), "val_precision": round(best_metrics[1], 4),
                   "val_frames": nval, "train_frames": a.frames, "train_steps": step,
                   "train_minutes": round((time.time() - t0) / 60, 1)}  # fmt: skip
        entry = record("detector", a.out, cmd, a.seed, metrics, {"input": "uint8 NHWC BGR letterbox 640x384"})
        print(json.dumps(entry, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
