"""Drawing an analysis onto its image (`plate-edge analyze --draw`): plate quads, text-line quads, the text.

Pillow, not OpenCV: OpenCV's Hershey fonts have no Hangul. The font is the first Hangul TrueType font
found in `FONT_CANDIDATES` (Debian's fonts-nanum, fonts-noto-cjk, fonts-unfonts-core, fonts-baekmuk);
without any, Pillow's built-in font draws the digits and shows the Hangul as boxes, with one warning,
rather than failing the command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT_CANDIDATES: tuple[Path, ...] = tuple(
    Path(p)
    for p in (
        "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/unfonts-core/UnDotumBold.ttf",
        "/usr/share/fonts/truetype/baekmuk/dotum.ttf",
    )
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

PLATE_COLOUR = (0, 208, 90)
OTHER_PLATE_COLOUR = (0, 160, 255)
AREA_COLOUR = (255, 212, 0)


@cache
def hangul_font_path(candidates: Sequence[Path] = FONT_CANDIDATES) -> Path | None:
    """The first existing font file of ``candidates`` (None when there is none; warns once)."""
    for path in candidates:
        if path.is_file():
            return path
    log.warning("no Hangul font found (install fonts-nanum); plate text is drawn without Hangul glyphs")
    return None


def load_font(size: int, path: Path | None) -> Font:
    """A TrueType font at ``size`` px, or Pillow's built-in one when ``path`` is None or unloadable."""
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError as e:
            log.warning("cannot load font %s: %s", path, e)
    return ImageFont.load_default(size)


def _points(quad: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in quad]


def draw_analysis(
    image_bgr: np.ndarray, analysis: dict[str, Any], font_path: Path | None = None
) -> Image.Image:
    """An RGB copy of ``image_bgr`` with the analysis's plates drawn (first plate green, others blue).

    ``analysis`` is the analysis JSON of this very image (boxes in its pixels). ``font_path`` overrides
    the font search.
    """
    rgb = Image.fromarray(np.ascontiguousarray(image_bgr[:, :, ::-1]))
    draw = ImageDraw.Draw(rgb)
    w, h = rgb.size
    unit = max(2, round(max(w, h) / 400))
    font = load_font(max(14, 8 * unit), font_path or hangul_font_path())
    for i, plate in enumerate(analysis.get("plates", [])):
        for area in plate.get("areas", []):
            draw.polygon(_points(area["box"]), outline=AREA_COLOUR, width=max(1, unit // 2))
        colour = PLATE_COLOUR if i == 0 else OTHER_PLATE_COLOUR
        box = _points(plate["box"])
        draw.polygon(box, outline=colour, width=unit)
        label = f"{plate['text']} {plate['confidence'] * 100:.0f}%"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tw, th = right - left + 2 * unit, bottom - top + 2 * unit
        x = min(max(0.0, min(p[0] for p in box)), max(0.0, w - tw))
        y_top = min(p[1] for p in box) - th - unit
        y = y_top if y_top >= 0 else min(h - th, max(p[1] for p in box) + unit)
        draw.rectangle((x, y, x + tw, y + th), fill=(0, 0, 0))
        draw.text((x + unit - left, y + unit - top), label, font=font, fill=(255, 255, 255))
    return rgb


def save_drawing(
    image_bgr: np.ndarray, analysis: dict[str, Any], out: Path, font_path: Path | None = None
) -> Path:
    """Draw and save (format from the suffix; PNG when there is none). Creates the parent folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    drawn = draw_analysis(image_bgr, analysis, font_path)
    drawn.save(out, format=None if out.suffix else "PNG")
    return out
