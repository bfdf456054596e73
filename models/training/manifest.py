"""Record a trained model in `models/manifest.json`: sha256, input shape, charset, how it was made.

    python -m models.training.manifest reader models/reader.onnx --command "..." --seed 1 [--metric k=v ...]

The runtime refuses a model whose sha256 differs from its entry (`edge.runtime.create_session`), so the
manifest is updated in the same commit as the file, always by this command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import onnx

from edge.areas import READ_MARGIN
from edge.plate import CHARSET
from edge.runtime import sha256_of
from models.training.provenance import git_commit

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"


def input_shape(path: Path) -> list[int | str]:
    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return [d.dim_param or d.dim_value for d in dims]


def output_classes(path: Path) -> int:
    """The last dimension of a model's first output: a reader's classes, blank included."""
    dims = onnx.load(str(path)).graph.output[0].type.tensor_type.shape.dim
    return int(dims[-1].dim_value)


def load() -> dict[str, Any]:
    if MANIFEST.exists():
        data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return data
    return {"schema": "plate-edge/models/1", "models": {}}


def save(data: dict[str, Any]) -> None:
    MANIFEST.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def record(
    name: str, file: Path, command: str, seed: int, metrics: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    data = load()
    entry = {
        "file": file.name,
        "sha256": sha256_of(file),
        "bytes": file.stat().st_size,
        "input_shape": input_shape(file),
        "opset": onnx.load(str(file)).opset_import[0].version,
        "command": command,
        "seed": seed,
        "git_commit": git_commit(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metrics": metrics,
        **extra,
    }
    if name == "reader":
        entry["charset"] = CHARSET
        entry["blank_index"] = 0
        entry["read_margin"] = READ_MARGIN
        # trained with occluders (train_reader --hidden-class): one class more, edge.plate.HIDDEN
        classes = output_classes(file)
        if classes not in (len(CHARSET) + 1, len(CHARSET) + 2):
            raise SystemExit(f"{file} puts out {classes} classes: not a reader of this charset")
        entry["hidden_class"] = classes == len(CHARSET) + 2
    old = data["models"].get(name, {})
    if old.get("sha256") == entry["sha256"]:
        # the same file made again (the builds are deterministic): what was measured on it still holds
        if "calibration" in old and "calibration" not in entry:
            entry["calibration"] = old["calibration"]
        if old.get("metrics") and not metrics:
            entry["metrics"] = old["metrics"]
    data["models"][name] = entry
    save(data)
    return entry


def parse_metrics(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings to a dict, numbers as floats."""
    metrics: dict[str, Any] = {}
    for kv in pairs:
        k, _, v = kv.partition("=")
        try:
            metrics[k] = float(v)
        except ValueError:
            metrics[k] = v
    return metrics


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.manifest")
    ap.add_argument("name", choices=["reader", "locator", "detector"])
    ap.add_argument("file", type=Path)
    ap.add_argument("--command", required=True, help="the exact command that trained it")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--metric", action="append", default=[], help="key=value, repeatable")
    a = ap.parse_args(argv)
    entry = record(a.name, a.file, a.command, a.seed, parse_metrics(a.metric), {})
    print(json.dumps(entry, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
