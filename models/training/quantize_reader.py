"""The reader's int8 copy for CPUs: its convolutions quantized to 8 bits, calibrated on seeded plates.

    python -m models.training.quantize_reader [--plates 1000] [--seed 9501] [--record]

Convolutions are three quarters of the reader's time on a CPU (ONNX Runtime's profile of
`models/reader.onnx`, one thread); in int8 they run about twice as fast. Only they are quantized: the
GRU and the head stay in float (ONNX Runtime has no int8 GRU, and they are a fifth of the time), and so
does the first convolution, which sees the pixels: its input, scaled to [-1, 1], would be quantized on
a grid half a grey level off the pixels' own (an unsigned 8-bit zero point must be a whole number, and
-1..1 in 255 steps puts zero at 127.5), which cost reads (below) for a layer with 1 % of the work.

How (ONNX Runtime's static quantization, QDQ format): weights signed 8-bit per output channel, full
range; activations unsigned 8-bit per tensor, their ranges the minimum and maximum seen on the text
areas of ``--plates`` synthetic plates (seed ``--seed``) cut exactly as the engine cuts them (the
shipped locator's quad, `edge.areas.cut_areas`). Measured against the float reader it came from
(the four seeded sets, 10,500 plates): as many misreads (reader v9's copy 337 against 344, 21 plates
fixed and 14 broken; v10's 342 against 348), about the same confident share and accuracy; 7-bit
weights (``reduce_range``, for old CPUs whose int8 instructions can saturate) misread 13 more and are
not used.

The entry it records names the float reader it was made from (``quantized_from``, its sha256): the
runtime refuses an int8 copy of another reader, so a retrained reader cannot silently run with a stale
copy (`edge.ocr.choose_precision`). Deterministic: the same reader, seed and plates give the same file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from edge.areas import cut_areas, to_gray
from edge.locator import OnnxLocator
from edge.runtime import DEFAULT_MODELS_DIR, load_manifest, sha256_of

INT8_FILE = "reader.int8.onnx"
#: Plates whose areas set the activation ranges; their seed is no test or calibration set's.
CALIBRATION_PLATES = 1000
CALIBRATION_SEED = 9501
BATCH = 16


def calibration_areas(models_dir: Path, plates: int, seed: int) -> np.ndarray:
    """(N, 32, 128) uint8: every text area of ``plates`` seeded synthetic plates, cut through the quad
    the shipped locator finds, as the engine cuts them at run time."""
    from models.training.dataset import film
    from models.training.plates import STYLES

    locator = OnnxLocator(models_dir, "cpu")
    rng = np.random.default_rng(seed)
    styles = list(STYLES)
    areas = []
    for i in range(plates):
        _spec, image, _quad, _ = film(rng, styles[i % len(styles)])
        geo = locator.locate(image)
        areas += [c.pixels for c in cut_areas(to_gray(image), geo.quad, geo.two_line)]
    return np.stack(areas)


def _batches(areas: np.ndarray, input_name: str) -> Iterator[dict[str, np.ndarray]]:
    """Whole batches only: ONNX Runtime's histogram calibrators stack batches and need one shape."""
    for i in range(0, len(areas) - BATCH + 1, BATCH):
        yield {input_name: areas[i : i + BATCH].astype(np.float32)[:, None]}


def quantize(float_model: Path, out: Path, areas: np.ndarray) -> Path:
    """Write the int8 (QDQ) copy of ``float_model`` to ``out``, activation ranges from ``areas``."""
    if len(areas) < BATCH:
        raise ValueError(f"{len(areas)} calibration areas: at least {BATCH} (one batch) are needed")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feed(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime ships no type stubs
        def __init__(self) -> None:
            self.batches = _batches(areas, "image")

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_model), str(prepared))
        first_conv = next(n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Conv")
        quantize_static(
            str(prepared),
            str(out),
            Feed(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=[first_conv],
            calibrate_method=CalibrationMethod.MinMax,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.quantize_reader")
    ap.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR, help="folder of the float reader")
    ap.add_argument("--plates", type=int, default=CALIBRATION_PLATES)
    ap.add_argument("--seed", type=int, default=CALIBRATION_SEED)
    ap.add_argument("--out", type=Path, help=f"default: MODELS/{INT8_FILE}")
    ap.add_argument("--record", action="store_true", help="write its entry in models/manifest.json")
    ap.add_argument("--metric", action="append", default=[], help="key=value for the entry, repeatable")
    a = ap.parse_args(argv)
    reader = load_manifest(a.models)["reader"]
    out: Path = a.out or a.models / INT8_FILE
    quantize(reader.file, out, calibration_areas(a.models, a.plates, a.seed))
    print(f"wrote {out} ({out.stat().st_size} bytes) from {reader.file} ({reader.sha256[:12]}…)")
    if a.record:
        from models.training.manifest import parse_metrics, record

        command = f"python -m models.training.quantize_reader --plates {a.plates} --seed {a.seed}"
        extra: dict[str, Any] = {"quantized_from": sha256_of(reader.file), "precision": "int8"}
        record("reader_int8", out, command, a.seed, parse_metrics(a.metric), extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
