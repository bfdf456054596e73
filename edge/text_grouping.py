"""Plate candidates from scene-text boxes: which detected text lines form one plate.

The text detector (`edge.text_detector`) finds text *lines*; a Korean plate is one line (single-line
plates) or two stacked lines (two-line yellow/green plates: a short region line over a long Hangul+digits
line). Lines are merged when they continue each other, stacked pairs are scored by geometry, and every
candidate gets a prior from its aspect ratio; the reader and grammar then confirm or reject it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from edge.areas import plate_height


def rect_quad(rect: Any) -> np.ndarray:
    """Corners of an OpenCV rotated rectangle ``((cx, cy), (w, h), angle)``, clockwise from top-left."""
    return order_clockwise(cv2.boxPoints(rect).astype(np.float32))


@dataclass(frozen=True)
class TextBox:
    """One detected text region: a rotated rectangle in image pixels and the detector's mean probability.

    ``quad`` is clockwise from top-left; ``length`` runs along the text (top edge), ``height`` across it.
    """

    quad: np.ndarray  # (4, 2) float32
    score: float

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.quad.mean(axis=0), np.float64)

    @property
    def length(self) -> float:
        q = self.quad
        return float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2

    @property
    def height(self) -> float:
        return plate_height(self.quad)

    @property
    def axis(self) -> np.ndarray:
        """Unit vector along the text (left to right)."""
        q = self.quad.astype(np.float64)
        v = (q[1] - q[0]) + (q[2] - q[3])
        n = float(np.linalg.norm(v))
        return np.array([1.0, 0.0]) if n < 1e-6 else v / n


def order_clockwise(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left (rapidocr's ``order_points_clockwise``)."""
    xs = pts[np.argsort(pts[:, 0], kind="stable")]
    left = xs[:2][np.argsort(xs[:2, 1], kind="stable")]
    right = xs[2:][np.argsort(xs[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


@dataclass(frozen=True)
class GroupingParams:
    """How text boxes become plate candidates. Distances are in units of text height unless stated."""

    min_text_height: float = 8.0  # px in the frame; below this a plate is unreadable anyway
    line_height_ratio: float = 1.5  # pieces of one line have heights within this ratio
    line_offset: float = 0.45  # ... centres at most this far apart across the line
    line_gap: float = 0.6  # ... and at most this gap along it (the space around the Hangul, the flag band)
    stack_height_ratio: tuple[float, float] = (0.3, 0.95)  # top line height / bottom line height
    stack_gap: tuple[float, float] = (-0.35, 0.5)  # gap between the lines, in bottom-line heights
    stack_shift: float = 0.3  # centres' offset along the text, in the bottom line's length
    stack_width_ratio: tuple[float, float] = (0.2, 1.1)  # top line length / bottom line length
    # Unclipped DB boxes of a plate come out about the size of the plate itself (synthetic plates: median
    # 0.97x its width, 1.08x its height), so the margins below are margins around the plate: the locator
    # was trained on crops with 8-60 % of the plate's size as margin on each side.
    margin_x: float = 0.15  # loose-box margin each side, fraction of the group's width
    margin_y: float = 0.3  # ... each side, fraction of the group's height
    min_confidence: float = 0.15
    # A paired group also yields its bottom line alone, at this fraction of the pair's confidence: text
    # just above a single-line plate (a sticker, a badge, "PARKING") can look exactly like the top line
    # of a two-line plate, and the reader, not geometry, settles it. 0 turns the alternatives off.
    alternative_factor: float = 0.7


@dataclass(frozen=True)
class PlateCandidate:
    """A group of text lines that may be one plate; ``lines`` top first."""

    box: tuple[int, int, int, int]
    confidence: float
    lines: tuple[TextBox, ...]
    texts: tuple[TextBox, ...] = field(default=(), repr=False)  # the raw boxes it was built from


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _merge(boxes: Sequence[TextBox]) -> TextBox:
    """The min-area rectangle around several boxes, scored by their area-weighted mean."""
    if len(boxes) == 1:
        return boxes[0]
    pts = np.concatenate([b.quad for b in boxes]).astype(np.float32)
    quad = rect_quad(cv2.minAreaRect(pts))
    areas = np.array([b.length * b.height for b in boxes])
    score = float(np.dot(areas, [b.score for b in boxes]) / max(areas.sum(), 1e-6))
    return TextBox(quad, score)


def _same_line(a: TextBox, b: TextBox, p: GroupingParams) -> bool:
    ha, hb = a.height, b.height
    if max(ha, hb) > p.line_height_ratio * min(ha, hb):
        return False
    ref = a if a.length >= b.length else b
    u = ref.axis
    n = np.array([-u[1], u[0]])
    d = b.centre - a.centre
    h = max(ha, hb)
    across = abs(float(d @ n))
    gap = abs(float(d @ u)) - (a.length + b.length) / 2
    return across <= p.line_offset * h and gap <= p.line_gap * h


def _stack_cost(top: TextBox, bottom: TextBox, p: GroupingParams) -> float | None:
    """How well ``top`` sits above ``bottom`` as the two lines of one plate (lower is better), or None."""
    r = top.height / bottom.height
    if not p.stack_height_ratio[0] <= r <= p.stack_height_ratio[1]:
        return None
    w = top.length / bottom.length
    if not p.stack_width_ratio[0] <= w <= p.stack_width_ratio[1]:
        return None
    u = bottom.axis
    n = np.array([-u[1], u[0]])  # points down the image for left-to-right text
    d = bottom.centre - top.centre
    down = float(d @ n)
    gap = (down - (top.height + bottom.height) / 2) / bottom.height
    if not p.stack_gap[0] <= gap <= p.stack_gap[1]:
        return None
    shift = abs(float(d @ u)) / bottom.length
    if shift > p.stack_shift:
        return None
    return abs(gap) + shift


def _aspect_prior(aspect: float, lo: float, hi: float, sigma: float = 0.45) -> float:
    """1 inside [lo, hi], a log-normal fall-off outside."""
    if aspect <= 0:
        return 0.0
    if lo <= aspect <= hi:
        return 1.0
    edge = lo if aspect < lo else hi
    return math.exp(-(math.log(aspect / edge) ** 2) / (2 * sigma**2))


def shape_prior(lines: Sequence[TextBox]) -> float:
    """How plate-like a group's text layout is, in (0, 1].

    Aspect ratios of the (unclipped, so roughly plate-sized) boxes: a single-line plate is 520 x 110 mm
    (4.7:1, seen between ~3 and ~8 with perspective); on a two-line plate the bottom line (Hangul + 4
    digits) is about 2-6:1 and the top line shorter. Single glyphs and long sentences fall off. A pair of
    stacked lines of these proportions is rare outside plates, which the prior rewards slightly.
    """
    if len(lines) == 1:
        line = lines[0]
        return _aspect_prior(line.length / max(line.height, 1e-6), 2.8, 8.5)
    top, bottom = lines[0], lines[-1]
    pb = _aspect_prior(bottom.length / max(bottom.height, 1e-6), 2.0, 6.0)
    pt = _aspect_prior(top.length / max(top.height, 1e-6), 1.0, 6.0)
    return min(1.0, 1.1 * pb * (0.5 + 0.5 * pt))


def plate_candidates(
    boxes: Sequence[TextBox], image_hw: tuple[int, int], params: GroupingParams | None = None
) -> list[PlateCandidate]:
    """Join text boxes into lines, pair lines stacked like a two-line plate, grow each group into a loose
    plate box. Returns candidates, most confident first.

    Trade-off: each text line belongs to one group, so candidates rarely overlap, except that a pair of
    stacked lines also yields its bottom line alone (``alternative_factor``): a single-line plate with
    unrelated text just above it is geometrically a two-line plate, and only reading both settles it. That
    costs one extra (overlapping) candidate per pair, i.e. per real two-line plate; `TextDetector.confirm`
    drops the invalid read of a two-line plate's bottom line and de-duplicates the rest.
    """
    p = params or GroupingParams()
    boxes = [b for b in boxes if b.height >= p.min_text_height]
    uf = _UnionFind(len(boxes))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if _same_line(boxes[i], boxes[j], p):
                uf.union(i, j)
    members: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        members.setdefault(uf.find(i), []).append(i)
    lines = [_merge([boxes[i] for i in idx]) for idx in members.values()]
    raw = [tuple(boxes[i] for i in idx) for idx in members.values()]

    # pair lines greedily, best-fitting pairs first; each line is in at most one pair
    pairs = []
    for t, top in enumerate(lines):
        for b, bottom in enumerate(lines):
            if t != b and (cost := _stack_cost(top, bottom, p)) is not None:
                pairs.append((cost, t, b))
    used: set[int] = set()
    groups: list[tuple[int, ...]] = []
    for _, t, b in sorted(pairs):
        if t not in used and b not in used:
            used.update((t, b))
            groups.append((t, b))
    alternatives = {(b,) for _, b in groups} if p.alternative_factor > 0 else set()
    groups += [(i,) for i in range(len(lines)) if i not in used]
    groups += sorted(alternatives)

    h_img, w_img = image_hw
    out = []
    for g in groups:
        glines = tuple(lines[i] for i in g)
        pts = np.concatenate([line.quad for line in glines])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        mx, my = p.margin_x * (x1 - x0), p.margin_y * (y1 - y0)
        box = (
            int(max(0, math.floor(x0 - mx))),
            int(max(0, math.floor(y0 - my))),
            int(min(w_img, math.ceil(x1 + mx))),
            int(min(h_img, math.ceil(y1 + my))),
        )
        areas = np.array([line.length * line.height for line in glines])
        score = float(np.dot(areas, [line.score for line in glines]) / areas.sum())
        conf = score * shape_prior(glines) * (p.alternative_factor if g in alternatives else 1.0)
        if conf >= p.min_confidence and box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
            texts = tuple(t for i in g for t in raw[i])
            out.append(PlateCandidate(box, conf, glines, texts))
    out.sort(key=lambda c: c.confidence, reverse=True)
    return out
