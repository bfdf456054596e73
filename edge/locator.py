"""Stage 2 for a plate candidate: its exact quadrilateral and whether it has one or two text lines.

A small CNN (`models/locator.onnx`, trained on synthetic crops) looks at a loose crop around a plate and
returns the four corners in crop-normalised coordinates plus P(two lines). Normalised coordinates make
the answer independent of the crop's aspect ratio, so a detector box, a person's hand-made crop or a
whole photo of a plate all work the same way. The layout is decided from pixels, never guessed from text.

The locator looks twice. The first look sees the crop it is given, where the plate may fill a tenth of
the 64 x 128 input or be cut at an edge; its corners are off by about 3.5 % of the plate's size. The
second look sees a crop cut around the first answer with a fixed margin (`REFINE_PAD`), where the plate
fills the input the same way every time, and the model is trained on crops made that way: the error
halves (0.035 -> 0.019 on seeded plates), and exact reads of the seeded synthetic test set rise from
0.896 (one look, previous model) to 0.922 with the same reader. It costs a second 0.3 ms inference per
plate: cheap next to a character that a bad quad cut off, which no reader can recover. A box that clips
the plate is recovered only in part (the second window is cut around a clipped first answer).

It keeps looking until the window stops moving (`MAX_LOOKS`, `WINDOW_SETTLED`). In a loose crop (a
person's crop with half the car in it, the plate a sixth to a third of its width) the first answer is only
roughly where the plate is, the second window is still loose, and each further look tightens it. Crops
like the synthesizer's test crops and detector boxes settle after the second look, as before. A look
whose answer lies outside the window it was shown is dropped: the previous answer stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from edge.contrast import lift_contrast
from edge.detector import box_iou
from edge.runtime import DEFAULT_MODELS_DIR, Device, ModelError, create_session, load_manifest

LOC_H, LOC_W = 64, 128

#: Margin of the second look, as fractions of the first quad's bounding box (x, y) on each side. The
#: locator is trained on crops made this way (`models.training.train_locator.refine_variant`).
REFINE_PAD = (0.05, 0.15)
#: At most this many looks per plate. The search stops when the next window would overlap the last one
#: by `WINDOW_SETTLED` (intersection over union) or more: it would see the same pixels again.
MAX_LOOKS = 5
WINDOW_SETTLED = 0.9
#: A window whose brightness spreads over less than this (2nd to 98th percentile, of 255) is stretched
#: to it before the model sees it (`edge.contrast`): a plate at a tenth of normal exposure or behind
#: haze. Most crops spread wider (the test set's 5th percentile is 81, its median 166) and are looked
#: at unchanged. With the areas' own floor, the first 400 test crops dimmed to 0.12 read 0.660 -> 0.938
#: and at a quarter of their contrast 0.740 -> 0.970 (0.988 as drawn); on the five seeded sets 14 unsure
#: reads were fixed and 11 broken (test 5 and 3 of 4,500), all under 0.5, and no sure one.
LOCATOR_MIN_SPREAD = 100.0


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
        """Locate the plate in ``image`` (BGR or gray), or inside ``box`` (x1, y1, x2, y2) of it.

        The second look may reach outside ``box``: a detector box that clips the plate's edge must not
        clip the quad.
        """
        window = box or (0, 0, image.shape[1], image.shape[0])
        geo = self.look(image, window)
        for _ in range(MAX_LOOKS - 1):
            nxt = refine_window(geo.quad, image.shape[:2])
            if nxt is None or box_iou(nxt, window) >= WINDOW_SETTLED:
                break  # nothing to look at, or the same pixels again
            closer = self.look(image, nxt)
            if not _centred_in(closer.quad, nxt):
                break  # an answer outside the window it looked at is no plate: the last one stands
            geo, window = closer, nxt
        return geo

    def look(self, image: np.ndarray, box: tuple[int, int, int, int]) -> PlateGeometry:
        """One pass of the model over ``box`` of ``image`` (BGR or gray); `locate` is two or more."""
        # a box may stick out of the image (a padded detector box, a hand-made one): keep what is inside
        x0, y0 = max(0, box[0]), max(0, box[1])
        x1, y1 = min(image.shape[1], box[2]), min(image.shape[0], box[3])
        crop = image[y0:y1, x0:x1]
        h, w = crop.shape[:2]
        if h < 4 or w < 4:
            raise ValueError(f"plate crop too small: {w}x{h}")
        x = locator_input(crop).astype(np.float32)
        out = self.session.run(None, {self.input: x.transpose(2, 0, 1)[None]})[0][0]
        quad = out[:8].reshape(4, 2) * np.array([w, h], np.float32) + np.array([x0, y0], np.float32)
        p = float(out[8])
        return PlateGeometry(order_quad(quad), p >= 0.5, p)


def locator_input(crop: np.ndarray) -> np.ndarray:
    """The model's view of a window (BGR or gray uint8): 64 x 128 BGR uint8, its contrast lifted to
    `LOCATOR_MIN_SPREAD` when it has less. Training makes its inputs with this too."""
    if crop.ndim == 2:  # the crop, not the frame: a gray frame may be large and is looked at twice
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    small = cv2.resize(crop, (LOC_W, LOC_H), interpolation=cv2.INTER_AREA)
    return lift_contrast(small, LOCATOR_MIN_SPREAD)


def refine_window(quad: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The second look's crop (x1, y1, x2, y2) around ``quad``, inside an image of ``shape`` (h, w).

    None when the first answer leaves nothing sensible to look at: a quad that is degenerate or lies
    outside the image. The first answer then stands.
    """
    h, w = shape[:2]
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    pad = np.array(REFINE_PAD) * (hi - lo)
    x0, y0 = np.floor(np.maximum(lo - pad, 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(hi + pad, (w, h))).astype(int)
    if x1 - x0 < 8 or y1 - y0 < 4:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def _centred_in(quad: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether the quad's centre lies inside ``box`` (x1, y1, x2, y2)."""
    cx, cy = quad.mean(axis=0)
    return bool(box[0] <= cx <= box[2] and box[1] <= cy <= box[3])
