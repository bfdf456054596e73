"""Still-image analysis: one image in, the analysis JSON of design.md out (`plate-edge/analysis/1`).

Candidates come from the configured detector; each is located, read and kept only if its read is
grammatical (a detector box that reads as nonsense is a sign, a sticker or a grille, not a plate). When
the detector finds nothing and the image itself looks like a plate crop (wide and small, as people
upload them), the whole image is tried as one candidate: a close-up of a plate is too large for a text
detector tuned to scenes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.detector import Detection, PlateDetector, confirm_candidates
from edge.engine import Engine, PlateRead

SCHEMA = "plate-edge/analysis/1"
LOW_RES = (1280, 720)


def _quad(q: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in q]


def plate_json(p: PlateRead, detection_confidence: float) -> dict[str, Any]:
    return {
        "text": p.text,
        "confidence": round(p.confidence, 3),
        "valid": p.valid,
        "kind": p.kind,
        "box": _quad(p.quad),
        "detection_confidence": round(detection_confidence, 3),
        "areas": [
            {
                "box": _quad(a.quad),
                "text": a.text,
                "confidence": round(a.confidence, 3),
                "chars": [{"char": c, "confidence": round(v, 3)} for c, v in a.chars],
            }
            for a in p.areas
        ],
    }


def _looks_like_crop(image: np.ndarray) -> bool:
    h, w = image.shape[:2]
    return bool(w <= 1000 and h <= 600 and w >= 1.3 * h)


def find_plates(
    image: np.ndarray, engine: Engine, detector: PlateDetector | None, max_candidates: int = 8
) -> list[tuple[Detection, PlateRead]]:
    """Grammatical plates in an image, best first (confidence, then size)."""
    candidates: Sequence[Detection] = detector.detect(image) if detector else []
    found = confirm_candidates(image, candidates, engine, max_candidates)
    if not found and _looks_like_crop(image):
        h, w = image.shape[:2]
        det = Detection((0, 0, w, h), 1.0)
        read = engine.read_plate(image, None)
        if read.valid:
            found.append((det, read))
    found.sort(key=lambda dr: (-round(dr[1].confidence, 2), -float(np.ptp(dr[1].quad[:, 0]))))
    return _dedupe(found)


def _dedupe(found: list[tuple[Detection, PlateRead]]) -> list[tuple[Detection, PlateRead]]:
    """Two candidates on one plate (e.g. each line of a two-line plate) keep the better one."""
    kept: list[tuple[Detection, PlateRead]] = []
    for det, read in found:
        c = read.quad.mean(axis=0)
        if all(np.linalg.norm(c - k.quad.mean(axis=0)) > 0.5 * np.ptp(k.quad[:, 0]) for _, k in kept):
            kept.append((det, read))
    return kept


def analyze(
    image: np.ndarray, name: str, engine: Engine, detector: PlateDetector | None, decode_ms: float = 0.0
) -> dict[str, Any]:
    t0 = time.perf_counter()
    plates = find_plates(image, engine, detector)
    total = (time.perf_counter() - t0) * 1e3
    read_ms = sum(p.timing_ms.get("read", 0.0) + p.timing_ms.get("locate", 0.0) for _, p in plates)
    h, w = image.shape[:2]
    return {
        "schema": SCHEMA,
        "image": {
            "name": name,
            "width": w,
            "height": h,
            "resolution": "low" if (w < LOW_RES[0] or h < LOW_RES[1]) else "normal",
        },
        "plates": [plate_json(p, d.confidence) for d, p in plates],
        "timing_ms": {
            "decode": round(decode_ms, 1),
            "detect": round(max(total - read_ms, 0.0), 1),
            "read": round(read_ms, 1),
            "total": round(decode_ms + total, 1),
        },
    }
