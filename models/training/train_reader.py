"""Train the reader on synthetic shards and export `models/reader.onnx` with its manifest entry.

CTC training of a fresh CRNN has a long flat phase (the network emits only blanks) before it starts to
align. A schedule that decays on a fixed step count can decay before that phase ends and learn nothing,
which is what sank the first baseline. Here:

* linear warm-up, then the learning rate is *held* at its peak until validation exact-match passes
  ``--escape`` (the plateau is over), and only then decays (cosine) over the remaining time budget;
* curriculum: until the plateau is escaped, batches come from the easier samples (larger characters);
* progress is logged as real numbers every ``--log-every`` steps: loss, lr, greedy exact match on a
  held-out shard, samples/s;
* ``--device auto`` trains on CUDA when there is one; shards that land while it runs are picked up
  (`ShardPool`), which is how `reader_stage` trains while the synthesizer draws;
* ``--swa-start F`` (fine-tunes): after the share F of the budget the learning rate is held at
  ``--swa-lr`` and the weights are averaged along the way (stochastic weight averaging); the average,
  with its batch-norm statistics measured anew on training batches, is what is written. A fine-tune
  that ends on one point of its path keeps that point's noise; the mean of many points sits nearer the
  middle of the basin. It costs nothing at run time (one network) and a few seconds at the end.

    python -m models.training.train_reader --data build/reader-data --minutes 55 --out models/reader.onnx
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

from edge.areas import AREA_MIN_SPREAD, READER_H, READER_W
from edge.contrast import lift_contrast
from edge.plate import CHARSET, greedy_decode
from models.training.dataset import LABEL_CHARSET, MAX_LABEL
from models.training.reader_model import ExportWrapper, Reader


def _complete(paths: list[Path]) -> list[Path]:
    """Shards that load (one still being written by the generator does not)."""
    ok = []
    for p in paths:
        try:
            with np.load(p) as z:
                z["lengths"]
            ok.append(p)
        except (OSError, ValueError, EOFError, KeyError):
            continue
    return ok


def load(paths: list[Path]) -> dict[str, np.ndarray]:
    """The shards' arrays, their areas as the reader is shown them now. A shard drawn before the
    contrast lift (no ``area_min_spread`` in it) gets the lift here; a newer one was cut through
    `warp_area`, which lifted it, and is left alone: the lift is not idempotent (an area whose gain was
    capped would be stretched again)."""
    parts = [np.load(p) for p in paths]
    data = {k: np.concatenate([p[k] for p in parts]) for k in ("images", "labels", "lengths", "char_h")}
    lifted = np.concatenate([np.full(len(p["lengths"]), "area_min_spread" in p.files) for p in parts])
    data["images"] = np.stack(
        [
            im if done else lift_contrast(im, AREA_MIN_SPREAD)
            for im, done in zip(data["images"], lifted, strict=True)
        ]
    )
    return data


def decode_texts(labels: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Label rows back to text (`edge.plate.HIDDEN` where an occluded shard hid a character)."""
    return [
        "".join(LABEL_CHARSET[int(i) - 1] for i in lab[:n]) for lab, n in zip(labels, lengths, strict=True)
    ]


def evaluate(model: Reader, data: dict[str, np.ndarray], batch: int = 512) -> float:
    was_training = model.training
    model.eval()
    wrapper = ExportWrapper(model)
    device = next(model.parameters()).device
    truth = decode_texts(data["labels"], data["lengths"])
    charset = LABEL_CHARSET[: model.head.out_features - 1]
    hits = 0
    with torch.no_grad():
        for i in range(0, len(truth), batch):
            x = torch.from_numpy(data["images"][i : i + batch]).float().unsqueeze(1).to(device)
            probs = wrapper(x).cpu().numpy()
            hits += sum(
                greedy_decode(p, charset)[0] == t for p, t in zip(probs, truth[i : i + batch], strict=True)
            )
    model.train(was_training)
    return hits / max(len(truth), 1)


#: The hidden class's bias when a reader without one gains it (`with_hidden_class`): e^-6 against the
#: blank's and characters' logits, so that the fine-tune starts from the parent's reads.
HIDDEN_INIT_BIAS = -6.0


def has_hidden_class(state: dict[str, torch.Tensor]) -> bool:
    """Whether a reader's weights have the hidden class's row after the charset's."""
    return int(state["head.weight"].shape[0]) == len(LABEL_CHARSET) + 1


def with_hidden_class(
    state: dict[str, torch.Tensor], row: tuple[torch.Tensor, torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """A reader's weights with the hidden class (`edge.plate.HIDDEN`) added after the charset, if it
    has none: the head's new row is ``row`` (weight (1, F), bias (1,)), by default a zero row whose
    bias is `HIDDEN_INIT_BIAS` below the blank's."""
    if has_hidden_class(state):
        return state
    weight, bias = state["head.weight"], state["head.bias"]
    new_weight, new_bias = (
        row if row is not None else (torch.zeros_like(weight[:1]), bias[:1] + HIDDEN_INIT_BIAS)
    )
    return {**state, "head.weight": torch.cat([weight, new_weight]), "head.bias": torch.cat([bias, new_bias])}


def augment(x: torch.Tensor, jitter: float = 0.0, occlude: float = 0.0) -> torch.Tensor:
    """Cheap on-line variation on top of the synthesizer: contrast, inversion-free brightness, noise;
    with ``jitter`` > 0 also a small random scale (up to ``jitter`` either way, both axes) and shift
    (up to half ``jitter`` of the width, ``jitter`` of the height: grid units span 2), which stands in
    for more quad error when a fast device sees each sample many times. With ``occlude`` > 0 that
    share of the lines gets a dark bar (`occlude_lines`)."""
    b = x.shape[0]
    if occlude > 0:
        x = occlude_lines(x, occlude)
    if jitter > 0:
        theta = torch.zeros(b, 2, 3, device=x.device)
        theta[:, 0, 0] = 1 + torch.empty(b, device=x.device).uniform_(-jitter, jitter)
        theta[:, 1, 1] = 1 + torch.empty(b, device=x.device).uniform_(-jitter, jitter)
        theta[:, 0, 2] = torch.empty(b, device=x.device).uniform_(-jitter, jitter)
        theta[:, 1, 2] = torch.empty(b, device=x.device).uniform_(-2 * jitter, 2 * jitter)
        grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
        x = nn.functional.grid_sample(x, grid, padding_mode="border", align_corners=False)
    gain = torch.empty(b, 1, 1, 1, device=x.device).uniform_(0.7, 1.3)
    bias = torch.empty(b, 1, 1, 1, device=x.device).uniform_(-0.2, 0.2)
    return (x * gain + bias + torch.randn_like(x) * 0.03).clamp(-1.5, 1.5)


def occlude_lines(x: torch.Tensor, share: float) -> torch.Tensor:
    """``x`` (B, 1, H, W in [-1, 1]) with a dark bar drawn over ``share`` of its lines, the label kept:
    4-12 % of the width (a third to a whole character), 60-100 % of the height from the top or the
    bottom, anywhere along the line. A tow bar or a bike rack hides a character, and a reader that
    never saw one drops it and reads the rest as another valid plate, sure of it (`937수2500` as
    `93수2500`; README, the occluded probe). The hope was that, with the hidden character in the
    label, it would put something there and be unsure of it. Measured (HISTORY.md, not shipped): 40
    minutes at 0.1 on the CPU taught it to *guess* the character instead, and cost accuracy; the option
    stays for a longer run with other targets. Dark bars only: a light one looks like the plate's own
    gap between character groups, which must stay a gap."""
    b, _, h, w = x.shape
    hit = torch.rand(b, device=x.device) < share
    if not bool(hit.any()):
        return x
    n = int(hit.sum())
    width = (torch.empty(n, device=x.device).uniform_(0.04, 0.12) * w).round().clamp(min=2)
    left = torch.rand(n, device=x.device) * (w - width)
    tall = torch.empty(n, device=x.device).uniform_(0.6, 1.0) * h
    from_top = torch.rand(n, device=x.device) < 0.5
    level = torch.empty(n, device=x.device).uniform_(-1.0, -0.6)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    in_x = (cols >= left.view(n, 1, 1)) & (cols < (left + width).view(n, 1, 1))
    in_y = torch.where(from_top.view(n, 1, 1), rows < tall.view(n, 1, 1), rows >= (h - tall).view(n, 1, 1))
    mask = (in_x & in_y).unsqueeze(1)
    x = x.clone()
    x[hit] = torch.where(mask, level.view(n, 1, 1, 1), x[hit])
    return x


class ShardPool:
    """Every complete training shard of a folder, held as tensors on the training device.

    Shards may still be appearing (the generator writes them while the trainer runs): `refresh` loads
    only the ones not yet held and appends them, so a long run on a fast device never re-reads what it
    has. The validation shard (``val_path``) is never trained on.
    """

    def __init__(self, folder: Path, val_path: Path, device: torch.device) -> None:
        self.folder, self.val_path, self.device = folder, val_path, device
        self.used: list[Path] = []
        self.images = torch.empty(0, READER_H, READER_W, dtype=torch.uint8, device=device)
        self.labels = torch.empty(0, MAX_LABEL, dtype=torch.long, device=device)
        self.lengths = torch.empty(0, dtype=torch.long, device=device)
        self.easy = np.zeros(0, np.int64)

    def pending(self) -> list[Path]:
        fresh = [
            p for p in sorted(self.folder.glob("shard-*.npz")) if p != self.val_path and p not in self.used
        ]
        return _complete(fresh)

    def refresh(self) -> None:
        new = self.pending()
        if not new:
            return
        data = load(new)
        start = len(self.lengths)
        self.easy = np.concatenate([self.easy, start + np.nonzero(data["char_h"] >= 24)[0]])
        self.images = torch.cat([self.images, torch.from_numpy(data["images"]).to(self.device)])
        self.labels = torch.cat(
            [self.labels, torch.from_numpy(data["labels"].astype(np.int64)).to(self.device)]
        )
        self.lengths = torch.cat(
            [self.lengths, torch.from_numpy(data["lengths"].astype(np.int64)).to(self.device)]
        )
        self.used += new
        print(
            f"train samples {len(self.lengths)} from {len(self.used)} shards (easy {len(self.easy)})",
            flush=True,
        )

    def inputs(self, idx: torch.Tensor, jitter: float, occlude: float = 0.0) -> torch.Tensor:
        """The samples ``idx`` as the network trains on them (`training_inputs`)."""
        return training_inputs(self.images[idx], jitter, occlude)


def training_inputs(images: torch.Tensor, jitter: float, occlude: float = 0.0) -> torch.Tensor:
    """Reader lines (B, H, W) uint8 as the network trains on them: (B, 1, H, W) in [-1, 1], `augment`ed."""
    return augment(images.float().unsqueeze(1) / 127.5 - 1.0, jitter, occlude)


def _batches(
    pool: ShardPool, rng: np.random.Generator, n: int, batch: int, jitter: float
) -> Iterator[torch.Tensor]:
    """``n`` augmented training batches, as the network sees them in training."""
    for _ in range(n):
        yield pool.inputs(torch.from_numpy(rng.integers(0, len(pool.lengths), batch)).to(pool.device), jitter)


def _learning_rate(
    args: argparse.Namespace, step: int, elapsed: float, budget: float, escaped_at: float | None
) -> float:
    """Warm-up, then held until the plateau is escaped, then a cosine decay: to 2 % of ``--lr`` at the end of
    the budget, or (with ``--swa-start``) to ``--swa-lr`` where averaging starts, held from there."""
    if step < args.warmup:
        return float(args.lr * (step + 1) / args.warmup)
    if escaped_at is None:
        return float(args.lr)
    if args.swa_start is not None:
        end, floor = args.swa_start * budget, args.swa_lr
    else:
        end, floor = budget, 0.02 * args.lr
    if elapsed >= end:
        return float(floor)
    frac = (elapsed - escaped_at) / max(end - escaped_at, 1.0)
    return float(floor + (args.lr - floor) * 0.5 * (1 + math.cos(math.pi * frac)))


def only_hidden_row(model: Reader) -> list[nn.Parameter]:
    """Freeze ``model`` but its head's hidden-class row (the last), and put it in evaluation mode, so that
    batch norms and dropout stay as the parent had them: the parameters left to train.

    What this buys: the parent's scores of every character and the blank are unchanged, relative to one
    another (the softmax only shares its mass with the hidden class), so a time step reads as it did
    unless the hidden class wins it, and the hidden class is a linear look at features the parent
    already computes. What it cannot do: learn features the parent lacks (a whole-network fine-tune
    doubted occluded plates better and read clean ones worse: models/HISTORY.md)."""
    for p in model.parameters():
        p.requires_grad_(False)
    keep = torch.zeros(model.head.out_features, 1, device=model.head.weight.device)
    keep[-1] = 1.0
    for p in (model.head.weight, model.head.bias):
        p.requires_grad_(True)
        mask = keep if p.dim() == 2 else keep[:, 0]
        p.register_hook(lambda g, m=mask: g * m)
    model.eval()
    return [model.head.weight, model.head.bias]


def train(args: argparse.Namespace) -> Reader:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    folder = Path(args.data)
    t0 = time.time()
    # the generator may still be starting: wait for two complete shards. The first (sorted) complete
    # one validates; with several generator processes it need not be the seed's first shard.
    while len(ready := _complete(sorted(folder.glob("shard-*.npz")))) < 2:
        if time.time() - t0 > args.wait_minutes * 60:
            raise SystemExit(f"need at least 2 shards in {args.data}, found {len(ready)}")
        time.sleep(5)
    val = load(ready[:1])
    val = {k: v[: args.val_size] for k, v in val.items()}
    classes = len(CHARSET) + 1 + int(args.hidden_class)
    print(f"validation shard {ready[0].name}: {len(val['lengths'])} areas, classes {classes}", flush=True)
    pool = ShardPool(folder, ready[0], device)
    pool.refresh()
    if max(int(pool.labels.max()), int(val["labels"].max())) >= classes:
        raise SystemExit(f"{args.data} holds hidden characters (drawn with --occlude): add --hidden-class")

    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model = Reader(classes).to(device)
    if args.init is not None:  # continue an earlier run: no plateau to escape, decay from the start
        state = torch.load(args.init, map_location=device)
        model.load_state_dict(with_hidden_class(state) if args.hidden_class else state)
    params = only_hidden_row(model) if args.only_hidden else list(model.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0 if args.only_hidden else 1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    budget = args.minutes * 60.0 - (time.time() - t0)
    t0 = time.time()
    escaped_at: float | None = 0.0 if args.init is not None else None
    step, seen, best, best_state = 0, 0, -1.0, None
    swa: AveragedModel | None = None
    while (elapsed := time.time() - t0) < budget:
        lr = _learning_rate(args, step, elapsed, budget, escaped_at)
        for g in opt.param_groups:
            g["lr"] = lr
        n = len(pool.lengths)
        easy = escaped_at is None and len(pool.easy) > args.batch
        idx = torch.from_numpy(rng.choice(pool.easy, args.batch) if easy else rng.integers(0, n, args.batch))
        idx = idx.to(device)
        x = pool.inputs(idx, args.jitter, args.occlude)
        y, ylen = pool.labels[idx], pool.lengths[idx]
        logits = model(x)  # (B, T, C)
        logp = logits.log_softmax(-1).transpose(0, 1)  # (T, B, C)
        tlen = torch.full((x.shape[0],), logp.shape[0], dtype=torch.long, device=device)
        loss = ctc(logp, y, tlen, ylen)  # padded (B, S) targets: no per-sample slicing
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        seen += x.shape[0]
        averaging = (
            args.swa_start is not None and escaped_at is not None and elapsed >= args.swa_start * budget
        )
        if averaging and step % args.swa_every == 0:
            if swa is None:
                swa = AveragedModel(model)
                print(f"averaging starts at step {step} ({elapsed:.0f}s), lr {lr:.2e}", flush=True)
            swa.update_parameters(model)
        if step % args.reload_every == 0:
            pool.refresh()
        if step % args.log_every == 0:
            acc = evaluate(model, val)
            if escaped_at is None and acc >= args.escape:
                escaped_at = time.time() - t0
                print(f"plateau escaped at step {step} ({escaped_at:.0f}s): decay starts", flush=True)
            if acc > best:
                best = acc
                # an averaging run writes its average, never its best point; a hidden-row run its last
                # (on the clean validation shard the untrained row scores best: it never fires)
                if args.swa_start is None and not args.only_hidden:
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
            print(
                f"step {step} t={elapsed:.0f}s loss={loss.item():.4f} lr={lr:.2e} val_exact={acc:.4f} "
                f"best={best:.4f} {seen / max(elapsed, 1e-6):.0f} samples/s",
                flush=True,
            )
    if swa is not None:
        last = evaluate(model, val)
        assert isinstance(swa.module, Reader)
        model = swa.module
        update_bn(_batches(pool, rng, args.bn_batches, args.batch, args.jitter), model, device)
        print(f"averaged {int(swa.n_averaged)} points (the last alone: val_exact={last:.4f})", flush=True)
    elif best_state is not None:
        model.load_state_dict(best_state)
    final = evaluate(model, val)
    print(f"done: steps={step} samples={seen} val_exact={final:.4f}", flush=True)
    return model.cpu()


def export(model: Reader, out: Path) -> None:
    model.eval()
    wrapper = ExportWrapper(model)
    dummy = torch.zeros(1, 1, READER_H, READER_W)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        wrapper,
        (dummy,),
        str(out),
        input_names=["image"],
        output_names=["probs"],
        opset_version=17,
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        dynamo=False,
    )


def save(model: Reader, out: Path) -> None:
    """Write a reader as the runtime loads it (``out``, ONNX) and as a later stage continues from it (the
    weights, ``.pt`` beside it)."""
    export(model, out)
    torch.save(model.state_dict(), out.with_suffix(".pt"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.train_reader")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("models/reader.onnx"))
    ap.add_argument("--minutes", type=float, default=55.0)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--escape", type=float, default=0.3, help="val exact that ends the plateau hold")
    ap.add_argument("--val-size", type=int, default=2000)
    ap.add_argument("--log-every", type=int, default=200)
    ap.add_argument("--init", type=Path, help="continue from these weights (.pt); the lr decays from --lr")
    ap.add_argument("--reload-every", type=int, default=1000, help="steps between looks for new shards")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu or cuda")
    ap.add_argument("--jitter", type=float, default=0.0, help="random shift/scale, share of the width")
    ap.add_argument("--occlude", type=float, default=0.0, help="share of lines with a dark bar drawn over")
    ap.add_argument(
        "--hidden-class",
        action="store_true",
        help="one class more after the charset for a hidden character (shards drawn with --occlude); "
        "an --init reader without it gains it",
    )
    ap.add_argument(
        "--only-hidden",
        action="store_true",
        help="train only the hidden class's row of the head, the rest of the --init reader frozen",
    )
    ap.add_argument("--wait-minutes", type=float, default=0.0, help="wait this long for the first shards")
    ap.add_argument("--swa-start", type=float, help="share of the budget after which weights are averaged")
    ap.add_argument("--swa-lr", type=float, default=1e-4, help="learning rate held while averaging")
    ap.add_argument("--swa-every", type=int, default=50, help="steps between averaged points")
    ap.add_argument("--bn-batches", type=int, default=200, help="batches that re-measure the average's BN")
    args = ap.parse_args(argv)
    if args.swa_start is not None and not 0.0 <= args.swa_start < 1.0:
        ap.error(f"--swa-start must be in [0, 1), got {args.swa_start}")
    if args.only_hidden and not (args.hidden_class and args.init and args.swa_start is None):
        ap.error(
            "--only-hidden trains the hidden row of an --init reader: it needs --hidden-class and --init, "
            "and no --swa-start (averaging would measure the frozen batch norms anew)"
        )
    torch.set_num_threads(args.threads)
    model = train(args)
    save(model, args.out)
    print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
