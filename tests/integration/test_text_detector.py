"""The text-detector backend finds synthetic plates pasted into cluttered 1280x720 frames.

Scenes: our plate synthesizer's filmed crops (a plate on a car-like surround) feathered into a textured
frame with unrelated signage text. A plate counts as found when a candidate box has IoU >= 0.3 with the
plate's axis-aligned box; the backend must find at least 80 % of them. It needs the PP-OCR model from
the ``rapidocr`` wheel (no trained model of ours).
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from edge.detector import Detection, box_iou
from edge.text_detector import TextDetector
from models.training.dataset import film

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

FRAME_W, FRAME_H = 1280, 720
SIGNS = ("EXIT", "PARKING", "B1 24H", "SLOW 10", "NO ENTRY", "CCTV", "P", "GATE 2")
Box = tuple[float, float, float, float]


def _background(rng: np.random.Generator) -> np.ndarray:
    """Smooth lighting, low-frequency texture, a few soft shapes and some signage text."""
    h, w = FRAME_H, FRAME_W
    base = rng.uniform(50, 200, 3).astype(np.float32)
    grad = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.8, 1.2), h, dtype=np.float32)[:, None, None]
    field = cv2.resize(rng.random((6, 10)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = base * grad * (0.85 + 0.3 * field[..., None])
    for _ in range(int(rng.integers(3, 7))):
        colour = tuple(float(v) for v in rng.uniform(30, 230, 3))
        if rng.random() < 0.5:
            p0 = (int(rng.integers(w)), int(rng.integers(h)))
            p1 = (int(rng.integers(w)), int(rng.integers(h)))
            cv2.line(img, p0, p1, colour, int(rng.integers(2, 12)), cv2.LINE_AA)
        else:
            centre = (int(rng.integers(w)), int(rng.integers(h)))
            axes = (int(rng.integers(20, 200)), int(rng.integers(20, 120)))
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
    img = np.clip(cv2.GaussianBlur(img, (0, 0), 1.5), 0, 255).astype(np.uint8)  # putText wants uint8
    for _ in range(int(rng.integers(1, 4))):
        text = str(rng.choice(SIGNS))
        scale = float(rng.uniform(0.6, 1.6))
        org = (int(rng.integers(0, w - 200)), int(rng.integers(40, h - 10)))
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        cv2.putText(
            img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, max(1, int(scale * 2)), cv2.LINE_AA
        )
    return img.astype(np.float32) + rng.normal(0, 3, img.shape).astype(np.float32)


def _paste(frame: np.ndarray, crop: np.ndarray, x0: int, y0: int) -> None:
    """Feather a crop into the frame (a hard-edged rectangle is itself text-like to a text detector)."""
    h, w = crop.shape[:2]
    ramp = max(2, min(h, w) // 8)
    ax = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / ramp, 0, 1)
    ay = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / ramp, 0, 1)
    alpha = (ay[:, None] * ax[None, :])[..., None].astype(np.float32)
    sub = frame[y0 : y0 + h, x0 : x0 + w]
    sub[:] = sub * (1 - alpha) + crop.astype(np.float32) * alpha


def make_scene(seed: int) -> tuple[np.ndarray, list[Box], list[str]]:
    """A 1280x720 frame with one or two plates; returns (frame, plate bboxes, plate texts)."""
    rng = np.random.default_rng(seed)
    frame = _background(rng)
    n = 1 if rng.random() < 0.7 else 2
    boxes: list[Box] = []
    texts: list[str] = []
    taken: list[tuple[int, int, int, int]] = []
    for _ in range(n):
        spec, crop, quad, _ = film(rng)
        h, w = crop.shape[:2]
        s = min(1.0, 0.9 * FRAME_W / n / w, 0.9 * FRAME_H / h)
        if s < 1.0:
            crop = cv2.resize(crop, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
            quad = quad * s
        h, w = crop.shape[:2]
        for _try in range(50):
            x0, y0 = int(rng.integers(0, FRAME_W - w + 1)), int(rng.integers(0, FRAME_H - h + 1))
            if all(x0 >= b[2] or x0 + w <= b[0] or y0 >= b[3] or y0 + h <= b[1] for b in taken):
                break
        else:
            continue
        taken.append((x0, y0, x0 + w, y0 + h))
        _paste(frame, crop, x0, y0)
        q = quad + np.array([x0, y0], np.float32)
        boxes.append((float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())))
        texts.append(spec.text)
    return np.clip(frame, 0, 255).astype(np.uint8), boxes, texts


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(device="cpu", threads=2)


def test_finds_plates_in_cluttered_frames(detector: TextDetector) -> None:
    found = total = 0
    ious: list[float] = []
    t0 = time.perf_counter()
    for seed in range(20):
        frame, plates, _ = make_scene(1000 + seed)
        detections = detector.detect(frame)
        assert all(isinstance(d, Detection) for d in detections)
        conf = [d.confidence for d in detections]
        assert conf == sorted(conf, reverse=True)
        for plate in plates:
            best = max((box_iou(d.box, plate) for d in detections), default=0.0)
            ious.append(best)
            total += 1
            found += best >= 0.3
    recall = found / total
    print(f"text detector recall {found}/{total} = {recall:.2f}, median IoU {np.median(ious):.2f}, "
          f"{(time.perf_counter() - t0) / 20 * 1e3:.0f} ms/frame")  # fmt: skip
    assert recall >= 0.8


def test_empty_grey_frame_has_no_candidates(detector: TextDetector) -> None:
    assert detector.detect(np.full((FRAME_H, FRAME_W, 3), 128, np.uint8)) == []
