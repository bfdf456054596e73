"""Stage 1: plate candidates in a full camera frame.

Every backend answers the same small Protocol so the config can choose and tests can inject. A
candidate is a loose axis-aligned box (the locator, stage 2, finds the exact quad inside it) with a
confidence and, where the backend knows it, a quad.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    """A plate candidate in image pixels."""

    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    confidence: float
    quad: np.ndarray | None = None  # (4, 2) clockwise from top-left, when the backend predicts corners


class PlateDetector(Protocol):
    """Finds plate candidates in a BGR frame. Implementations must be safe to call from one thread at a
    time per instance; the daemon gives each camera worker its own call sequence."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...
