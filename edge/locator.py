"""Stage 2 for a plate candidate: its exact quadrilateral and whether it has one or two text lines.

A small CNN (`models/locator.onnx`, trained on synthetic crops) looks at a loose crop around a plate and
returns the four corners in crop-normalised coordinates plus P(two lines). Normalised coordinates make
the answer independent of the crop's aspect ratio, so a detector box, a person's hand-made crop or a
whole photo of a plate all work the same way. The layout is decided from pixels, never guessed from text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from edge.runtime import DEFAULT_MODELS_DIR, Device, ModelError, create_session, load_manifest

LOC_H, LOC_W = 64, 128


@dataclass(frozen=True)
class PlateGeometry:
    """Where a plate is inside an image (quad clockwise from top-left, pixels) and its layout."""

    quad: np.ndarray
    two_line: bool
    two_line_prob: float


class PlateLocator(Protocol):
    def locate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> PlateGeometry: ...


def order_quad(q: np.ndarray) -> np.ndarray:
    """Clockwise from top-left, whatever order the corners came in."""
    c = q.mean(axis=0)
    ang = np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0])
    q = q[np.argsort(ang)]  # clockwise in image coordinates (y down), starting at the smallest angle
    start = int(np.argmin(q.sum(axis=1)))
    return np.roll(q, -start, axis=0).astype(np.float32)


class OnnxLocator:
    """The bundled locator model behind `PlateLocator`."""

    def __init__(
        self, models_dir: Any = DEFAULT_MODELS_DIR, device: Device = "auto", threads: int = 0
    ) -> None:
        entry = load_manifest(models_dir).get("locator")
        if entry is None:
            raise ModelError(f"no 'locator' entry in {models_dir}/manifest.json")
        self.session = create_session(entry, device, threads)
        self.input = self.session.get_inputs()[0].name

    def locate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> PlateGeometry:
        """Locate the plate in ``image`` (BGR or gray), or inside ``box`` (x1, y1, x2, y2) of it."""
        x0, y0 = 0, 0
        crop = image
        if box is not None:
            x0, y0, x1, y1 = box
            crop = image[y0:y1, x0:x1]
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        h, w = crop.shape[:2]
        if h < 4 or w < 4:
            raise ValueError(f"plate crop too small: {w}x{h}")
        x = cv2.resize(crop, (LOC_W, LOC_H), interpolation=cv2.INTER_AREA).astype(np.float32)
        out = self.session.run(None, {self.input: x.transpose(2, 0, 1)[None]})[0][0]
        quad = out[:8].reshape(4, 2) * np.array([w, h], np.float32) + np.array([x0, y0], np.float32)
        p = float(out[8])
        return PlateGeometry(order_quad(quad), p >= 0.5, p)
