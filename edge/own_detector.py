"""Stage 1, the project's own backend: a small plate detector trained on synthetic gate scenes.

`models/detector.onnx` (trained by ``models/training/train_detector.py``) is a CenterNet-style network on
a 640 x 384 letterbox of the frame: a 1080p frame is seen at 1/3 scale, a 720p frame at 1/2. Per cell of
its stride-8 grid it predicts P(a plate centre is here), the plate's box size and its four corners, so
one forward pass gives every plate's box, quadrilateral and confidence, with no text reading involved.

Trade-offs, against the *text* backend (`edge.text_detector`):

* speed: ~5 ms per 1080p frame on 2 CPU cores including the resize (``benchmarks/detector.py``), about
  20x faster, which is what makes live video on a small box possible;
* small plates: at 1/3 scale a 60 px wide plate is 20 px wide in the network's input; it is still found
  (the model is trained down to that size) but the corners are less exact. The locator (stage 2) refines
  them inside the loose box anyway;
* domain: it has only seen synthetic scenes. It is measured on them (``plate-edge eval --task detect``),
  not on real cameras; the text backend, trained on real photos, is the safety net.

The letterbox is anchored at the top-left and padded with zeros at the right/bottom, so mapping back to
the frame is a single division by the scale. Pre- and post-processing are shared with the training code
(`letterbox`, `decode`), so what is trained is exactly what runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.detector import Detection
from edge.runtime import DEFAULT_MODELS_DIR, Device, ModelError, create_session, load_manifest

IN_H, IN_W = 384, 640
STRIDE = 8


def letterbox(image: np.ndarray, in_w: int = IN_W, in_h: int = IN_H) -> tuple[np.ndarray, float]:
    """The frame scaled to fit ``in_w`` x ``in_h`` (aspect kept, top-left anchored, zero padding).

    Returns (uint8 (in_h, in_w, 3) BGR, scale) where frame pixels = letterbox pixels / scale. INTER_AREA
    because the frame is always reduced (2-3x): nearest or bilinear would alias the plate's characters
    into noise, and OpenCV's area filter for integer-like factors costs ~1 ms at 1080p.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    scale = min(in_w / w, in_h / h)
    nw, nh = max(1, min(in_w, round(w * scale))), max(1, min(in_h, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, (nw, nh), interpolation=interp)
    if (nw, nh) == (in_w, in_h):
        return small, scale
    out = np.zeros((in_h, in_w, 3), np.uint8)
    out[:nh, :nw] = small
    return out, scale


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one box ``a`` (4,) with boxes ``b`` (N, 4), all x1, y1, x2, y2."""
    iw = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, thresh: float = 0.4) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first.

    Centre-peak extraction already removes most duplicates; this catches the two adjacent peaks a large
    plate can produce (its centre falling on a cell border)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[iou(boxes[i], boxes[rest]) <= thresh]
    return keep


def decode(
    maps: np.ndarray, scale: float, thresh: float = 0.3, max_det: int = 20, nms_iou: float = 0.4
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Plates from the network's output (11, H, W) as (box (4,), quad (4, 2), score) in frame pixels.

    A plate is a 3x3 local maximum of the heat map at or above ``thresh``. Its quad is the cell centre
    plus the predicted corner offsets; its box is centred on the quad's bounds with the size head's width
    and height (two estimates of one thing: the size head is steadier on blurred, tiny plates).
    """
    heat = maps[0]
    peaks = (heat >= thresh) & (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8)))
    ys, xs = np.nonzero(peaks)
    if len(ys) == 0:
        return []
    scores = heat[ys, xs]
    order = np.argsort(-scores, kind="stable")[: max_det * 3]
    ys, xs, scores = ys[order], xs[order], scores[order]
    cell = np.stack([(xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE], -1).astype(np.float32)  # (N, 2)
    corners = maps[3:11, ys, xs].T.reshape(-1, 4, 2) * STRIDE + cell[:, None, :]
    size = np.exp(np.clip(maps[1:3, ys, xs].T, -4.0, 6.0)) * STRIDE  # (N, 2) w, h
    mid = (corners.min(axis=1) + corners.max(axis=1)) / 2
    boxes = np.concatenate([mid - size / 2, mid + size / 2], axis=1)
    keep = nms(boxes, scores, nms_iou)[:max_det]
    return [(boxes[i] / scale, corners[i] / scale, float(scores[i])) for i in keep]


def loose_box(
    quad: np.ndarray, w: int, h: int, margin_x: float = 0.08, margin_y: float = 0.25
) -> tuple[int, int, int, int]:
    """The quad's bounds grown a little on every side and clipped to the frame: the crop the locator
    (stage 2) was trained on is a loose one, and a tight box cut 2 px too small would lose a corner."""
    x1, y1 = quad.min(axis=0)
    x2, y2 = quad.max(axis=0)
    mx, my = margin_x * (x2 - x1), margin_y * (y2 - y1)
    return (
        int(max(0, np.floor(x1 - mx))),
        int(max(0, np.floor(y1 - my))),
        int(min(w, np.ceil(x2 + mx))),
        int(min(h, np.ceil(y2 + my))),
    )


class OwnDetector:
    """`PlateDetector` on ``models/detector.onnx`` (``name = "own"``).

    ``threshold`` is the heat-map peak a plate needs (0.3: on the synthetic validation set recall is
    flat from 0.2 to 0.4 while false positives drop; candidates are confirmed by the reader and grammar
    downstream anyway). ``Detection.box`` is the loose box handed to the locator, ``Detection.quad`` the
    predicted corners (clockwise from top-left). One call at a time per instance (``last_timing_ms``).
    """

    name = "own"

    def __init__(
        self,
        models_dir: Path = DEFAULT_MODELS_DIR,
        device: Device = "auto",
        threads: int = 0,
        *,
        threshold: float = 0.3,
        max_detections: int = 20,
    ) -> None:
        entry = load_manifest(models_dir).get("detector")
        if entry is None:
            raise ModelError(f"no 'detector' entry in {models_dir}/manifest.json (train it: make detector)")
        self.session: Any = create_session(entry, device, threads)
        inp = self.session.get_inputs()[0]
        self.input = inp.name
        self.in_h, self.in_w = int(inp.shape[1]), int(inp.shape[2])
        self.threshold = threshold
        self.max_detections = max_detections
        self.last_timing_ms: dict[str, float] = {}

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Plates in a BGR (or grey) frame, most confident first."""
        t0 = time.perf_counter()
        x, scale = letterbox(image, self.in_w, self.in_h)
        t1 = time.perf_counter()
        maps = self.session.run(None, {self.input: x[None]})[0][0]
        t2 = time.perf_counter()
        h, w = image.shape[:2]
        out = []
        for _box, quad, score in decode(maps, scale, self.threshold, self.max_detections):
            quad = np.clip(quad, 0, [w - 1, h - 1]).astype(np.float32)
            box = loose_box(quad, w, h)
            if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
                out.append(Detection(box, round(score, 4), quad))
        self.last_timing_ms = {
            "pre": (t1 - t0) * 1e3,
            "net": (t2 - t1) * 1e3,
            "post": (time.perf_counter() - t2) * 1e3,
        }
        return out
