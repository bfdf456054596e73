"""The reader stage: text areas in, per-line reads (text, per-character confidence) out.

The network is a CRNN trained only on our synthetic plates (`models/training/`); it reads one text line
at a time (two-line plates are two areas). Decoding is constrained by the Korean plate grammar per line
role (`edge.plate.decode_line`). Areas are read as one batch per call: on a CPU box the per-call overhead
of ONNX Runtime is a good share of the ~1 ms per area.

The reader ships twice: in float (`models/reader.onnx`, the reference and the default, on any device)
and as an int8 copy for CPUs (`models/reader.int8.onnx`, `models/training/quantize_reader.py`), 1.5 to
1.8 times faster per area; `recognition.reader_precision` picks one (`choose_precision` says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np

from edge.areas import READ_MARGIN, READER_H, READER_W, AreaCut
from edge.plate import CHARSET, HIDDEN, LineRead, decode_line
from edge.runtime import (
    DEFAULT_MODELS_DIR,
    Device,
    ModelEntry,
    ModelError,
    Precision,
    create_session,
    load_manifest,
)

#: The manifest entry of the reader's int8 copy.
INT8_ENTRY = "reader_int8"

Int8State = Literal["fresh", "stale", "missing"]


def int8_state(float_entry: ModelEntry, int8_entry: ModelEntry | None) -> Int8State:
    """Whether the manifest's int8 copy was quantized from this very float reader (its sha256)."""
    if int8_entry is None:
        return "missing"
    return "fresh" if int8_entry.meta.get("quantized_from") == float_entry.sha256 else "stale"


def choose_precision(requested: Precision, state: Int8State) -> Precision:
    """The reader copy to load: the one asked for, when it can be trusted.

    The int8 copy reads 1.5 to 1.8 times faster per area on the CPU and as many plates right on the
    seeded sets, but made a few more sure misreads there (reader v10's copy 34 against 31 over 10,500
    plates, v9's 38 against 33): float stays the default, int8 is for boxes that need the speed. An
    int8 copy that is missing, or was quantized from another reader than the float one beside it, is
    refused: it would read with weights nobody measured.
    """
    if requested == "int8":
        if state == "missing":
            raise ModelError(f"reader_precision int8: the manifest has no '{INT8_ENTRY}' entry")
        if state == "stale":
            raise ModelError(
                f"reader_precision int8: '{INT8_ENTRY}' was quantized from another reader than "
                "models/reader.onnx (rebuild it: make reader-int8)"
            )
    return requested


class LineReader(Protocol):
    """Anything that reads rectified text areas (tests inject fakes through this)."""

    def read(self, cuts: Sequence[AreaCut]) -> list[LineRead]: ...


class Calibration:
    """Maps the raw joint confidence (product of character peaks) to a probability of being right.

    Piecewise-linear over bins fitted on the synthetic test set (see `models/training/calibrate.py`);
    identity when the manifest carries none.
    """

    def __init__(self, xs: Sequence[float] = (0.0, 1.0), ys: Sequence[float] = (0.0, 1.0)) -> None:
        self.xs = np.asarray(xs, np.float64)
        self.ys = np.asarray(ys, np.float64)

    def __call__(self, raw: float) -> float:
        return float(np.interp(raw, self.xs, self.ys))


class OnnxReader:
    """The bundled reader model behind `LineReader`."""

    def __init__(
        self,
        models_dir: Any = DEFAULT_MODELS_DIR,
        device: Device = "auto",
        threads: int = 0,
        precision: Precision = "float",
    ) -> None:
        """``precision``: see `choose_precision`; the copy loaded is in ``self.precision``. The charset and
        margin are the float reader's entry's for both copies; the confidence calibration the loaded
        copy's own, else the float reader's."""
        manifest = load_manifest(models_dir)
        entry = manifest.get("reader")
        if entry is None:
            raise ModelError(f"no 'reader' entry in {models_dir}/manifest.json")
        if entry.meta.get("charset") != CHARSET:
            raise ModelError(
                "reader charset in the manifest differs from edge.plate.CHARSET: retrain or update"
            )
        margin = entry.meta.get("read_margin", 0.0)  # readers before it were trained flush to the plate
        if margin != READ_MARGIN:
            raise ModelError(
                f"reader was trained with read_margin={margin}, edge.areas cuts with {READ_MARGIN}: "
                "its input would be framed differently (retrain, or use the matching release)"
            )
        # a reader trained with occluders has the hidden class after the charset (`edge.plate.HIDDEN`)
        self.charset = CHARSET + HIDDEN if entry.meta.get("hidden_class") else CHARSET
        int8 = manifest.get(INT8_ENTRY)
        self.precision = choose_precision(precision, int8_state(entry, int8))
        chosen = int8 if self.precision == "int8" and int8 is not None else entry  # refused if None
        self.file = chosen.file
        self.session = create_session(chosen, device, threads)
        self.input = self.session.get_inputs()[0].name
        classes = self.session.get_outputs()[0].shape[-1]
        if isinstance(classes, int) and classes != len(self.charset) + 1:
            raise ModelError(
                f"{self.file} puts out {classes} classes, its manifest entry's charset "
                f"{'and hidden class ' if self.charset.endswith(HIDDEN) else ''}make {len(self.charset) + 1}"
            )
        # each copy's own curve (quantization moves confidences a little), else the float reader's
        cal = chosen.meta.get("calibration") or entry.meta.get("calibration") or {}
        self.calibration = Calibration(cal.get("x", (0.0, 1.0)), cal.get("y", (0.0, 1.0)))
        self.providers: list[str] = self.session.get_providers()

    def probabilities(self, pixels: Sequence[np.ndarray]) -> np.ndarray:
        """(N, T, C) character probabilities for N areas of READER_H x READER_W uint8."""
        batch = np.stack([p.reshape(READER_H, READER_W) for p in pixels]).astype(np.float32)[:, None]
        out: np.ndarray = self.session.run(None, {self.input: batch})[0]
        return out

    def read(self, cuts: Sequence[AreaCut]) -> list[LineRead]:
        if not cuts:
            return []
        probs = self.probabilities([c.pixels for c in cuts])
        return [decode_line(p, c.role, self.charset) for p, c in zip(probs, cuts, strict=True)]
