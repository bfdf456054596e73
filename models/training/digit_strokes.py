"""Digits built from strokes: plate-like numerals drawn from parameters instead of read from a font file.

The plate typeface's digits are none of ours. Its 1 is a narrow stem with a short flag and no foot, set
in a slot as wide as any other digit; its 6 and 9 curl, its 4 is closed, its bowls are rounded
rectangles. Every font we have stretches its 1 (ink box to slot) and has one fixed answer to each of
those choices, so the reader learns the fonts' outlines: in typefaces it never saw its worst digit error
is 1 read as 7 (reader v9 on the unseen set, 10 plates in 1,500), a flagged 1 it had never seen narrow.

A `DigitStyle`, drawn once per plate, makes the choices a type designer makes: stroke weight, width,
how square the bowls are, the 1's flag (length, drop, a foot or not) and where its stem stands, a
flat or a round top on 3, an open or a closed 4, a curled or a straight tail on 6 and 9, a straight
or a bent stem on 7, how much smaller 8's upper bowl is. Every glyph then gets its own jitter. What
tells one digit from another is kept exactly: 7's stem leaves the right end of its bar, 1's flag leaves
the top of its stem and stays shorter than the stem is tall, 3 is open on the left, 5's bar is on top.

Trade-off: strokes are lines and superellipse arcs, so these digits look like a geometric gothic (as the
plate digits do) and never like a serif or a hand-painted face. A training-only addition beside the
fonts (`glyphs.TYPEFACES`, "built-digits"), never a replacement: the seeded test sets do not use it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from models.training.hangul_strokes import segment, superellipse

_RENDER_H = 96  # drawn at this height, then scaled into the slot like a font's glyph

Line = tuple[np.ndarray, bool]  # points in the unit box (x right, y down), closed or not


@dataclass(frozen=True)
class DigitStyle:
    """One built set of digits: the choices made once for a whole plate."""

    weight: float  # stroke width as a share of the glyph height
    aspect: float  # glyph width / height
    roundness: float  # bowls: 1 an ellipse, lower a rounded rectangle
    square_ends: bool  # stroke ends cut square instead of round
    jitter: float  # per-glyph wobble, share of the glyph height
    one_stem: float  # where 1's stem stands, share of the width
    one_flag: float  # how far 1's flag reaches left of the stem, share of the width (0: none)
    one_drop: float  # how far down the flag ends, share of the height
    one_foot: bool  # a foot under the 1
    three_flat: bool  # 3 with a flat top bar and a diagonal, instead of two round bowls
    four_open: bool  # 4's upright and diagonal do not meet
    four_bar: float  # height of 4's crossbar
    curled_tail: bool  # 6 and 9 curl (else a straight diagonal tail)
    seven_bent: bool  # 7's stem bends toward upright
    seven_foot: float  # where 7's stem lands
    upper_bowl: float  # 8's and 3's upper bowl height, share of the height (the lower takes the rest)
    eight_waist: float  # 8's upper bowl width against the lower's


def sample_digit_style(rng: np.random.Generator) -> DigitStyle:
    """One set of digits, drawn from ``rng`` (always the same number of draws)."""
    return DigitStyle(
        weight=float(rng.uniform(0.09, 0.16)),
        aspect=float(rng.uniform(0.48, 0.62)),
        roundness=float(rng.uniform(0.35, 1.0)),
        square_ends=bool(rng.random() < 0.6),
        jitter=float(rng.uniform(0.0, 0.012)),
        one_stem=float(rng.uniform(0.5, 0.66)),
        one_flag=float(rng.uniform(0.15, 0.42)) if rng.random() < 0.9 else 0.0,
        one_drop=float(rng.uniform(0.1, 0.28)),
        one_foot=bool(rng.random() < 0.12),
        three_flat=bool(rng.random() < 0.3),
        four_open=bool(rng.random() < 0.2),
        four_bar=float(rng.uniform(0.62, 0.74)),
        curled_tail=bool(rng.random() < 0.7),
        seven_bent=bool(rng.random() < 0.35),
        seven_foot=float(rng.uniform(0.22, 0.45)),
        upper_bowl=float(rng.uniform(0.44, 0.5)),
        eight_waist=float(rng.uniform(0.84, 0.96)),
    )


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, roundness: float) -> np.ndarray:
    """Points of a superellipse from angle ``a0`` to ``a1`` (degrees; y down, so 90 is the bottom)."""
    return superellipse(
        cx, cy, rx, ry, roundness, np.radians(np.linspace(a0, a1, max(8, int(abs(a1 - a0) / 6))))
    )


def _pts(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


def _six(s: DigitStyle) -> list[Line]:
    """6: a closed lower bowl and a tail rising from its left to the top right."""
    top = 1.0 - s.upper_bowl - 0.16  # the bowl is a little taller than 8's lower one
    ry = (1.0 - top) / 2
    bowl = (superellipse(0.5, 1.0 - ry, 0.5, ry, s.roundness), True)
    if s.curled_tail:  # up the left side and over, as the plate's 6 does
        tail = _arc(0.5, 1.0 - ry, 0.5, 1.0 - ry, 180.0, 300.0, s.roundness)
    else:
        start = _arc(0.5, 1.0 - ry, 0.5, ry, 200.0, 200.0, s.roundness)[0]
        tail = _pts((float(start[0]), float(start[1])), (0.78, 0.0))
    return [bowl, (tail, False)]


def _shapes(digit: str, s: DigitStyle) -> list[Line]:
    """The centre lines of one digit in its unit box."""
    r = s.roundness
    up = s.upper_bowl
    lo = (1.0 - up) / 2  # the lower bowl's half height: it reaches from ``up`` to the bottom
    if digit == "0":
        return [(superellipse(0.5, 0.5, 0.5, 0.5, r), True)]
    if digit == "1":
        x = s.one_stem
        lines: list[Line] = [(_pts((x, 0.0), (x, 1.0)), False)]
        if s.one_flag > 0:
            lines.append((_pts((x, 0.0), (x - s.one_flag, s.one_drop)), False))
        if s.one_foot:
            lines.append((_pts((x - 0.3, 1.0), (min(x + 0.3, 1.0), 1.0)), False))
        return lines
    if digit == "2":
        ry = up / 2 + 0.04
        hook = _arc(0.5, ry, 0.5, ry, 195.0, 380.0, r)
        end = hook[-1]
        neck = _pts((float(end[0]), float(end[1])), (0.0, 1.0), (1.0, 1.0))
        return [(np.vstack([hook, neck[1:]]), False)]
    if digit == "3":
        lower = _arc(0.5, 1.0 - lo, 0.5, lo, 250.0 if s.three_flat else 270.0, 520.0, r)
        if s.three_flat:
            bar = _pts((0.02, 0.0), (1.0, 0.0), (0.42, up - 0.04))
            return [(bar, False), (lower, False)]
        upper = _arc(0.5, up / 2, 0.46, up / 2, 200.0, 450.0, r)
        return [(upper, False), (lower, False), (_pts((0.34, up), (0.5, up)), False)]
    if digit == "4":
        x, y = 0.72, s.four_bar
        cross: Line = (_pts((0.0, y), (1.0, y)), False)
        if s.four_open:
            return [(_pts((0.12, 0.0), (0.0, y)), False), (_pts((x, 0.3), (x, 1.0)), False), cross]
        return [(_pts((x, 0.0), (0.0, y)), False), (_pts((x, 0.0), (x, 1.0)), False), cross]
    if digit == "5":
        ry = (1.0 - 0.42) / 2
        bowl = _arc(0.5, 1.0 - ry, 0.5, ry, 215.0, 520.0, r)
        start = bowl[0]
        top = _pts((1.0, 0.0), (0.06, 0.0), (float(start[0]), float(start[1])))
        return [(np.vstack([top, bowl[1:]]), False)]
    if digit == "6":
        return _six(s)
    if digit == "9":  # a 6 turned half round, as the plate typeface draws it
        return [(1.0 - pts, closed) for pts, closed in _six(s)]
    if digit == "7":
        stem = (
            _pts((1.0, 0.0), (0.56, 0.55), (s.seven_foot + 0.08, 1.0))
            if s.seven_bent
            else _pts((1.0, 0.0), (s.seven_foot, 1.0))
        )
        return [(np.vstack([_pts((0.0, 0.0)), stem]), False)]
    if digit == "8":
        w = 0.5 * s.eight_waist
        return [
            (superellipse(0.5, up / 2, w, up / 2, r), True),
            (superellipse(0.5, 1.0 - lo, 0.5, lo, r), True),
        ]
    raise ValueError(f"{digit!r} is not a digit")


def build_digit(digit: str, style: DigitStyle, rng: np.random.Generator) -> np.ndarray:
    """One digit's ink: float32 in [0, 1], like `glyphs.glyph_mask`.

    Cropped to its ink except across a 1, which keeps the whole glyph width: the plate's 1 is a narrow
    stem in a full slot, where a font's 1 cropped to its ink would be stretched as wide as a 0.
    """
    h = _RENDER_H
    w = round(h * style.aspect)
    t = max(2, round(style.weight * h))
    m = t / 2  # centre lines sit half a stroke inside the glyph box, so the ink fills it exactly
    img = np.zeros((h, w), np.uint8)
    scale = np.array([w - 2 * m, h - 2 * m])
    for pts, closed in _shapes(digit, style):
        px = pts * scale + m
        # a stroke of two to four points wobbles at each; an arc moves as a whole (else it would ripple)
        n = len(px) if len(px) <= 4 else 1
        px = px + rng.normal(0.0, style.jitter * h, (n, 2))
        if style.square_ends and not closed and len(px) <= 4:  # cut square: straight strokes only, a
            for p, q in itertools.pairwise(px):  # curve of square-cut pieces would be saw-toothed
                segment(img, p, q, t)
        else:  # OpenCV's thick lines end and join round
            cv2.polylines(img, [np.round(px * 16).astype(np.int32)], closed, 255, t, cv2.LINE_AA, 4)
    out = img.astype(np.float32) / 255.0
    ys, xs = np.nonzero(out > 0.06)
    x0, x1 = (0, w) if digit == "1" else (xs.min(), xs.max() + 1)
    return np.ascontiguousarray(out[ys.min() : ys.max() + 1, x0:x1])
