"""Fonts and glyph masks for the plate synthesizer.

Real Korean plates use a dedicated typeface we cannot obtain: tall, narrow, heavy, rounded digits
(about twice as high as wide) and a compact Hangul. We approximate it by mixing the freely licensed
Debian fonts below and by stretching every glyph's ink box to fill its slot on the plate, which is what
the plate standard does (fixed slot sizes), then varying stroke weight. No single font dominates, so the
reader learns the structure of a glyph (where the ㅓ/ㅏ stroke sits, how 3 differs from 5) rather than
one font's habits.

Fonts (Debian packages, free licences): fonts-nanum (OFL), fonts-noto-cjk (OFL), fonts-unfonts-core
(GPL-2 with font exception), fonts-baekmuk (Baekmuk licence), fonts-dejavu (Bitstream Vera),
fonts-liberation (OFL), fonts-roboto (Apache-2.0); for the "built-many" training typefaces only,
fonts-woowa-bm (OFL), fonts-unfonts-extra (GPL-2), fonts-lexi-gulim (GPL-2), fonts-naver-d2coding (OFL),
fonts-alee (Artistic), fonts-urw-base35 (AGPL-3 with font exception), fonts-open-sans (Apache-2.0),
fonts-b612 (OFL, EPL-2.0) and fonts-league-spartan (OFL), per their Debian copyright files. No font is
shipped: they only draw training plates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

_FONT_ROOT = Path("/usr/share/fonts")

# (relative path, ttc face index). Bold/heavy faces only: plate strokes are heavy.
HANGUL_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/nanum/NanumGothicBold.ttf", 0),
    ("truetype/nanum/NanumGothicExtraBold.ttf", 0),
    ("truetype/nanum/NanumSquareB.ttf", 0),
    ("truetype/nanum/NanumSquareEB.ttf", 0),
    ("truetype/nanum/NanumSquareRoundB.ttf", 0),
    ("truetype/nanum/NanumSquareRoundEB.ttf", 0),
    ("truetype/nanum/NanumBarunGothicBold.ttf", 0),
    ("opentype/noto/NotoSansCJK-Bold.ttc", 1),  # face 1 = KR
    ("truetype/unfonts-core/UnDotumBold.ttf", 0),
    ("truetype/unfonts-core/UnGraphicBold.ttf", 0),
    ("truetype/baekmuk/dotum.ttf", 0),
    ("truetype/baekmuk/gulim.ttf", 0),
)
DIGIT_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 0),
    ("truetype/liberation/LiberationSansNarrow-Bold.ttf", 0),
    ("truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", 0),
    ("truetype/roboto/unhinted/RobotoCondensed-Medium.ttf", 0),
    ("truetype/nanum/NanumGothicBold.ttf", 0),
    ("truetype/nanum/NanumSquareB.ttf", 0),
    ("truetype/nanum/NanumSquareRoundB.ttf", 0),
    ("opentype/noto/NotoSansCJK-Bold.ttc", 1),
    ("truetype/unfonts-core/UnDotumBold.ttf", 0),
    ("truetype/nanum/NanumBarunGothicBold.ttf", 0),
)
# Training-only additions ("varied" typefaces): near relatives and lighter weights of the fonts above
# (the stroke weight is drawn anyway). Never used by the seeded test sets, so those stay as drawn.
VARIED_HANGUL_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/nanum/NanumSquare_acB.ttf", 0),
    ("truetype/nanum/NanumSquare_acEB.ttf", 0),
    ("truetype/nanum/NanumGothicCodingBold.ttf", 0),
    ("truetype/nanum/NanumGothic.ttf", 0),
    ("truetype/nanum/NanumSquareR.ttf", 0),
    ("truetype/nanum/NanumSquareRoundR.ttf", 0),
    ("truetype/nanum/NanumBarunGothic.ttf", 0),
    ("opentype/noto/NotoSansCJK-Regular.ttc", 1),
    ("truetype/unfonts-core/UnDotum.ttf", 0),
    ("truetype/unfonts-core/UnGraphic.ttf", 0),
)
VARIED_DIGIT_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/nanum/NanumSquare_acEB.ttf", 0),
    ("truetype/nanum/NanumSquareRoundEB.ttf", 0),
    ("truetype/nanum/NanumGothicExtraBold.ttf", 0),
    ("truetype/unfonts-core/UnGraphicBold.ttf", 0),
    ("truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", 0),
)
# Held out from every training set: the real plate typeface is none of our fonts, so a set drawn in
# typefaces the reader never saw ("unseen") is the synthetic stand-in for how well it reads an unknown
# one. Chosen for plate-like shapes, not for quirks: no coding font's dotted zero.
UNSEEN_HANGUL_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/baekmuk/hline.ttf", 0),
    ("truetype/unfonts-core/UnDinaruBold.ttf", 0),
    ("truetype/nanum/NanumBarunpenB.ttf", 0),
)
UNSEEN_DIGIT_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/roboto/unhinted/RobotoTTF/Roboto-Black.ttf", 0),
    ("truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf", 0),
    ("truetype/baekmuk/hline.ttf", 0),
    ("truetype/unfonts-core/UnDinaruBold.ttf", 0),
    ("truetype/liberation/LiberationSans-Bold.ttf", 0),
    ("truetype/dejavu/DejaVuSans-Bold.ttf", 0),
)
# Training-only families ("built-many"): most other Korean gothics Debian packages, and condensed Latin
# digits. Each typeface is learnt as itself (HISTORY: a held-out Hangul family), so the only hope of
# reading the plate's own typeface, which none of these is, is many families. Chosen to look like
# lettering: the handwritten, brush and serif faces, the eco font's holes and the coding fonts' dotted
# zeros are left out. None is a face of the unseen set, nor a regular-width Latin face like its digits,
# so that set still measures faces never seen.
MORE_HANGUL_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/woowa-bm/BMDOHYEON_ttf.ttf", 0),
    ("truetype/woowa-bm/BMEULJIROTTF.ttf", 0),
    ("truetype/woowa-bm/BMHANNAPro.ttf", 0),
    ("truetype/woowa-bm/BMHANNA_11yrs_ttf.ttf", 0),
    ("truetype/woowa-bm/BMJUA_ttf.ttf", 0),
    ("truetype/unfonts-extra/UnYetgul.ttf", 0),
    ("truetype/unfonts-extra/UnJamoDotum.ttf", 0),
    ("truetype/unfonts-extra/UnJamoSora.ttf", 0),
    ("truetype/lexi/LexiGulim.ttf", 0),
    ("truetype/naver-d2coding/D2Coding-Ver1.3.2-20180524-all.ttc", 1),  # face 1 = bold
    ("truetype/alee/Bangwool.ttf", 0),
)
MORE_DIGIT_FONTS: tuple[tuple[str, int], ...] = (
    ("opentype/urw-base35/NimbusSansNarrow-Bold.otf", 0),
    ("truetype/open-sans/OpenSans-CondBold.ttf", 0),
    ("opentype/b612/B612-Bold.otf", 0),
    ("opentype/league-spartan/LeagueSpartan-Bold.otf", 0),
    ("truetype/woowa-bm/BMDOHYEON_ttf.ttf", 0),
    ("truetype/woowa-bm/BMEULJIROTTF.ttf", 0),
    ("truetype/woowa-bm/BMHANNAPro.ttf", 0),
    ("truetype/woowa-bm/BMJUA_ttf.ttf", 0),
    ("truetype/unfonts-extra/UnYetgul.ttf", 0),
    ("truetype/lexi/LexiGulim.ttf", 0),
)
LATIN_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("truetype/liberation/LiberationSans-Bold.ttf", 0),
)
#: The typeface sets a plate may be drawn in: name -> (Hangul fonts, digit fonts). "standard" is what
#: the seeded sets are drawn in; "varied" (training only) adds faces, and `plates` bends its glyphs.
TYPEFACES: dict[str, tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]] = {
    "standard": (HANGUL_FONTS, DIGIT_FONTS),
    "varied": (HANGUL_FONTS + VARIED_HANGUL_FONTS, DIGIT_FONTS + VARIED_DIGIT_FONTS),
    "unseen": (UNSEEN_HANGUL_FONTS, UNSEEN_DIGIT_FONTS),
    "built": (HANGUL_FONTS, DIGIT_FONTS),  # and Hangul built from strokes: plates.BUILT_HANGUL_SHARE
    "built-letters": (HANGUL_FONTS, DIGIT_FONTS),  # the same, region names kept in the fonts
    "built-hieut": (HANGUL_FONTS, DIGIT_FONTS),  # as built-letters, ㅎ in more shapes (hangul_strokes)
    "built-digits": (HANGUL_FONTS, DIGIT_FONTS),  # as built-letters, and digits built (digit_strokes)
    "built-all": (HANGUL_FONTS, DIGIT_FONTS),  # as built-digits, region names built too (as in "built")
    "built-many": (HANGUL_FONTS + MORE_HANGUL_FONTS, DIGIT_FONTS + MORE_DIGIT_FONTS),  # as built-digits
}

_RENDER_PX = 160  # glyph masks are rendered once at this size and scaled down into slots


@dataclass(frozen=True)
class FontRef:
    path: str
    index: int


def available(fonts: tuple[tuple[str, int], ...]) -> list[FontRef]:
    """The fonts of a list that are installed (the synthesizer needs at least one of each class)."""
    found = [FontRef(str(_FONT_ROOT / p), i) for p, i in fonts if (_FONT_ROOT / p).exists()]
    if not found:
        raise RuntimeError(
            "no plate fonts installed: apt-get install fonts-nanum fonts-noto-cjk fonts-unfonts-core "
            "fonts-dejavu-core fonts-liberation fonts-roboto-unhinted"
        )
    return found


@functools.lru_cache(maxsize=64)
def _font(ref: FontRef, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(ref.path, size=size, index=ref.index)


@functools.lru_cache(maxsize=8192)
def glyph_mask(ref: FontRef, char: str) -> np.ndarray:
    """The ink of one character, cropped to its bounding box: float32 in [0, 1]."""
    font = _font(ref, _RENDER_PX)
    canvas = Image.new("L", (_RENDER_PX * 2, _RENDER_PX * 2), 0)
    ImageDraw.Draw(canvas).text((_RENDER_PX // 2, _RENDER_PX // 3), char, font=font, fill=255)
    arr = np.asarray(canvas)
    ys, xs = np.nonzero(arr > 16)
    if len(xs) == 0:
        raise ValueError(f"font {ref.path} has no glyph for {char!r}")
    crop = arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return crop.astype(np.float32) / 255.0


def fit_glyph(mask: np.ndarray, w: int, h: int, weight: float) -> np.ndarray:
    """Stretch a glyph's ink box to a ``w`` x ``h`` slot and thicken (weight > 0) or thin it.

    Weight is applied after scaling, in slot pixels, so a heavy stroke stays heavy at any size.
    """
    w, h = max(w, 2), max(h, 2)
    out = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA if w < mask.shape[1] else cv2.INTER_LINEAR)
    k = round(abs(weight) * h / 40.0)
    if k >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        out = cv2.dilate(out, kernel) if weight > 0 else cv2.erode(out, kernel)
    return np.clip(out, 0.0, 1.0)


def text_mask(ref: FontRef, text: str, height: int) -> np.ndarray:
    """A run of ordinary text (dealer frame text, stickers): natural widths, one line."""
    font = _font(ref, max(height, 6))
    left, top, right, bottom = font.getbbox(text)
    canvas = Image.new("L", (max(right - left, 1) + 4, max(bottom - top, 1) + 4), 0)
    ImageDraw.Draw(canvas).text((2 - left, 2 - top), text, font=font, fill=255)
    return np.asarray(canvas).astype(np.float32) / 255.0


def warp_glyph(mask: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A glyph's ink bent by a smooth random field, its corners sometimes rounded.

    Teaches the reader the structure of a glyph rather than one font's outline: the plate typeface is
    none of ours. The field is coarse (a 4x4 grid of offsets, cubic-interpolated) and its amplitude a few
    percent of the glyph's size at ``strength`` 1, so strokes bend and shift but never cross: where
    the short stroke of ㅓ or ㅏ sits, or whether a 3 is open, cannot change. Costs about 0.1 ms.
    """
    h, w = mask.shape
    size = float(max(h, w))
    pad = max(2, int(0.06 * size))
    src = np.pad(mask, pad)
    hh, ww = src.shape
    amp = strength * 0.022 * size
    grid = rng.normal(0.0, amp, (2, 4, 4)).astype(np.float32)
    dx = cv2.resize(grid[0], (ww, hh), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(grid[1], (ww, hh), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(ww, dtype=np.float32), np.arange(hh, dtype=np.float32))
    out = cv2.remap(src, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0.0)
    if rng.random() < 0.35:  # rounded: blur, then cut at a random level (also thickens or thins a bit)
        sigma = size * rng.uniform(0.015, 0.04)
        out = cv2.GaussianBlur(out, (0, 0), sigma)
        level = rng.uniform(0.35, 0.6)
        out = np.clip((out - level) * 10.0 + 0.5, 0.0, 1.0)
    ys_, xs_ = np.nonzero(out > 0.06)
    if len(xs_) == 0:  # cannot happen at these amplitudes; keep the glyph rather than lose the label
        return mask
    return np.ascontiguousarray(out[ys_.min() : ys_.max() + 1, xs_.min() : xs_.max() + 1])
