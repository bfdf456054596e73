"""Stage 1 fallback: plate candidates from a general-purpose scene-text detector.

Why this exists: our own plate detector is trained on synthetic frames and may not transfer to a real
camera. A text detector trained on millions of real photos (PaddleOCR's PP-OCR DB detector) finds the
*characters* of a plate whatever the car, light or mount looks like, and the plate grammar (checked by the
reader, see :meth:`TextDetector.confirm`) throws away the shop signs, stickers and dealer names it also
finds. The price is speed (a general detector at 1280 px costs a few hundred ms per frame on a small CPU, see
``benchmarks/text_detector.py``) and precision before confirmation (every piece of text is a candidate).

The model: ``PP-OCRv6_det_small.onnx`` as shipped inside the ``rapidocr==3.10.0`` wheel (Apache-2.0,
weights by Baidu/PaddleOCR). We only take the file from the wheel: it is located through the wheel's
*metadata* (no ``import rapidocr``, whose package pulls shapely, pyclipper, omegaconf, requests...), and its
sha256 is pinned here (the same digest rapidocr publishes in its ``default_models.yaml``), so a different
wheel version fails loudly at start-up instead of silently changing behaviour. Pre- and post-processing
are re-implemented with numpy/OpenCV, following rapidocr's ``ch_ppocr_det`` code and ``config.yaml``:

* input BGR, ``(x / 255 - 0.5) / 0.5``, NCHW float32; each side resized to a multiple of 32 (rounded, as
  rapidocr does: up to ~2 % aspect distortion, which the model tolerates). rapidocr's default limit
  (``limit_type: min``, 736) never downscales a 1080p frame; we limit the *long* side instead
  (``limit_side``, default 1280) because plates at a gate are large and CPU time is the constraint.
* DB post-processing: probability > ``thresh`` (0.3), 2x2 dilation, contours, min-area rectangles with a
  short side >= 3, mean probability >= ``box_thresh`` (0.5), unclip by ``unclip_ratio`` (1.6). PaddleOCR
  offsets the *rectangle* with round joins (pyclipper) and takes the min-area rectangle of the result,
  which is the rectangle grown by ``d = area * ratio / perimeter`` on every side, so a closed form
  replaces shapely and pyclipper (checked against rapidocr's own ``DBPostProcess`` on real probability
  maps: same boxes, same scores, corners within 2 px). One deliberate difference: the mean probability is
  taken inside the contour (rapidocr's ``score_mode: slow``), not its rectangle (its default, ``fast``),
  see `db_boxes`.

Text boxes then become plate candidates (:func:`plate_candidates`): boxes on one line are joined, two lines
stacked the way a two-line Korean plate stacks them are paired, the group is grown into a loose plate box
(the locator, stage 2, finds the exact corners inside it) and scored by detector confidence times a shape
prior. Merging is deliberately strict (similar heights, small gaps), because an over-merged group still
covers the plate but hands the locator a worse crop; the caller's grammar check decides what is a plate.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from edge.detector import Detection, PlateReadingEngine, confirm_candidates
from edge.runtime import Device, ModelEntry, ModelError, create_session
from edge.text_grouping import (
    GroupingParams,
    PlateCandidate,
    TextBox,
    order_clockwise,
    plate_candidates,
    rect_quad,
)

if TYPE_CHECKING:
    from edge.engine import PlateRead

log = logging.getLogger(__name__)

ScoreMode = Literal["fast", "slow"]

#: Where the model comes from: this wheel, this file, this digest (rapidocr's own default_models.yaml
#: publishes the same SHA256 for PP-OCRv6 det small).
WHEEL = "rapidocr"
WHEEL_VERSION = "3.10.0"
MODEL_FILE = "rapidocr/models/PP-OCRv6_det_small.onnx"
MODEL_SHA256 = "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"


def bundled_model_entry() -> ModelEntry:
    """The ``ModelEntry`` of the text detector inside the installed ``rapidocr`` wheel.

    Found from the distribution's metadata, so nothing of rapidocr is imported (it may be installed with
    ``--no-deps``). The sha256 is pinned: `create_session` refuses any other file.
    """
    try:
        dist = importlib.metadata.distribution(WHEEL)
    except importlib.metadata.PackageNotFoundError as e:
        raise ModelError(
            f"the text detector needs the '{WHEEL}=={WHEEL_VERSION}' wheel for its model file "
            f"(pip install --no-deps {WHEEL}=={WHEEL_VERSION})"
        ) from e
    if dist.version != WHEEL_VERSION:
        log.warning(
            "%s %s installed, the text detector was validated with %s", WHEEL, dist.version, WHEEL_VERSION
        )
    path = Path(str(dist.locate_file(MODEL_FILE)))
    return ModelEntry(
        name="text_det",
        file=path,
        sha256=MODEL_SHA256,
        input_shape=(1, 3, "h32", "w32"),
        meta={"source": f"{WHEEL}=={dist.version}", "license": "Apache-2.0"},
    )


# --- DB text detection ------------------------------------------------------------------------------


def db_boxes(
    prob: np.ndarray,
    src_hw: tuple[int, int],
    thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip_ratio: float = 1.6,
    score_mode: ScoreMode = "slow",
    max_boxes: int = 1000,
) -> list[TextBox]:
    """DB post-processing of one probability map (H', W') into text boxes in source pixels (src_hw).

    ``score_mode`` "fast" (rapidocr's default) scores a box by the mean probability inside its rectangle,
    "slow" inside the contour itself. Plates need "slow": the two lines of a two-line plate often come out
    as one L-shaped blob whose rectangle is half empty, which "fast" scores below ``box_thresh`` and drops
    (seen on synthetic yellow two-line plates: 0.45 fast, 0.83 slow). The cost is one polygon fill per blob.
    """
    ph, pw = prob.shape
    mask = cv2.dilate((prob > thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = src_hw[1] / pw, src_hw[0] / ph
    out: list[TextBox] = []
    for contour in contours[:max_boxes]:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < 3:
            continue
        quad = rect_quad(((cx, cy), (w, h), angle))
        score = _mean_inside(prob, quad if score_mode == "fast" else contour.reshape(-1, 2))
        if score < box_thresh:
            continue
        d = w * h * unclip_ratio / (2 * (w + h))  # offset distance of PaddleOCR's unclip
        w2, h2 = w + 2 * d, h + 2 * d
        if min(w2, h2) < 5:
            continue
        q = rect_quad(((cx, cy), (w2, h2), angle))
        q[:, 0] = np.clip(np.round(q[:, 0] * sx), 0, src_hw[1] - 1)
        q[:, 1] = np.clip(np.round(q[:, 1] * sy), 0, src_hw[0] - 1)
        q = order_clockwise(q)
        if np.linalg.norm(q[1] - q[0]) <= 3 or np.linalg.norm(q[3] - q[0]) <= 3:
            continue
        out.append(TextBox(q, score))
    return out


def _mean_inside(prob: np.ndarray, quad: np.ndarray) -> float:
    """Mean probability inside a polygon (rapidocr's ``box_score_fast`` / ``box_score_slow``)."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    m = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(m, [(quad - np.array([x0, y0], np.float32)).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], m)[0])


def network_size(h: int, w: int, limit_side: int) -> tuple[int, int]:
    """Input size (h, w): long side at most ``limit_side`` (never upscaled), each a multiple of 32."""
    ratio = min(1.0, limit_side / max(h, w))
    return max(32, round(h * ratio / 32) * 32), max(32, round(w * ratio / 32) * 32)


def preprocess(image: np.ndarray, limit_side: int) -> np.ndarray:
    """BGR uint8 frame -> (1, 3, H, W) float32 normalised like PaddleOCR's det (mean = std = 0.5)."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    nh, nw = network_size(image.shape[0], image.shape[1], limit_side)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x = small.astype(np.float32) * np.float32(2 / 255) - np.float32(1.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


# --- the backend ------------------------------------------------------------------------------------


class TextDetector:
    """`PlateDetector` backend on PP-OCR's DB text detector (``name = "text"``).

    ``limit_side`` is the network input's long side (the frame is only ever downscaled). Measured on
    synthetic plates in cluttered 1920x1080 frames: 1280 finds 0.91 of them (0.88 of those with characters
    under 25 px), 960 finds 0.79 (0.59 of the small ones) but runs ~1.8x faster. Frames of 1280x720 or less
    are not resized at 1280 (0.96 vs 0.94). Each call runs one ONNX session; like every backend, one call
    at a time per instance. ``last_timing_ms`` holds the split of the last call.
    """

    name = "text"

    def __init__(
        self,
        model: ModelEntry | None = None,
        device: Device = "auto",
        threads: int = 0,
        *,
        limit_side: int = 1280,
        thresh: float = 0.3,
        box_thresh: float = 0.5,
        unclip_ratio: float = 1.6,
        score_mode: ScoreMode = "slow",
        grouping: GroupingParams | None = None,
        max_candidates: int = 50,
    ) -> None:
        if limit_side < 32:
            raise ValueError(f"limit_side must be >= 32, got {limit_side}")
        self.session: Any = create_session(model or bundled_model_entry(), device, threads)
        self.input = self.session.get_inputs()[0].name
        self.limit_side = limit_side
        self.thresh, self.box_thresh, self.unclip_ratio = thresh, box_thresh, unclip_ratio
        self.score_mode: ScoreMode = score_mode
        self.grouping = grouping or GroupingParams()
        self.max_candidates = max_candidates
        self.last_timing_ms: dict[str, float] = {}

    def detect_text(self, image: np.ndarray) -> list[TextBox]:
        """Every text region in a BGR (or gray) frame, in frame pixels."""
        t0 = time.perf_counter()
        x = preprocess(image, self.limit_side)
        t1 = time.perf_counter()
        prob = self.session.run(None, {self.input: x})[0][0, 0]
        t2 = time.perf_counter()
        boxes = db_boxes(
            prob, image.shape[:2], self.thresh, self.box_thresh, self.unclip_ratio, self.score_mode
        )
        t3 = time.perf_counter()
        self.last_timing_ms = {"pre": (t1 - t0) * 1e3, "net": (t2 - t1) * 1e3, "post": (t3 - t2) * 1e3}
        return boxes

    def candidates(self, image: np.ndarray) -> list[PlateCandidate]:
        """Plate candidates with the text lines behind each (for debugging and drawing)."""
        boxes = self.detect_text(image)
        t0 = time.perf_counter()
        out = plate_candidates(boxes, image.shape[:2], self.grouping)[: self.max_candidates]
        self.last_timing_ms["group"] = (time.perf_counter() - t0) * 1e3
        return out

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Loose plate boxes, most confident first. ``quad`` is None: the text lines do not give the plate's
        corners (the locator does)."""
        return [Detection(c.box, round(c.confidence, 4)) for c in self.candidates(image)]

    def confirm(
        self, image: np.ndarray, engine: PlateReadingEngine, max_candidates: int = 8
    ) -> list[tuple[Detection, PlateRead]]:
        """Read the ``max_candidates`` best candidates and keep those whose read is grammatical.

        This is the backend's contract to the analysis code: a general text detector's candidates are
        only plates once the reader and the grammar agree (see `confirm_candidates`). The default of 8
        reads is cheap next to the detection itself and covers a plate ranked below a few signs.
        """
        return confirm_candidates(image, self.detect(image), engine, max_candidates)
