"""The reader stage: text areas in, per-line reads (text, per-character confidence) out.

The network is a CRNN trained only on our synthetic plates (`models/training/`); it reads one text line
at a time (two-line plates are two areas). Decoding is constrained by the Korean plate grammar per line
role (`edge.plate.decode_line`). Areas are read as one batch per call: on a CPU box the per-call overhead
of ONNX Runtime is a good share of the ~1 ms per area.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from edge.areas import READ_MARGIN, READER_H, READER_W, AreaCut
from edge.plate import CHARSET, LineRead, decode_line
from edge.runtime import DEFAULT_MODELS_DIR, Device, ModelError, create_session, load_manifest


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
        self, models_dir: Any = DEFAULT_MODELS_DIR, device: Device = "auto", threads: int = 0
    ) -> None:
        entry = load_manifest(models_dir).get("reader")
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
        self.session = create_session(entry, device, threads)
        self.input = self.session.get_inputs()[0].name
        cal = entry.meta.get("calibration") or {}
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
        return [decode_line(p, c.role, CHARSET) for p, c in zip(probs, cuts, strict=True)]
