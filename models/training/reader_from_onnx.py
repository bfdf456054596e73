"""Rebuild a reader's torch weights (``.pt``) from its exported ONNX, so a fresh clone can train on.

Every stage of the reader continues from the previous one (``train_reader --init models/reader.pt``),
but the ``.pt`` files are build products and not committed (`.gitignore`): the ONNX in ``models/`` is
what ships, with its sha256 in the manifest. A new checkout (a fresh CI box, a lent GPU machine) has
the ONNX only. This reads the network back out of it.

The export folds each batch norm into the convolution before it (``w' = w * g / s``, ``b' = b - m * g /
s``), so the ONNX holds one weight and one bias per convolution, and the split cannot be recovered. Any
split with the same product is the same network in evaluation; the one chosen here also keeps it the
same network in *training* mode, where batch norm normalises by the batch's own statistics: each
convolution's output statistics are measured on real training batches (``--data``, shards of
`models.training.dataset`), and the batch norm gets them as its running statistics and undoes them with
its scale and shift (``g = sqrt(var + eps)``, ``b = mean + b'``). A fine-tune from the rebuilt weights
then starts from the shipped network, not from a shaken copy of it.

The GRU's gates are stored in ONNX order (update, reset, new) and torch's (reset, update, new); they
are reordered. The rebuilt network is checked against ONNX Runtime before anything is written.

    python -m models.training.reader_from_onnx models/reader.onnx --data build/reader-swa \\
        --out models/reader.pt
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn

from models.training.manifest import output_classes
from models.training.reader_model import Reader
from models.training.train_reader import _complete, load, training_inputs

#: Largest difference in output probability tolerated between the rebuilt network and the ONNX.
MAX_PROB_DIFF = 1e-4


def folded_weights(path: Path) -> dict[str, list[np.ndarray]]:
    """The weights of an exported reader by the node that uses them, in graph order: ``conv`` (weight,
    bias) per convolution, ``gru`` (W, R, B in ONNX layout), ``head`` (matrix, bias)."""
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out: dict[str, list[np.ndarray]] = {"conv": [], "gru": [], "head": []}
    for node in graph.node:
        if node.op_type == "Conv":
            out["conv"].append(init[node.input[1]])
            out["conv"].append(init[node.input[2]])
        elif node.op_type == "GRU":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if attrs.get("linear_before_reset") != 1:
                raise ValueError("GRU without linear_before_reset=1: not a torch export")
            out["gru"] = [init[name] for name in node.input[1:4]]
        elif node.op_type == "MatMul" and node.input[1] in init:
            out["head"].append(init[node.input[1]])
        elif node.op_type == "Add" and any(name in init for name in node.input) and out["head"]:
            out["head"].append(next(init[name] for name in node.input if name in init))
    return out


def _torch_gates(a: np.ndarray, hidden: int) -> torch.Tensor:
    """ONNX gate order (z, r, h) along the first axis -> torch's (r, z, n)."""
    z, r, h = a[:hidden], a[hidden : 2 * hidden], a[2 * hidden :]
    return torch.from_numpy(np.concatenate([r, z, h]).copy())


def load_folded(model: Reader, path: Path) -> list[tuple[nn.Conv2d, nn.BatchNorm2d, torch.Tensor]]:
    """Put the ONNX weights into ``model``: convolutions get the folded weights, batch norms are left as
    the identity; returns (conv, batch norm, folded bias) per block for `unfold`."""
    w = folded_weights(path)
    mods = list(model.features)
    pairs = [(m, mods[i + 1]) for i, m in enumerate(mods) if isinstance(m, nn.Conv2d)]
    if len(w["conv"]) != 2 * len(pairs) or len(w["head"]) != 2 or len(w["gru"]) != 3:
        raise ValueError(f"{path}: not the network in models/training/reader_model.py")
    blocks = []
    with torch.no_grad():
        for (conv, bn), weight, bias in zip(pairs, w["conv"][0::2], w["conv"][1::2], strict=True):
            assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
            if tuple(conv.weight.shape) != weight.shape:
                raise ValueError(f"{path}: convolution {tuple(weight.shape)} != {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(weight.copy()))
            blocks.append((conv, bn, torch.from_numpy(bias.copy())))
        gru_w, gru_r, gru_b = w["gru"]
        hidden = model.rnn.hidden_size
        for d, suffix in enumerate(("", "_reverse")):
            getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(_torch_gates(gru_w[d], hidden))
            getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(_torch_gates(gru_r[d], hidden))
            getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(_torch_gates(gru_b[d][: 3 * hidden], hidden))
            getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(_torch_gates(gru_b[d][3 * hidden :], hidden))
        model.head.weight.copy_(torch.from_numpy(w["head"][0].T.copy()))
        model.head.bias.copy_(torch.from_numpy(w["head"][1].copy()))
    return blocks


class _Moments:
    """Per-channel mean and variance of a convolution's outputs over batches, kept as running sums
    (float64): the outputs themselves would take hundreds of MB for the first convolution."""

    def __init__(self, channels: int) -> None:
        self.n = 0
        self.total = torch.zeros(channels, dtype=torch.float64)
        self.squares = torch.zeros(channels, dtype=torch.float64)

    def add(self, out: torch.Tensor) -> None:
        y = out.detach().transpose(0, 1).flatten(1).double()  # (channels, everything else)
        self.n += y.shape[1]
        self.total += y.sum(1)
        self.squares += y.square().sum(1)

    def mean_var(self) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.total / self.n
        return mean.float(), (self.squares / self.n - mean.square()).float().clamp_min(1e-6)


def unfold(
    model: Reader,
    blocks: list[tuple[nn.Conv2d, nn.BatchNorm2d, torch.Tensor]],
    batches: Iterable[torch.Tensor],
) -> None:
    """Give each batch norm the statistics of its convolution's output on ``batches`` (inputs in
    [-1, 1]) and the scale and shift that undo them, so the network computes the folded one exactly in
    evaluation and very nearly in training."""
    moments = [_Moments(conv.out_channels) for conv, _, _ in blocks]
    hooks = [
        conv.register_forward_hook(lambda _m, _i, out, m=m: m.add(out))
        for (conv, _, _), m in zip(blocks, moments, strict=True)
    ]
    with torch.no_grad():
        for _, bn_, bias in blocks:  # the identity while measuring: later layers see the folded network
            bn_.reset_parameters()
            assert bn_.running_var is not None  # track_running_stats, as in Reader
            bn_.running_var.fill_(1.0 - bn_.eps)
            bn_.bias.copy_(bias)
        model.eval()
        for x in batches:
            model(x)
        for hook in hooks:
            hook.remove()
        for (_, bn_, bias), m in zip(blocks, moments, strict=True):
            mean, var = m.mean_var()
            assert bn_.running_mean is not None and bn_.running_var is not None
            bn_.running_mean.copy_(mean)
            bn_.running_var.copy_(var)
            bn_.weight.copy_(torch.sqrt(var + bn_.eps))
            bn_.bias.copy_(mean + bias)


def max_difference(model: Reader, path: Path, x: np.ndarray) -> float:
    """Largest difference in output probability between ``model`` (evaluation) and the ONNX on ``x``."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (want,) = session.run(None, {session.get_inputs()[0].name: x})
    with torch.no_grad():
        got = torch.softmax(model.eval()(torch.from_numpy(x) / 127.5 - 1.0), -1).numpy()
    return float(np.abs(got - want).max())


def rebuild(path: Path, batches: Iterable[torch.Tensor]) -> Reader:
    """The reader of ``path`` as a torch module whose batch norms are measured on ``batches``."""
    model = Reader(output_classes(path))  # with the hidden class when it was trained with one
    unfold(model, load_folded(model, path), batches)
    return model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.reader_from_onnx", description=__doc__)
    ap.add_argument("onnx", type=Path, help="an exported reader, e.g. models/reader.onnx")
    ap.add_argument("--data", type=Path, required=True, help="a folder of training shards")
    ap.add_argument("--out", type=Path, required=True, help="the .pt to write")
    ap.add_argument("--batches", type=int, default=20, help="training batches measured per batch norm")
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--jitter", type=float, default=0.03, help="as the fine-tune will use (train_reader)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    shards = _complete(sorted(args.data.glob("shard-*.npz")))
    if not shards:
        ap.error(f"--data {args.data}: no complete shard-*.npz")
    # two shards are plenty, and a stage's data folder may hold dozens: not a ShardPool of all of them
    images = torch.from_numpy(load(shards[:2])["images"])  # (N, H, W) uint8
    rng = np.random.default_rng(args.seed)
    batches = (
        training_inputs(images[rng.integers(0, len(images), args.batch)], args.jitter)
        for _ in range(args.batches)
    )
    model = rebuild(args.onnx, batches)
    diff = max_difference(model, args.onnx, images[: args.batch].float().unsqueeze(1).numpy())
    if diff > MAX_PROB_DIFF:
        print(f"error: the rebuilt network differs from {args.onnx} by {diff:.2e} in probability")
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out}: {args.onnx} rebuilt (max probability difference {diff:.1e})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
