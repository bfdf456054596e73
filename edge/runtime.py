"""ONNX Runtime sessions and the model manifest.

One place decides the execution providers. ``onnxruntime-gpu`` silently falls back to the CPU when CUDA
libraries are missing, so we log, and expose, the providers a session *really* got
(``session.get_providers()``), never the ones we asked for. Every model file is checked against the
sha256 in ``models/manifest.json`` before it is loaded: a truncated copy on an edge box fails loudly at
start-up instead of reading plates wrongly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]
#: The device names for command-line choices.
DEVICES: tuple[str, ...] = get_args(Device)
#: Which copy of the reader runs: float (the reference) or its int8 copy for CPUs (`edge.ocr`).
Precision = Literal["float", "int8"]
#: The same names for command-line choices, so no flag spells them out again.
PRECISIONS: tuple[str, ...] = get_args(Precision)

#: The bundled models, next to the package in a source checkout.
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


class ModelError(RuntimeError):
    """A model file is missing, corrupt, or its runtime cannot be loaded."""


@dataclass(frozen=True)
class ModelEntry:
    """One model's manifest entry (the fields the runtime relies on)."""

    name: str
    file: Path
    sha256: str
    input_shape: tuple[int | str, ...]
    meta: dict[str, Any]


def load_manifest(models_dir: Path | str = DEFAULT_MODELS_DIR) -> dict[str, ModelEntry]:
    models_dir = Path(models_dir)
    path = models_dir / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"model manifest not found: {path}") from e
    except json.JSONDecodeError as e:
        raise ModelError(f"model manifest {path} is not valid JSON: {e}") from e
    out = {}
    for name, entry in raw.get("models", {}).items():
        out[name] = ModelEntry(
            name=name,
            file=models_dir / entry["file"],
            sha256=entry["sha256"],
            input_shape=tuple(entry["input_shape"]),
            meta=entry,
        )
    return out


# ONNX Runtime records usage telemetry (OS, CPU, executable path) under ~/.cache for upload to its vendor;
# a gate box did not opt in. The variable must be set before onnxruntime is first imported, and every
# import of it in this package goes through this module (the systemd unit sets it too).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def providers_for(device: Device) -> list[str]:
    """Providers to request, best first. ``auto`` asks for CUDA only when this ORT build has it."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise ModelError(
                "device 'cuda' requested but this onnxruntime has no CUDAExecutionProvider "
                f"(available: {available}); install the 'gpu' extra"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def create_session(entry: ModelEntry, device: Device = "auto", threads: int = 0) -> Any:
    """An InferenceSession for a manifest entry, after verifying the file's sha256.

    ``threads`` = 0 lets ORT use every core; the daemon passes 1 per camera worker so cameras do not
    oversubscribe a small box.
    """
    import onnxruntime as ort

    if not entry.file.exists():
        raise ModelError(f"model file missing: {entry.file}")
    digest = sha256_of(entry.file)
    if digest != entry.sha256:
        raise ModelError(
            f"model {entry.file} sha256 {digest[:12]}… does not match manifest {entry.sha256[:12]}…"
        )
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(entry.file), opts, providers=providers_for(device))
    except Exception as e:  # ORT raises its own exception types; callers need one
        raise ModelError(f"cannot load {entry.file}: {e}") from e
    got = session.get_providers()
    log.info(
        "model %s loaded with providers %s (device=%s)", entry.name, got, device, extra={"providers": got}
    )
    if device == "cuda" and "CUDAExecutionProvider" not in got:
        raise ModelError(f"CUDA requested for {entry.name} but the session fell back to {got}")
    return session
