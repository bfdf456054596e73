"""Average the weights of reader fine-tunes that share a parent, and export the mean as the reader.

Two fine-tunes of one network that started from the same weights sit in the same basin of the loss;
the mean of their weights usually reads at least as well as either and costs nothing at run time (one
network, same size, same speed), where an ensemble of both would double the reader's time. It only
works for relatives: averaging two networks trained apart gives noise. Float tensors (weights, batch-norm
running statistics) are averaged; integer buffers (batch-norm step counters) are taken from the first.

    python -m models.training.average_reader --out models/reader.onnx \\
        models/reader.pt build/reader-cam/reader.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from models.training.reader_model import Reader
from models.training.train_reader import has_hidden_class, save, with_hidden_class


def average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same keys and shapes (integer buffers: the first's)."""
    if not states:
        raise ValueError("nothing to average")
    keys = set(states[0])
    for s in states[1:]:
        if set(s) != keys:
            raise ValueError(f"state dicts differ in their keys: {sorted(keys ^ set(s))[:5]}")
    out: dict[str, torch.Tensor] = {}
    for k, first in states[0].items():
        if any(s[k].shape != first.shape for s in states):
            raise ValueError(f"{k}: shapes differ")
        out[k] = torch.stack([s[k] for s in states]).mean(0) if first.is_floating_point() else first.clone()
    return out


def unify_heads(states: list[dict[str, torch.Tensor]]) -> list[dict[str, torch.Tensor]]:
    """States of readers with and without the hidden class (`train_reader --hidden-class`), all with it:
    those without gain the mean hidden row of those with it. A fresh row averaged in would only dilute
    what the fine-tune learnt of hidden characters; the rest of the network is shared and averages."""
    with_hidden = [s for s in states if has_hidden_class(s)]
    if not with_hidden:
        return states
    weight = torch.stack([s["head.weight"][-1:] for s in with_hidden]).mean(0)
    bias = torch.stack([s["head.bias"][-1:] for s in with_hidden]).mean(0)
    return [with_hidden_class(s, (weight, bias)) for s in states]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.average_reader", description=__doc__)
    ap.add_argument("weights", type=Path, nargs="+", help="reader .pt files (fine-tunes of one parent)")
    ap.add_argument("--out", type=Path, default=Path("models/reader.onnx"), help="ONNX; the .pt goes beside")
    args = ap.parse_args(argv)
    mean = average(unify_heads([torch.load(p, map_location="cpu") for p in args.weights]))
    model = Reader(mean["head.weight"].shape[0])
    model.load_state_dict(mean)
    save(model, args.out)
    print(f"wrote {args.out}: the mean of {len(args.weights)} readers", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
