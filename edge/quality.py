"""How good is one plate crop for reading? One score per crop, and the best K crops per vehicle.

The score multiplies saturating factors, each in (0, 1]:

* sharpness: variance of the Laplacian of the plate, resampled to a fixed height first so that a near
  plate (many pixels, low per-pixel contrast change) and a far one compare fairly. Motion blur is the
  common failure at gates and this is its cheapest reliable measure.
* size: plate height in frame pixels; beyond ~40 px more pixels do not help the reader (its input is 32 px
  per line), below ~16 px characters dissolve.
* exposure: mean brightness away from the extremes and few clipped pixels (glare, IR bloom, night).
* angle: the plate's tilt; the locator rectifies it, but steep views foreshorten glyphs.
* detection confidence: the detector's own belief that this is a plate.

Multiplying (rather than summing) means one bad property sinks a crop, which is what we want: a sharp
crop burnt out by headlight glare is still unreadable. The factor knees are judgement calls, set from the
synthetic capture model; they only rank crops of the same vehicle, so their absolute scale matters little.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import cv2
import numpy as np

from edge.areas import plate_height

#: Crops are resampled to this height before measuring sharpness.
SHARPNESS_HEIGHT = 48
#: Laplacian variance (at SHARPNESS_HEIGHT) where the sharpness factor reaches one half.
SHARPNESS_KNEE = 150.0
SIZE_KNEE_PX = 20.0


@dataclass(frozen=True)
class Quality:
    """Per-crop measures and the combined ``score`` in (0, 1]."""

    sharpness: float  # Laplacian variance at SHARPNESS_HEIGHT
    height_px: float
    exposure: float  # 0..1 factor
    angle_deg: float
    detection_confidence: float
    score: float


def _saturate(value: float, knee: float) -> float:
    return value / (value + knee) if value > 0 else 0.0


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of ``gray`` resampled to `SHARPNESS_HEIGHT` rows."""
    h, w = gray.shape[:2]
    if h < 2 or w < 2:
        return 0.0
    scale = SHARPNESS_HEIGHT / h
    resized = cv2.resize(gray, (max(2, round(w * scale)), SHARPNESS_HEIGHT), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(resized, cv2.CV_32F).var())


def exposure_factor(gray: np.ndarray) -> float:
    """1 for a well-exposed crop, falling with a too dark / too bright mean and with clipped pixels."""
    if gray.size == 0:
        return 0.0
    mean = float(gray.mean()) / 255.0
    clipped = float(np.mean((gray <= 3) | (gray >= 252)))
    centred = 1.0 - min(1.0, abs(mean - 0.5) / 0.45) ** 2
    return max(0.05, centred * (1.0 - min(0.9, clipped)))


def quad_angle(quad: np.ndarray) -> float:
    """Tilt of the plate's top edge against the horizontal, in degrees (0 = level)."""
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return float(abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))))


def crop_quality(image: np.ndarray, quad: np.ndarray, detection_confidence: float = 1.0) -> Quality:
    """Quality of the plate at ``quad`` ((4, 2) clockwise from top-left) in ``image`` (BGR or grey)."""
    quad = np.asarray(quad, np.float32)
    h_img, w_img = image.shape[:2]
    x1, y1 = np.floor(quad.min(axis=0)).astype(int)
    x2, y2 = np.ceil(quad.max(axis=0)).astype(int)
    x1, y1 = max(0, x1), max(0, y1)
    x2, y2 = min(w_img, x2), min(h_img, y2)
    crop = image[y1:y2, x1:x2]
    if crop.size == 0:
        return Quality(0.0, 0.0, 0.0, 0.0, detection_confidence, 0.0)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    height = plate_height(quad)  # side edges: robust to tilt, unlike the bounding box
    sharp = sharpness(gray)
    expo = exposure_factor(gray)
    angle = quad_angle(quad)
    angle_factor = max(0.2, float(np.cos(np.radians(min(angle, 60.0)))))
    score = (
        _saturate(sharp, SHARPNESS_KNEE)
        * (1.0 - float(np.exp(-height / SIZE_KNEE_PX)))
        * expo
        * angle_factor
        * max(0.05, min(1.0, detection_confidence))
    )
    return Quality(sharp, height, expo, angle, detection_confidence, float(score))


T = TypeVar("T")


@dataclass(order=True)
class _Entry(Generic[T]):
    score: float
    seq: int
    item: T = field(compare=False)


class BestK(Generic[T]):
    """The ``k`` highest-scoring items seen so far (a min-heap: O(log k) per offer)."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self._heap: list[_Entry[T]] = []
        self._seq = itertools.count()

    def would_keep(self, score: float) -> bool:
        """Whether an item scoring ``score`` would enter (lets callers skip expensive work)."""
        return len(self._heap) < self.k or score > self._heap[0].score

    def offer(self, score: float, item: T) -> bool:
        """Keep ``item`` if it is among the best ``k``; returns whether it was kept."""
        if not self.would_keep(score):
            return False
        entry = _Entry(score, next(self._seq), item)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, entry)
        else:
            heapq.heapreplace(self._heap, entry)
        return True

    def best(self) -> T | None:
        return max(self._heap).item if self._heap else None

    def items(self) -> list[T]:
        """Kept items, best first."""
        return [e.item for e in sorted(self._heap, reverse=True)]

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())
