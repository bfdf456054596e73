"""Stand-ins for the models, injected through the Protocols (`PlateLocator`, `LineReader`, `PlateDetector`,
`Recognizer`), for tests of the HTTP layer and the analyze command that must not need trained models.

The fake engine is a real `edge.engine.Engine` around a fake locator and reader, and the fake recognizer a
real `StillRecognizer`, so the analysis JSON still comes out of `edge.analysis.analyze` (and the schema
tests check the real serialisation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.areas import AreaCut
from edge.detector import Detection
from edge.engine import Engine
from edge.locator import PlateGeometry
from edge.plate import LineRead
from edge.recognizer import StillRecognizer

FAKE_TEXT = "12가3456"


class FakeLocator:
    """The plate fills the candidate box (or the whole image)."""

    def locate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> PlateGeometry:
        h, w = image.shape[:2]
        x1, y1, x2, y2 = box if box is not None else (0, 0, w, h)
        quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
        return PlateGeometry(quad, False, 0.01)


class FakeReader:
    """Reads ``text`` in every area."""

    def __init__(self, text: str = FAKE_TEXT) -> None:
        self.text = text

    def read(self, cuts: Sequence[AreaCut]) -> list[LineRead]:
        return [LineRead(self.text, (0.99,) * len(self.text), True, self.text) for _ in cuts]


class FakeDetector:
    """One candidate in the middle of any image of at least 32 x 32 pixels."""

    name = "fake"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        if w < 32 or h < 32:
            return []
        return [Detection((w // 4, h // 3, 3 * w // 4, 2 * h // 3), 0.9)]


def fake_recognizer(text: str = FAKE_TEXT) -> StillRecognizer:
    return StillRecognizer(Engine(FakeLocator(), FakeReader(text)), FakeDetector())


class GatedRecognizer:
    """A `Recognizer` whose analyses block until ``release`` is set; counts how many ran at once."""

    def __init__(self, inner: StillRecognizer | None = None, hold_s: float = 0.0) -> None:
        self.inner = inner or fake_recognizer()
        self.release = threading.Event()
        self.hold_s = hold_s
        self.running = 0
        self.max_running = 0
        self.calls = 0
        self._lock = threading.Lock()
        self.entered = threading.Semaphore(0)

    def analyze(self, image: np.ndarray, name: str, decode_ms: float = 0.0) -> dict[str, Any]:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.max_running = max(self.max_running, self.running)
        self.entered.release()
        try:
            if self.hold_s:
                time.sleep(self.hold_s)
            else:
                self.release.wait(10)
            return self.inner.analyze(image, name, decode_ms)
        finally:
            with self._lock:
                self.running -= 1

    def status(self) -> dict[str, Any]:
        return self.inner.status()


class BrokenRecognizer:
    """A `Recognizer` whose analysis raises (a bug or a model failure)."""

    def analyze(self, image: np.ndarray, name: str, decode_ms: float = 0.0) -> dict[str, Any]:
        raise RuntimeError("reader exploded")

    def status(self) -> dict[str, Any]:
        return {"ready": True}
