"""Fonts and glyph masks for the plate synthesizer.

Real Korean plates use a dedicated typeface we cannot obtain: tall, narrow, heavy, rounded digits
(about twice as high as wide) and a compact Hangul. We approximate it by mixing the freely licensed
Debian fonts below and by stretching every glyph's ink box to fill its slot on the plate, which is what
the plate standard does (fixed slot sizes), then varying stroke weight. No single font dominates, so the
reader learns the structure of a glyph (where the ㅓ/ㅏ stroke sits, how 3 differs from 5) rather than
one font's habits.

Fonts (Debian packages, free licences): fonts-nanum (OFL), fonts-noto-cjk (OFL), fonts-unfonts-core
(GPL-2 with font exception), fonts-baekmuk (Baekmuk licence), fonts-dejavu (Bitstream Vera),
fonts-liberation (OFL), fonts-roboto (Apache-2.0).
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
LATIN_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("truetype/liberation/LiberationSans-Bold.ttf", 0),
)

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
