"""Occluders for reader training: something in front of a plate's characters, and a label that says so.

A tow bar, a bike rack, mud, a sticker or worn-off paint can hide a character. A reader that never saw
one reads a plate whose first digit is hidden (937수2500) as another valid plate (93수2500), and is sure
of it (README, the occluded probe): for a barrier the worst error there is. Here a training plate gets
an occluder over one character, two neighbours or the region name, and each hidden character is
labelled `edge.plate.HIDDEN`, so the reader learns to say that it cannot see them. Keeping the true
labels under the occluder was tried first (`train_reader --occlude`, HISTORY): the reader learnt to
guess the hidden character, not to doubt it.

Some plates get a decoy instead: an occluder of the same kinds beside the text, hiding nothing, label
unchanged, so that a dark bolt cover or a bar across the plate's margin is not taken for a hidden
character.

The occluder is drawn on the frontal plate, before it is mounted and filmed: it takes the plate's
perspective, blur, light and codec with the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from edge.plate import HIDDEN
from models.training.plates import Box, PlateSpec

#: What is in front of the characters: a dark or metal bar, mud, a sticker or tape, paint worn off.
KINDS = ("bar", "mud", "sticker", "worn")
#: Share of occluded plates whose occluder hides nothing (a decoy beside the text).
DECOY_SHARE = 0.2
#: Share of plates with a region name whose occluder hides the whole name.
REGION_SHARE = 0.3
#: Share of the others whose occluder hides two neighbouring characters rather than one.
PAIR_SHARE = 0.2
#: How far an occluder may reach into a character it does not hide, as a share of that one's width: a
#: neighbour it covers more of might be unreadable with its label kept.
SPILL = 0.25


def _line_of(spec: PlateSpec) -> list[int]:
    """The line (0 or 1) of each character of ``spec.text``, in text order."""
    return [i for i, line in enumerate(spec.lines) for _ in line]


def _targets(spec: PlateSpec, rng: np.random.Generator) -> list[int]:
    """Positions in ``spec.text`` to hide: the whole region name, one character (a region syllable
    too), or two neighbours in a line, never a region syllable with a digit (the region's edge is where
    a short occluder would stop)."""
    if spec.region and rng.random() < REGION_SHARE:
        return list(range(len(spec.region)))
    first = int(rng.integers(len(spec.text)))
    lines = _line_of(spec)
    pair = [p for p in (first - 1, first + 1) if 0 <= p < len(spec.text) and lines[p] == lines[first]]
    if pair and spec.region and first < len(spec.region):
        pair = []
    if pair and rng.random() < PAIR_SHARE:
        other = pair[int(rng.integers(len(pair)))]
        if not (spec.region and other < len(spec.region)):
            return sorted((first, other))
    return [first]


def _cover(
    boxes: Sequence[Box], hidden: list[int], shape: tuple[int, int], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the hidden glyphs' boxes grown, sometimes to the plate's full height, but into
    no other glyph by more than `SPILL` of it."""
    h = shape[0]
    xs0 = min(boxes[i].x for i in hidden)
    xs1 = max(boxes[i].x + boxes[i].w for i in hidden)
    ys0 = min(boxes[i].y for i in hidden)
    ys1 = max(boxes[i].y + boxes[i].h for i in hidden)
    span, tall = xs1 - xs0, ys1 - ys0
    left, right = xs0 - span * rng.uniform(0.05, 0.35), xs1 + span * rng.uniform(0.05, 0.35)
    others = [b for j, b in enumerate(boxes) if j not in hidden]
    for b in others:  # neighbours in the same line (they share rows with the hidden glyphs)
        if b.y < ys1 and b.y + b.h > ys0:
            if b.x + b.w <= xs0:
                left = max(left, b.x + b.w - SPILL * b.w)
            elif b.x >= xs1:
                right = min(right, b.x + SPILL * b.w)
    if rng.random() < 0.5:  # the whole height of the plate, as a bar or a strap would
        top, bottom = 0.0, float(h)
    else:
        top, bottom = ys0 - tall * rng.uniform(0.05, 0.4), ys1 + tall * rng.uniform(0.05, 0.4)
    for b in others:  # the other line's glyphs above or below the cover
        if min(right, b.x + b.w) - max(left, b.x) > SPILL * b.w:
            if b.y + b.h <= ys0:
                top = max(top, b.y + b.h - SPILL * b.h)
            elif b.y >= ys1:
                bottom = min(bottom, b.y + SPILL * b.h)
    return int(left), max(int(top), 0), int(np.ceil(right)), min(int(np.ceil(bottom)), h)


def _decoy(
    boxes: Sequence[Box], shape: tuple[int, int], rng: np.random.Generator
) -> tuple[int, int, int, int] | None:
    """A box beside the text that touches no glyph: in the left or right margin, or below the text."""
    h, w = shape
    x0, x1 = min(b.x for b in boxes), max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    where = rng.integers(3)
    if where == 0 and x0 > 6:
        a = int(rng.uniform(0, 0.6) * x0)
        return a, 0, int(rng.uniform(a + 0.3 * (x0 - a), x0 - 1)) + 1, h
    if where == 1 and w - x1 > 6:
        b = int(x1 + rng.uniform(0.4, 1.0) * (w - x1))
        return int(rng.uniform(x1 + 1, x1 + 0.7 * (b - x1))), 0, b, h
    if h - y1 > 4:
        top = int(rng.uniform(y1 + 1, y1 + 0.5 * (h - y1)))
        return int(rng.uniform(0, 0.5) * w), top, int(rng.uniform(0.5, 1.0) * w), h
    return None


def _paint(
    plate: np.ndarray, rect: tuple[int, int, int, int], bg: np.ndarray, rng: np.random.Generator
) -> None:
    """Draw one occluder of a random `KINDS` over ``rect`` of ``plate`` (in place)."""
    x0, y0, x1, y1 = rect
    region = plate[y0:y1, x0:x1]
    if region.size == 0:
        return
    kind = KINDS[int(rng.integers(len(KINDS)))]
    rh, rw = region.shape[:2]
    if kind == "bar":
        colour = rng.uniform(5, 70, 3) if rng.random() < 0.7 else np.full(3, rng.uniform(110, 190))
        grain = 4.0
    elif kind == "mud":
        colour = np.array([rng.uniform(70, 130), rng.uniform(55, 95), rng.uniform(30, 60)])
        grain = 18.0
    elif kind == "sticker":
        colour = rng.uniform(40, 255, 3) if rng.random() < 0.4 else np.full(3, rng.uniform(200, 250))
        grain = 3.0
    else:  # paint worn off: the plate's own ground shows through
        colour = bg * rng.uniform(0.85, 1.05)
        grain = 8.0
    texture = rng.normal(0.0, grain, (rh, rw, 1)).astype(np.float32)
    fill = np.clip(colour[None, None, :] + texture, 0, 255)
    mask = np.ones((rh, rw), np.float32)
    if kind == "mud" and min(rh, rw) > 8:  # ragged edges; the glyph inside stays covered
        yy, xx = np.mgrid[0:rh, 0:rw]
        rim = np.minimum(np.minimum(yy, rh - 1 - yy), np.minimum(xx, rw - 1 - xx))
        speckle = cv2.GaussianBlur(rng.random((rh, rw)).astype(np.float32), (0, 0), 1.5)
        mask = np.where(rim < 2, (speckle > 0.5).astype(np.float32), 1.0).astype(np.float32)
    region[:] = np.clip(region * (1 - mask[..., None]) + fill * mask[..., None], 0, 255).astype(np.uint8)


def occlude(
    plate: np.ndarray, spec: PlateSpec, boxes: Sequence[Box], rng: np.random.Generator
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``plate`` (frontal, `render_plate` with its ``boxes``) with an occluder, and its lines' labels.

    Hidden characters are `HIDDEN` in the labels. A decoy (`DECOY_SHARE`) hides nothing and keeps them.
    """
    if len(boxes) != len(spec.text):
        raise ValueError(f"{len(boxes)} glyph boxes for {spec.text!r}")
    out = plate.copy()
    bg = np.median(plate.reshape(-1, 3), axis=0).astype(np.float32)
    if rng.random() < DECOY_SHARE:
        rect = _decoy(boxes, plate.shape[:2], rng)
        if rect is not None:
            _paint(out, rect, bg, rng)
        return out, spec.lines
    hidden = _targets(spec, rng)
    _paint(out, _cover(boxes, hidden, plate.shape[:2], rng), bg, rng)
    text = "".join(HIDDEN if i in hidden else ch for i, ch in enumerate(spec.text))
    labels, at = [], 0
    for line in spec.lines:
        labels.append(text[at : at + len(line)])
        at += len(line)
    return out, tuple(labels)
