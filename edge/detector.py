"""Stage 1: plate candidates in a full camera frame.

Every backend answers the same small Protocol so the config can choose and tests can inject. A
candidate is a loose axis-aligned box (the locator, stage 2, finds the exact quad inside it) with a
confidence and, where the backend knows it, a quad.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from edge.engine import PlateRead

log = logging.getLogger(__name__)


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


class PlateReadingEngine(Protocol):
    """What candidate confirmation needs from `edge.engine.Engine`."""

    def read_plate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> PlateRead: ...


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two axis-aligned boxes ``(x1, y1, x2, y2)`` (0 when disjoint)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def read_candidates(
    image: np.ndarray, detections: Sequence[Detection], engine: PlateReadingEngine, max_candidates: int = 8
) -> list[tuple[Detection, PlateRead]]:
    """Read the first ``max_candidates`` detections; every (detection, read) pair, most confident first.

    Two candidates that read the same valid text over overlapping boxes are one plate (the more confident
    read is kept: e.g. a two-line plate's pair and its alternative). Cost: one locator + reader pass per
    candidate; a candidate the locator cannot use (a sliver at the frame border raises ``ValueError``) is
    skipped. Invalid reads are kept too: the daemon's tracker uses them as weak evidence (a blurred frame
    of a plate it already follows), the still-image path drops them (`confirm_candidates`).
    """
    kept: list[tuple[Detection, PlateRead]] = []
    for det in detections[:max_candidates]:
        try:
            read = engine.read_plate(image, det.box)
        except ValueError as e:
            log.debug("candidate %s not read: %s", det.box, e)
            continue
        dup = next(
            (
                i
                for i, (d, r) in enumerate(kept)
                if read.valid and r.text == read.text and box_iou(d.box, det.box) > 0.3
            ),
            None,
        )
        if dup is None:
            kept.append((det, read))
        elif read.confidence > kept[dup][1].confidence:
            kept[dup] = (det, read)
    kept.sort(key=lambda pair: pair[1].confidence, reverse=True)
    return kept


def confirm_candidates(
    image: np.ndarray, detections: Sequence[Detection], engine: PlateReadingEngine, max_candidates: int = 8
) -> list[tuple[Detection, PlateRead]]:
    """`read_candidates` keeping only grammatical (``valid``) reads: what a still image reports."""
    return [(d, r) for d, r in read_candidates(image, detections, engine, max_candidates) if r.valid]
