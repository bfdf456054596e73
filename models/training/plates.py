"""Korean plate specimens: what to print (text, style) and a flat, frontal rendering of it.

Layouts follow the published plate standard in proportion, with every dimension jittered so the reader
does not learn one exact geometry:

* long single-line plates, 520 x 110 mm: private white 7-char (12가3456) and 8-char (123가4567), the 2020
  8-char plate with the flag band (taegeuk, hologram, KOR) at the left, EV (blue) with its mark at the
  left, yellow commercial with the region name stacked vertically at the left, old white region plates;
* two-line plates, 335 x 170 mm: yellow commercial and old green, region + digits on the top line (about a
  third of the height), Hangul + 4 large digits below.

Digits are tall and narrow (height about twice the width) and fill their slots; Hangul is a little
shorter and wider; the four trailing digits sit close together with a wider gap around the Hangul.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from edge.plate import (
    DIGITS,
    HANGUL_COMMERCIAL,
    HANGUL_DELIVERY,
    HANGUL_PRIVATE,
    HANGUL_RENTAL,
    HANGUL_SPECIAL,
    REGIONS,
)
from models.training.digit_strokes import DigitStyle, build_digit, sample_digit_style
from models.training.glyphs import (
    LATIN_FONTS,
    TYPEFACES,
    FontRef,
    available,
    fit_glyph,
    glyph_mask,
    warp_glyph,
)
from models.training.hangul_strokes import StrokeStyle, build_glyph, sample_style

# style -> (probability, plate size in mm)
STYLES: dict[str, tuple[float, tuple[int, int]]] = {
    "white7": (0.20, (520, 110)),
    "white8": (0.12, (520, 110)),
    "white8_flag": (0.16, (520, 110)),
    "white_region": (0.07, (520, 110)),
    "ev": (0.12, (520, 110)),
    "yellow_long": (0.11, (520, 110)),
    "yellow_two": (0.12, (335, 170)),
    "green_two": (0.10, (335, 170)),
}
TWO_LINE_STYLES = frozenset({"yellow_two", "green_two"})
# On two-line plates the region name's syllables stand about as tall as the class digits beside them (the
# digits are narrow, the syllables square); sessions 1-7 drew them at 0.6-0.8, which made the top line
# harder than real plates and left region names the main two-line error (57 of 124 misreads, session 7).
TOP_LINE_REGION_SCALE = (0.78, 0.95)
# Inline, on a long single-line plate, the region name is set small beside the tall digits.
INLINE_REGION_SCALE = (0.6, 0.8)
COLOUR_OF = {
    "white7": "white", "white8": "white", "white8_flag": "white", "white_region": "white",
    "ev": "blue", "yellow_long": "yellow", "yellow_two": "yellow", "green_two": "green",
}  # fmt: skip

RGB = tuple[float, float, float]
# "built" typefaces: the share of plates whose Hangul is built from strokes; the rest keep the fonts, so
# the reader does not unlearn them (the test sets are drawn in them)
BUILT_HANGUL_SHARE = 0.5
# "built-digits": the share of plates whose digits are built from strokes (drawn apart from the Hangul's)
BUILT_DIGIT_SHARE = 0.5
#: The typeface sets that build digits on `BUILT_DIGIT_SHARE` of their plates.
BUILDS_DIGITS = ("built-digits", "built-all", "built-many")


@dataclass(frozen=True)
class Box:
    """A glyph's box on the rendered plate, pixels."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class PlateSpec:
    """What one synthetic plate says and how it looks."""

    text: str
    style: str
    region: str  # "" when the plate has none
    lead: str  # digits before the Hangul
    hangul: str
    tail: str  # the four digits

    @property
    def two_line(self) -> bool:
        return self.style in TWO_LINE_STYLES

    @property
    def colour(self) -> str:
        return COLOUR_OF[self.style]

    @property
    def lines(self) -> tuple[str, ...]:
        if self.two_line:
            return (self.region + self.lead, self.hangul + self.tail)
        return (self.text,)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list(DIGITS), size=n))


def sample_spec(rng: np.random.Generator, style: str | None = None) -> PlateSpec:
    """Draw a plate. Digits are uniform (the reader must not learn a class prior); Hangul follow the style."""
    names = list(STYLES)
    if style is None:
        p = np.array([STYLES[s][0] for s in names])
        style = str(rng.choice(names, p=p / p.sum()))
    u = rng.random()
    if style in ("yellow_long", "yellow_two"):
        hangul_pool = HANGUL_COMMERCIAL if u < 0.75 else HANGUL_DELIVERY
    elif style == "green_two":
        hangul_pool = HANGUL_PRIVATE + HANGUL_COMMERCIAL
    else:
        hangul_pool = HANGUL_PRIVATE if u < 0.78 else HANGUL_RENTAL if u < 0.92 else HANGUL_SPECIAL
    hangul = str(rng.choice(list(hangul_pool)))
    region = ""
    if style in ("white_region", "yellow_long", "yellow_two", "green_two"):
        region = str(rng.choice(REGIONS))
        lead = _digits(rng, 2 if rng.random() < 0.85 else 1)
    elif style in ("white8", "white8_flag") or (style == "ev" and rng.random() < 0.6):
        lead = _digits(rng, 3)
    else:
        lead = _digits(rng, 2)
    tail = _digits(rng, 4)
    return PlateSpec(region + lead + hangul + tail, style, region, lead, hangul, tail)


# --- rendering --------------------------------------------------------------------------------------


def _colours(style: str, rng: np.random.Generator) -> tuple[RGB, RGB]:
    j = rng.uniform(-12, 12, 3)
    if style.startswith("white") or style == "white_region":
        bg = np.clip(np.array([246, 246, 244]) + j * 0.7, 200, 255)
        fg = np.clip(np.array([22, 22, 26]) + j, 0, 70)
    elif style == "ev":
        bg = np.clip(np.array([95, 160, 225]) + j * 2, 40, 255)
        fg = np.clip(np.array([18, 22, 40]) + j, 0, 70)
    elif style.startswith("yellow"):
        bg = np.clip(np.array([246, 200, 40]) + j * 1.5, 0, 255)
        fg = np.clip(np.array([20, 20, 20]) + j, 0, 70)
    else:  # old green
        bg = np.clip(np.array([45, 115, 75]) + j * 1.5, 0, 255)
        fg = np.clip(np.array([238, 240, 236]) + j * 0.7, 180, 255)
    return (float(bg[0]), float(bg[1]), float(bg[2])), (float(fg[0]), float(fg[1]), float(fg[2]))


class _Canvas:
    """Plate texture in float RGB with an ink layer; everything is in millimetres times ``scale``."""

    def __init__(self, size_mm: tuple[int, int], scale: float, bg: RGB) -> None:
        self.scale = scale
        self.w, self.h = round(size_mm[0] * scale), round(size_mm[1] * scale)
        self.rgb = np.empty((self.h, self.w, 3), np.float32)
        self.rgb[:] = bg

    def px(self, mm: float) -> int:
        return round(mm * self.scale)

    def paint(self, mask: np.ndarray, x_mm: float, y_mm: float, colour: RGB, emboss: float = 0.0) -> None:
        """Alpha-blend ``mask`` at (x, y) mm; ``emboss`` adds a raised-letter highlight and shadow."""
        x, y = self.px(x_mm), self.px(y_mm)
        h, w = mask.shape
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, self.w), min(y + h, self.h)
        if x1 <= x0 or y1 <= y0:
            return
        m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
        region = self.rgb[y0:y1, x0:x1]
        if emboss:
            d = max(1, round(emboss * self.scale))
            shade = np.zeros_like(m)
            shade[d:, d:] = m[:-d, :-d] if m.shape[0] > d and m.shape[1] > d else 0
            region *= 1.0 - 0.35 * np.clip(shade - m, 0, 1)
        region[:] = region * (1.0 - m) + np.asarray(colour, np.float32) * m


def _taegeuk(c: _Canvas, cx: float, cy: float, r: float) -> None:
    """The flag's red/blue circle (simplified yin-yang), as on the 2020 band and the EV mark."""
    red, blue = (205, 46, 58), (0, 71, 160)
    centre, rad = (c.px(cx), c.px(cy)), max(c.px(r), 2)
    cv2.ellipse(c.rgb, centre, (rad, rad), 0, 180, 360, red, -1, cv2.LINE_AA)
    cv2.ellipse(c.rgb, centre, (rad, rad), 0, 0, 180, blue, -1, cv2.LINE_AA)
    cv2.circle(c.rgb, (c.px(cx - r / 2), c.px(cy)), max(rad // 2, 1), red, -1, cv2.LINE_AA)
    cv2.circle(c.rgb, (c.px(cx + r / 2), c.px(cy)), max(rad // 2, 1), blue, -1, cv2.LINE_AA)


def _flag_band(c: _Canvas, rng: np.random.Generator, width: float) -> None:
    x1 = c.px(width)
    tint = rng.uniform(0.9, 1.0)
    c.rgb[:, :x1] = c.rgb[:, :x1] * tint + np.array([215, 225, 240], np.float32) * (1 - tint)
    _taegeuk(c, width / 2, 32, width * 0.3)
    # hologram strip: a faint silvery rectangle between the circle and KOR
    cv2.rectangle(c.rgb, (c.px(width * 0.2), c.px(50)), (c.px(width * 0.8), c.px(66)), (200, 205, 215), -1)
    kor = glyph_mask(available(LATIN_FONTS)[0], "K")
    for i, ch in enumerate("KOR"):
        g = fit_glyph(glyph_mask(available(LATIN_FONTS)[0], ch), c.px(width * 0.22), c.px(14), 0.3)
        c.paint(g, width * (0.14 + 0.25 * i), 74, (20, 40, 110))
    del kor


def _ev_mark(c: _Canvas, rng: np.random.Generator, width: float) -> None:
    _taegeuk(c, width / 2, 30, width * 0.26)
    car = (40, 70, 150)
    cv2.rectangle(c.rgb, (c.px(width * 0.2), c.px(52)), (c.px(width * 0.8), c.px(70)), car, -1, cv2.LINE_AA)
    for i, ch in enumerate("EV"):
        g = fit_glyph(glyph_mask(available(LATIN_FONTS)[-1], ch), c.px(width * 0.26), c.px(16), 0.2)
        c.paint(g, width * (0.22 + 0.3 * i), 76, car)


def _bolt(c: _Canvas, rng: np.random.Generator, x: float, y: float, r: float) -> None:
    centre, rad = (c.px(x), c.px(y)), max(c.px(r), 2)
    if rng.random() < 0.3:  # plastic cap in a random colour
        colour = tuple(float(v) for v in rng.uniform(30, 230, 3))
        cv2.circle(c.rgb, centre, rad, colour, -1, cv2.LINE_AA)
    else:
        cv2.circle(c.rgb, centre, rad, (90, 90, 95), -1, cv2.LINE_AA)
        cv2.circle(c.rgb, centre, max(rad - 2, 1), (185, 185, 190), -1, cv2.LINE_AA)
        cv2.line(
            c.rgb,
            (centre[0] - rad // 2, centre[1]),
            (centre[0] + rad // 2, centre[1]),
            (70, 70, 75),
            max(1, rad // 4),
            cv2.LINE_AA,
        )


@dataclass(frozen=True)
class _Typeface:
    digit_font: FontRef
    hangul_font: FontRef
    weight: float
    emboss: float
    warp: float = 0.0  # `warp_glyph` strength; 0: glyphs as the font draws them
    strokes: StrokeStyle | None = None  # Hangul built from strokes in this style instead of the font's
    built_regions: bool = True  # region names built too (else only the class letter)
    digits: DigitStyle | None = None  # digits built from strokes in this style instead of the font's

    def glyph(
        self, font: FontRef, ch: str, w: int, h: int, rng: np.random.Generator, region: bool = False
    ) -> np.ndarray:
        if self.digits is not None and "0" <= ch <= "9":
            return fit_glyph(build_digit(ch, self.digits, rng), w, h, self.weight)
        hangul = "\uac00" <= ch <= "\ud7a3"
        if self.strokes is not None and hangul and (self.built_regions or not region):
            return fit_glyph(build_glyph(ch, self.strokes, rng), w, h, self.weight)
        mask = glyph_mask(font, ch)
        if self.warp > 0:
            mask = warp_glyph(mask, rng, self.warp)
        return fit_glyph(mask, w, h, self.weight)


def _typeface(rng: np.random.Generator, typefaces: str) -> _Typeface:
    """Fonts, weight and emboss of one plate. ``typefaces``: `glyphs.TYPEFACES`.

    "standard" draws exactly as every release before it did (the seeded test sets depend on it, draw for
    draw); "varied" adds training-only fonts and bends most glyphs (`warp_glyph`); "unseen" uses only
    fonts no training set contains; "built" sets the Hangul of half its plates in a typeface built from
    strokes (`hangul_strokes`), each plate its own; "built-letters" builds only the class letter and
    keeps region names in the fonts; "built-hieut" does too, with ㅎ drawn in more shapes; "built-digits"
    does as "built-letters" and, on a share of its plates drawn apart, builds the digits from strokes
    (`digit_strokes`); "built-all" does as "built-digits" with region names built too; "built-many" does
    as "built-digits" with the fonts of many more families (`glyphs.MORE_HANGUL_FONTS`). Only these three
    draw the digit share, so the others draw as they always did.
    """
    if typefaces not in TYPEFACES:
        raise ValueError(f"typefaces must be one of {', '.join(TYPEFACES)}, not {typefaces!r}")
    hangul, digits = (available(fonts) for fonts in TYPEFACES[typefaces])
    tf = _Typeface(
        digit_font=digits[rng.integers(len(digits))],
        hangul_font=hangul[rng.integers(len(hangul))],
        weight=float(rng.uniform(-0.3, 1.4)),
        emboss=float(rng.uniform(0.6, 1.5)) if rng.random() < 0.4 else 0.0,
    )
    if typefaces == "varied" and rng.random() < 0.75:
        return dataclasses.replace(tf, warp=float(rng.uniform(0.3, 1.0)))
    if typefaces.startswith("built") and rng.random() < BUILT_HANGUL_SHARE:
        style = sample_style(rng, hieut=typefaces == "built-hieut")
        tf = dataclasses.replace(tf, strokes=style, built_regions=typefaces in ("built", "built-all"))
    # the digit share is drawn apart from the Hangul's
    if typefaces in BUILDS_DIGITS and rng.random() < BUILT_DIGIT_SHARE:
        tf = dataclasses.replace(tf, digits=sample_digit_style(rng))
    return tf


def _row(
    c: _Canvas,
    tf: _Typeface,
    items: list[tuple[str, str]],
    x0: float,
    x1: float,
    top: float,
    height: float,
    rng: np.random.Generator,
    fg: RGB,
    region_scale: tuple[float, float] = INLINE_REGION_SCALE,
    boxes: list[Box] | None = None,
) -> None:
    """Lay out one line of (char, class) in [x0, x1] mm: classes 'd' digit, 'h' Hangul, 'r' region.

    ``region_scale``: the region name's height as a share of the digits'. Inline on a long plate it is set
    small; on a two-line plate's top line it is nearly as tall as the two digits beside it. ``boxes``:
    each glyph's box is appended to it (`render_plate`).
    """
    aspect = {"d": rng.uniform(0.46, 0.6), "h": rng.uniform(0.85, 1.1), "r": rng.uniform(0.75, 0.95)}
    hscale = {"d": 1.0, "h": rng.uniform(0.8, 0.97), "r": rng.uniform(*region_scale)}
    gap = height * rng.uniform(0.05, 0.14)
    group_gap = height * rng.uniform(0.1, 0.3)
    widths = [height * hscale[k] * aspect[k] for _, k in items]
    gaps = [group_gap if (a[1] != b[1]) else gap for a, b in itertools.pairwise(items)]
    total = sum(widths) + sum(gaps)
    shrink = min(1.0, (x1 - x0) / total)
    widths = [w * shrink for w in widths]
    gaps = [g * shrink for g in gaps]
    x = x0 + ((x1 - x0) - (sum(widths) + sum(gaps))) / 2
    for i, ((ch, k), w) in enumerate(zip(items, widths, strict=True)):
        h = height * hscale[k]
        font = tf.digit_font if k == "d" else tf.hangul_font
        mask = tf.glyph(font, ch, c.px(w), c.px(h), rng, region=k == "r")
        y = top + (height - h) * (0.5 if k != "r" else rng.uniform(0.3, 0.7))
        y += rng.normal(0, height * 0.01)
        c.paint(mask, x, y, fg, tf.emboss)
        if boxes is not None:
            boxes.append(Box(c.px(x), c.px(y), mask.shape[1], mask.shape[0]))
        x += w + (gaps[i] if i < len(gaps) else 0)


def render_plate(
    spec: PlateSpec,
    rng: np.random.Generator,
    scale: float = 2.0,
    typefaces: str = "standard",
    boxes: list[Box] | None = None,
) -> np.ndarray:
    """A frontal plate, uint8 RGB, ``scale`` pixels per millimetre; the whole image is the plate.

    ``typefaces``: which fonts, and whether glyphs are bent (`_typeface`). ``boxes``: when given, each
    character's box (pixels) is appended to it in the order of ``spec.text``; collecting them draws
    nothing from ``rng``, so a plate is the same with or without.
    """
    size = STYLES[spec.style][1]
    bg, fg = _colours(spec.style, rng)
    c = _Canvas(size, scale, bg)
    if spec.style == "ev":  # EV plates fade from blue at the left towards lighter blue-white
        ramp = np.linspace(0.0, rng.uniform(0.2, 0.6), c.w, dtype=np.float32)[None, :, None]
        c.rgb[:] = c.rgb * (1 - ramp) + 245 * ramp
    tf = _typeface(rng, typefaces)
    W, H = size
    if rng.random() < 0.5:  # printed border line
        t = max(1, c.px(rng.uniform(1.0, 2.5)))
        inset = c.px(rng.uniform(2, 5))
        cv2.rectangle(c.rgb, (inset, inset), (c.w - inset, c.h - inset), fg, t, cv2.LINE_AA)
    lead = [(ch, "d") for ch in spec.lead]
    tail = [(ch, "d") for ch in spec.tail]
    han = [(spec.hangul, "h")]
    reg = [(ch, "r") for ch in spec.region]
    margin_r = rng.uniform(10, 22)
    if spec.two_line:
        top_h, bot_h = H * rng.uniform(0.24, 0.3), H * rng.uniform(0.46, 0.52)
        top_y = H * rng.uniform(0.06, 0.09)
        bot_y = H * 0.93 - bot_h + rng.normal(0, 1.5)
        half = W * rng.uniform(0.2, 0.3)
        top_scale = TOP_LINE_REGION_SCALE
        _row(c, tf, reg + lead, W / 2 - half, W / 2 + half, top_y, top_h, rng, fg, top_scale, boxes)
        x0, x1 = W * rng.uniform(0.04, 0.08), W * rng.uniform(0.92, 0.96)
        _row(c, tf, han + tail, x0, x1, bot_y, bot_h, rng, fg, boxes=boxes)
        for x in (W * rng.uniform(0.1, 0.16), W * rng.uniform(0.84, 0.9)):
            _bolt(c, rng, x, top_y + top_h / 2, rng.uniform(5, 9))
        return np.clip(c.rgb, 0, 255).astype(np.uint8)
    height = H * rng.uniform(0.68, 0.8)
    top = (H - height) / 2 + rng.normal(0, 1.5)
    left = rng.uniform(10, 22)
    if spec.style == "white8_flag":
        band = rng.uniform(34, 44)
        _flag_band(c, rng, band)
        left = band + rng.uniform(4, 10)
    elif spec.style == "ev":
        band = rng.uniform(40, 52)
        _ev_mark(c, rng, band)
        left = band + rng.uniform(4, 10)
    elif spec.style == "yellow_long":  # region stacked vertically at the left
        zone = rng.uniform(42, 56)
        ch_h = height * rng.uniform(0.42, 0.5)
        for i, ch in enumerate(spec.region):
            g = tf.glyph(tf.hangul_font, ch, c.px(zone * 0.7), c.px(ch_h), rng, region=True)
            c.paint(g, left, top + i * (height - ch_h), fg, tf.emboss)
            if boxes is not None:
                boxes.append(Box(c.px(left), c.px(top + i * (height - ch_h)), g.shape[1], g.shape[0]))
        left += zone
        reg = []
    _row(c, tf, reg + lead + han + tail, left, W - margin_r, top, height, rng, fg, boxes=boxes)
    if rng.random() < 0.85:  # two mounting bolts, at the ends or in the gaps of the text
        if rng.random() < 0.5:
            xs = (rng.uniform(6, 12), W - rng.uniform(6, 12))
        else:
            xs = (W * rng.uniform(0.25, 0.35), W * rng.uniform(0.65, 0.75))
        y = H * rng.uniform(0.45, 0.55)
        for x in xs:
            _bolt(c, rng, x, y, rng.uniform(5, 9))
    return np.clip(c.rgb, 0, 255).astype(np.uint8)
