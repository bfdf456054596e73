"""The still-image recognizer behind `plate-edge analyze`, `plate-edge serve` and the daemon's HTTP API.

`Recognizer` is the small Protocol the HTTP layer and the analyze command depend on: a decoded image in,
the analysis JSON (design.md, ``plate-edge/analysis/1``) out, plus a readiness report. `StillRecognizer`
implements it on the shared `Engine` (locator + reader) and a `PlateDetector`; tests inject fakes through
either Protocol.

Thread safety: the API runs analyses in a thread pool. ONNX Runtime sessions are safe to ``run`` from
several threads, so the engine is shared as is, but a `PlateDetector` instance promises only one call at
a time (the text detector keeps per-call timings), so detector calls are serialised by a lock. On a 2-core
box this costs nothing measurable: one detector inference already uses every core.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from edge.analysis import analyze
from edge.detector import Detection, PlateDetector
from edge.engine import Engine
from edge.reread import REREAD_BELOW
from edge.runtime import DEFAULT_MODELS_DIR, Device, Precision

log = logging.getLogger(__name__)

DetectorKind = Literal["own", "text", "none"]


class Recognizer(Protocol):
    """What the HTTP API and the analyze command need from the recognition side."""

    def analyze(self, image: np.ndarray, name: str, decode_ms: float = 0.0) -> dict[str, Any]:
        """The analysis JSON object of ``image`` (BGR uint8) called ``name``."""
        ...

    def status(self) -> dict[str, Any]:
        """Readiness of the models: at least ``{"ready": bool}``; `StillRecognizer` adds the detector
        name and the ONNX Runtime providers each session really got."""
        ...


class _SerialDetector:
    """A `PlateDetector` that lets one thread at a time into the wrapped detector."""

    def __init__(self, inner: PlateDetector) -> None:
        self.inner = inner
        self.name = inner.name
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Detection]:
        with self._lock:
            return self.inner.detect(image)


def session_providers(component: object) -> list[str]:
    """The execution providers an ONNX-backed component's session actually uses ([] when it has none)."""
    providers = getattr(component, "providers", None)
    if isinstance(providers, list):
        return [str(p) for p in providers]
    session = getattr(component, "session", None)
    if session is not None and hasattr(session, "get_providers"):
        return [str(p) for p in session.get_providers()]
    return []


class StillRecognizer:
    """`Recognizer` on an `Engine` and an optional `PlateDetector` (None: whole-image crops only)."""

    def __init__(self, engine: Engine, detector: PlateDetector | None) -> None:
        self.engine = engine
        self.detector: PlateDetector | None = _SerialDetector(detector) if detector is not None else None

    def analyze(self, image: np.ndarray, name: str, decode_ms: float = 0.0) -> dict[str, Any]:
        return analyze(image, name, self.engine, self.detector, decode_ms)

    def status(self) -> dict[str, Any]:
        providers = {
            "locator": session_providers(self.engine.locator),
            "reader": session_providers(self.engine.reader),
        }
        if isinstance(self.detector, _SerialDetector):
            providers["detector"] = session_providers(self.detector.inner)
        status: dict[str, Any] = {
            "ready": True,
            "detector": self.detector.name if self.detector is not None else "none",
            "providers": providers,
        }
        precision = getattr(self.engine.reader, "precision", None)  # injected readers have none
        if precision is not None:
            status["reader_precision"] = precision
        return status


def load_detector(
    kind: DetectorKind, device: Device = "auto", threads: int = 0, models_dir: Path = DEFAULT_MODELS_DIR
) -> PlateDetector | None:
    """The configured stage-1 detector; None for ``"none"``.

    ``"own"``: the project's plate detector (`edge.own_detector`, ``models/detector.onnx``, ~5 ms per
    1080p frame, trained on synthetic scenes); ``"text"``: the PP-OCR text detector with grammar
    confirmation (`edge.text_detector`, ~110 ms, trained on real photos). A missing or corrupt model
    raises `ModelError`: asking for one backend never quietly runs another. Imports are lazy:
    `plate-edge --help` must not load ONNX Runtime.
    """
    if kind == "none":
        return None
    if kind == "own":
        from edge.own_detector import OwnDetector

        return OwnDetector(models_dir, device, threads)
    from edge.text_detector import TextDetector

    return TextDetector(device=device, threads=threads)


def load_recognizer(
    models_dir: Path = DEFAULT_MODELS_DIR,
    device: Device = "auto",
    detector: DetectorKind = "text",
    threads: int = 0,
    reread_below: float = REREAD_BELOW,
    precision: Precision = "float",
) -> StillRecognizer:
    """Load the bundled models (raises `edge.runtime.ModelError` when they are missing or corrupt);
    ``reread_below``: see `edge.reread`; ``precision``: the reader copy, see `edge.ocr.choose_precision`."""
    engine = Engine.load(models_dir, device, threads, reread_below, precision)
    return StillRecognizer(engine, load_detector(detector, device, threads, models_dir))
