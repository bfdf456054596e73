"""Hangul built from strokes: a typeface drawn from parameters instead of read from a font file.

The plate typeface is none of the dozen Hangul fonts installed here, and the reader learns their outlines
rather than the letters (reader v8 reads 0.973 in those fonts, 0.925 in fonts it never saw; the loss is
in the Hangul: 허→어, 하→마). This module composes each syllable the way Hangul is built: initial
consonant, vowel and optional final, each a few strokes, placed in the layout its vowel calls for (beside a
vertical vowel, above a horizontal one, both for ㅘ/ㅝ/ㅚ, a final below). A `StrokeStyle`, drawn once
per plate, sets what a type designer sets: stroke weight, where the initial ends and the vowel begins,
how far down the final sits, the slant of ㄱ's leg, the shape of ㅇ and of ㅎ's cap, stroke ends. Every
glyph then gets its own small jitter. So each plate is set in a typeface no other plate shares, while
what tells one letter from another (which side of the long stroke ㅓ's bar is on, ㅎ's cap above ㅇ)
is kept exactly.

ㅎ gets more freedom on request (``sample_style(rng, hieut=True)``, the "built-hieut" typefaces): its
ring from small to as wide as its bar, drawn thin or heavy (a heavy headline face's ring is a
blob with a small hole), the bar higher or lower, and a third cap, a short slanted dab. The reader's
worst letters in typefaces it never saw are ㅎ's (허→어 and 하→마 read at 0.99 in Baekmuk Headline,
whose ring is as wide as its bar and whose cap sits on it), and a rental plate's letter is always ㅎ.

Trade-off: the strokes are straight lines and ellipses, so these glyphs look like a geometric gothic (as
the plate typeface does) and never like a brush or serif face; they are a training-only addition beside
the fonts, not a replacement (`glyphs.TYPEFACES`, "built").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import cv2
import numpy as np

Point = tuple[float, float]
# A stroke: a polyline in the unit box of its jamo (x right, y down), or ("ellipse", cx, cy, rx, ry).
# A small "ellipse" is drawn thinner than the typeface's weight (`_draw`); a "ring" is thinned less.
Stroke = tuple[Point, ...] | tuple[str, float, float, float, float]

_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_VERTICAL = set("ㅏㅐㅓㅔㅕㅣ")  # the vowel stands at the right of the initial
_HORIZONTAL = set("ㅗㅜㅠㅡ")  # the vowel lies under the initial
_COMPOUND = {"ㅘ": ("ㅗ", "ㅏ"), "ㅝ": ("ㅜ", "ㅓ"), "ㅚ": ("ㅗ", "ㅣ")}

_RENDER_H = 96  # glyphs are drawn at this height and scaled into their slots like font glyphs


def decompose(syllable: str) -> tuple[str, str, str]:
    """(initial, vowel, final) of one precomposed Hangul syllable; final is "" when there is none."""
    code = ord(syllable) - 0xAC00
    if not 0 <= code < 11172:
        raise ValueError(f"{syllable!r} is not a precomposed Hangul syllable")
    return _INITIALS[code // 588], _VOWELS[(code % 588) // 28], _FINALS[code % 28]


@dataclass(frozen=True)
class StrokeStyle:
    """One built typeface: the choices a designer makes once for a whole plate."""

    weight: float  # stroke width as a share of the glyph height
    split: float  # where a vertical vowel's column begins, share of the width
    final_top: float  # where the final's box begins, share of the height
    leg_slant: float  # how far ㄱ's leg leans left beside a vertical vowel (0: straight down)
    round_o: float  # ㅇ's roundness: 1 an ellipse, lower a rounded square
    h_cap: str  # ㅎ's top: "tick" (short vertical), "bar" (short horizontal) or "slant" (a dab)
    square_ends: bool  # cut stroke ends square instead of round
    aspect: float  # glyph width / height
    jitter: float  # per-glyph wobble of every point, share of the glyph height
    # ㅎ's proportions; the defaults are the only ones `sample_style` draws without ``hieut``
    h_ring: float = 1.0  # the ring's size, 1 the usual (0.84 of the jamo's width)
    h_ring_full: bool = False  # the ring heavy (a "ring", not an "ellipse"): a blob with a small hole
    h_bar: float = 0.22  # the long bar's height in the jamo's box (the ring hangs below it)


def sample_style(rng: np.random.Generator, hieut: bool = False) -> StrokeStyle:
    """One typeface, drawn from ``rng``. ``hieut`` widens ㅎ's shapes (ring size and weight, bar height, a
    slanted cap); its draws come after the others, so the styles drawn without it are unchanged."""
    style = StrokeStyle(
        weight=float(rng.uniform(0.07, 0.135)),
        split=float(rng.uniform(0.5, 0.62)),
        final_top=float(rng.uniform(0.56, 0.66)),
        leg_slant=float(rng.uniform(0.0, 0.35)),
        round_o=float(rng.uniform(0.55, 1.0)),
        h_cap="tick" if rng.random() < 0.5 else "bar",
        square_ends=bool(rng.random() < 0.5),
        aspect=float(rng.uniform(0.85, 1.05)),
        jitter=float(rng.uniform(0.0, 0.018)),
    )
    if not hieut:
        return style
    return replace(
        style,
        h_cap=str(rng.choice(["tick", "bar", "slant"], p=[0.35, 0.4, 0.25])),
        h_ring=float(rng.uniform(0.8, 1.25)),
        h_ring_full=bool(rng.random() < 0.4),
        h_bar=float(rng.uniform(0.16, 0.3)),
    )


def _hieut(style: StrokeStyle) -> list[Stroke]:
    """ㅎ: a cap, a long bar at ``h_bar``, a ring below it that never reaches the bar nor leaves the box."""
    caps: dict[str, Stroke] = {
        "tick": ((0.5, -0.04), (0.5, 0.1)),
        "bar": ((0.28, 0.0), (0.72, 0.0)),
        "slant": ((0.62, -0.04), (0.4, style.h_bar * 0.55)),
    }
    bar = style.h_bar
    ry = min(0.32 * style.h_ring, (1.0 - bar - 0.1) / 2)
    rx = min(0.42 * style.h_ring, 0.5)
    ring = ("ring" if style.h_ring_full else "ellipse", 0.5, 1.0 - ry, rx, ry)
    return [caps[style.h_cap], ((0.0, bar), (1.0, bar)), ring]


def _consonant(ch: str, style: StrokeStyle, beside_vowel: bool) -> list[Stroke]:
    """The strokes of a consonant in its unit box. ``beside_vowel``: left of a vertical vowel."""
    leg = style.leg_slant if beside_vowel else 0.0
    o = ("ellipse", 0.5, 0.5, 0.5, 0.5)
    shapes: dict[str, list[Stroke]] = {
        "ㄱ": [((0.0, 0.0), (1.0, 0.0), (1.0 - leg, 1.0))],
        "ㄴ": [((0.0, 0.0), (0.0, 1.0), (1.0, 1.0))],
        "ㄷ": [((1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0))],
        "ㄹ": [((0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5), (0.0, 1.0), (1.0, 1.0))],
        "ㅁ": [((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0))],
        "ㅂ": [((0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)), ((0.0, 0.5), (1.0, 0.5))],
        "ㅅ": [((0.5, 0.0), (0.0, 1.0)), ((0.5, 0.3), (1.0, 1.0))],
        "ㅇ": [o],
        "ㅈ": [((0.0, 0.0), (1.0, 0.0)), ((0.55, 0.0), (0.0, 1.0)), ((0.5, 0.45), (1.0, 1.0))],
        "ㅊ": [
            ((0.5, -0.05), (0.5, 0.16)),
            ((0.0, 0.2), (1.0, 0.2)),
            ((0.55, 0.2), (0.0, 1.0)),
            ((0.5, 0.58), (1.0, 1.0)),
        ],
        "ㅎ": _hieut(style),
    }
    if ch not in shapes:
        raise ValueError(f"no strokes for the consonant {ch!r} (plates do not print it)")
    return shapes[ch]


def _vertical_vowel(ch: str) -> list[Stroke]:
    """A vowel standing in its column box: the long stroke and its short bars."""
    shapes: dict[str, list[Stroke]] = {
        "ㅣ": [((0.5, 0.0), (0.5, 1.0))],
        "ㅏ": [((0.3, 0.0), (0.3, 1.0)), ((0.3, 0.48), (0.95, 0.48))],
        "ㅓ": [((0.75, 0.0), (0.75, 1.0)), ((0.05, 0.48), (0.75, 0.48))],
        "ㅐ": [((0.2, 0.0), (0.2, 0.95)), ((0.2, 0.48), (0.75, 0.48)), ((0.8, 0.0), (0.8, 1.0))],
        "ㅔ": [((0.0, 0.48), (0.45, 0.48)), ((0.45, 0.0), (0.45, 0.95)), ((0.9, 0.0), (0.9, 1.0))],
        "ㅕ": [((0.75, 0.0), (0.75, 1.0)), ((0.05, 0.36), (0.75, 0.36)), ((0.05, 0.62), (0.75, 0.62))],
    }
    return shapes[ch]


def _horizontal_vowel(ch: str) -> list[Stroke]:
    """A vowel lying in its band box: the long bar and its short stems."""
    shapes: dict[str, list[Stroke]] = {
        "ㅡ": [((0.0, 0.5), (1.0, 0.5))],
        "ㅗ": [((0.5, 0.1), (0.5, 0.65)), ((0.0, 0.65), (1.0, 0.65))],
        "ㅜ": [((0.0, 0.3), (1.0, 0.3)), ((0.5, 0.3), (0.5, 0.95))],
        "ㅠ": [((0.0, 0.3), (1.0, 0.3)), ((0.32, 0.3), (0.32, 0.95)), ((0.68, 0.3), (0.68, 0.95))],
    }
    return shapes[ch]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in the glyph's unit square


def _layout(initial: str, vowel: str, final: str, s: StrokeStyle) -> list[tuple[list[Stroke], Box]]:
    """Each jamo's strokes with the box they fill, by the vowel's layout (and the final's presence)."""
    ft = s.final_top if final else 1.0
    parts: list[tuple[list[Stroke], Box]] = []
    if vowel in _VERTICAL:
        wide = vowel in "ㅐㅔ"  # two long strokes need a wider column
        col = s.split - (0.1 if wide else 0.0)
        vowel_bottom = 1.0 if not final else ft - 0.04
        init_bottom = 0.9 if not final else ft - 0.12
        parts.append((_consonant(initial, s, beside_vowel=True), (0.04, 0.08, col - 0.08, init_bottom)))
        parts.append((_vertical_vowel(vowel), (col, 0.0, 1.0, vowel_bottom)))
    elif vowel in _HORIZONTAL:
        band = 0.5 if not final else 0.3
        band_h = 0.46 if not final else 0.3
        parts.append((_consonant(initial, s, beside_vowel=False), (0.18, 0.0, 0.82, band - 0.04)))
        parts.append((_horizontal_vowel(vowel), (0.0, band, 1.0, band + band_h)))
    elif vowel in _COMPOUND:
        lying, standing = _COMPOUND[vowel]
        top = 0.42 if not final else 0.3
        low = 0.9 if not final else ft - 0.04
        parts.append((_consonant(initial, s, beside_vowel=False), (0.06, 0.0, 0.6, top)))
        parts.append((_horizontal_vowel(lying), (0.0, top, 0.72, low)))
        parts.append((_vertical_vowel(standing), (0.66, 0.0, 1.0, low)))
    else:
        raise ValueError(f"no layout for the vowel {vowel!r} (plates do not print it)")
    if final:
        parts.append((_consonant(final, s, beside_vowel=False), (0.12, ft + 0.04, 0.88, 1.0)))
    return parts


def superellipse(
    cx: float, cy: float, rx: float, ry: float, roundness: float, angles: np.ndarray | None = None
) -> np.ndarray:
    """Points of an ellipse (roundness 1) or of a rounded square (lower): closed, or at ``angles``
    (radians; y down, so pi/2 is the bottom) for an arc (`digit_strokes` draws its bowls so)."""
    n = 2.0 + (1.0 - roundness) * 6.0
    a = np.linspace(0.0, 2 * np.pi, 49) if angles is None else angles
    c, s = np.cos(a), np.sin(a)
    return np.stack(
        [cx + rx * np.sign(c) * np.abs(c) ** (2 / n), cy + ry * np.sign(s) * np.abs(s) ** (2 / n)], axis=1
    )


def segment(img: np.ndarray, p: np.ndarray, q: np.ndarray, t: int) -> None:
    """A straight stroke with square ends reaching half a stroke past its points (so corners fill)."""
    d = q - p
    d = d / max(float(np.hypot(*d)), 1e-6) * (t / 2)
    n = np.array([-d[1], d[0]])
    quad = np.array([p - d + n, q + d + n, q + d - n, p - d - n])
    cv2.fillConvexPoly(img, np.round(quad * 16).astype(np.int32), 255, cv2.LINE_AA, 4)


def _draw(img: np.ndarray, stroke: Stroke, box: Box, style: StrokeStyle, t: int, jit: np.ndarray) -> None:
    """Draw one stroke of a jamo, its box inset by half a stroke so ink stays in the glyph."""
    h, w = img.shape
    x0, y0, x1, y1 = box
    m = t / 2
    bx0, by0 = x0 * (w - 2 * m) + m, y0 * (h - 2 * m) + m
    bw, bh = (x1 - x0) * (w - 2 * m), (y1 - y0) * (h - 2 * m)
    if isinstance(stroke[0], str):
        kind, cx, cy, rx, ry = stroke  # type: ignore[misc]
        # a small ring (ㅎ's, a final ㅇ) drawn at full weight would close into a blob; most fonts thin
        # it, heavy headline faces do not ("ring")
        cap = 0.55 if kind == "ellipse" else 0.8
        t = max(2, min(t, round(cap * min(rx * bw, ry * bh))))
        m = t / 2
        unit = superellipse(cx, cy, rx, ry, style.round_o)
        # the ring's centre line sits half a stroke inside the box, so ㅇ's ink fills it and no more
        radii = np.array([rx * bw, ry * bh])
        shrink = np.maximum(radii - m, 1.0) / np.maximum(radii, 1e-6)
        centre = np.array([bx0 + cx * bw, by0 + cy * bh])
        pts = centre + (np.stack([bx0 + unit[:, 0] * bw, by0 + unit[:, 1] * bh], axis=1) - centre) * shrink
        pts = pts + jit[0]
        cv2.polylines(img, [np.round(pts * 16).astype(np.int32)], True, 255, t, cv2.LINE_AA, 4)
        return
    pts = np.array([[bx0 + px * bw, by0 + py * bh] for px, py in stroke], dtype=np.float64)  # type: ignore[misc]
    pts = pts + jit[: len(pts)]
    if style.square_ends:
        for p, q in itertools.pairwise(pts):
            segment(img, p, q, t)
    else:  # OpenCV's thick lines end and join round
        cv2.polylines(img, [np.round(pts * 16).astype(np.int32)], False, 255, t, cv2.LINE_AA, 4)


def build_glyph(syllable: str, style: StrokeStyle, rng: np.random.Generator) -> np.ndarray:
    """One syllable's ink, cropped to its box: float32 in [0, 1], like `glyphs.glyph_mask`."""
    initial, vowel, final = decompose(syllable)
    h = _RENDER_H
    w = round(h * style.aspect)
    t = max(2, round(style.weight * h))
    img = np.zeros((h, w), np.uint8)
    for strokes, box in _layout(initial, vowel, final, style):
        for stroke in strokes:
            n = 1 if isinstance(stroke[0], str) else len(stroke)
            jit = rng.normal(0.0, style.jitter * h, (n, 2))
            _draw(img, stroke, box, style, t, jit)
    out = img.astype(np.float32) / 255.0
    ys, xs = np.nonzero(out > 0.06)
    return np.ascontiguousarray(out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
