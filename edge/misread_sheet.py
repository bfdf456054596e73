"""Contact sheets of an eval's misreads (`plate-edge eval --sheet DIR`): what to look at before
believing, or acting on, an exact-match figure.

A figure says how many plates were misread, not why, and the why decides the next step: a locator
quad that cut a character off, a line the reader saw clearly and read wrong, a line no person could
read either. Each tile shows the crop as the engine got it with the plate quad the locator found
(green) and its text areas (yellow); below it each area as the reader saw it (reader resolution, shown
1.5 times); then the truth, the read and its confidence. This is how the synthetic test set's misreads
were audited by eye (README, Models).

Tiles are ordered surest first: a misread reported with high confidence is the one a barrier acts on,
so it leads, and its label is red at 0.95 and above. Ties keep the manifest's order.

Trade-offs: the areas shown are the first cut through the locator's quad; a plate re-read through
other framings (`edge.reread`) may have kept a read from another framing, and its tile says "re-read".
Tiles are kept PNG-compressed until the pages are written (about 40 KB each), so a large real set's
misreads do not sit in memory as pixels.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from edge.areas import cut_areas, to_gray
from edge.draw import AREA_COLOUR, PLATE_COLOUR, Font, hangul_font_path, load_font
from edge.engine import PlateRead
from edge.misread_parts import SURE

TILE_W = 420
CROP_H = 150
AREA_W, AREA_H = 192, 48  # the reader's 128 x 32, shown 1.5 times
LABEL_H = 46
TILE_H = CROP_H + AREA_H + LABEL_H + 12
COLUMNS, ROWS = 3, 6
PAGE_NAME = "misreads-{:02d}.png"


@dataclass(frozen=True)
class Misread:
    """One tile of the sheet, PNG-encoded, with what the sheet orders it by."""

    confidence: float
    order: int
    png: bytes


def make_tile(
    order: int,
    name: str,
    truth: str,
    read: str,
    confidence: float,
    image: np.ndarray | None,
    plate: PlateRead | None,
    error: str = "",
    box: tuple[int, int, int, int] | None = None,
    font_path: Path | None = None,
) -> Misread:
    """The tile of one misread row. ``image`` is the image the engine read (BGR; None when the file
    could not be read), ``box`` the part of it that was read (a scene row's box; None: all of it),
    ``plate`` its read (None when the engine raised; ``error`` says why)."""
    tile = Image.new("RGB", (TILE_W, TILE_H), (236, 236, 236))
    fonts = _fonts(font_path or hangul_font_path())
    if image is not None:
        x0, y0, x1, y1 = box or (0, 0, image.shape[1], image.shape[0])
        tile.paste(_crop_view(image[y0:y1, x0:x1], plate, (x0, y0)), (0, 0))
        if plate is not None:
            for i, cut in enumerate(cut_areas(to_gray(image), plate.quad, plate.two_line)[:2]):
                view = cv2.resize(cut.pixels, (AREA_W, AREA_H), interpolation=cv2.INTER_NEAREST)
                tile.paste(Image.fromarray(view).convert("RGB"), (i * (AREA_W + 8), CROP_H + 6))
    _label(ImageDraw.Draw(tile), name, truth, read, confidence, plate, error, fonts)
    buf = cv2.imencode(".png", np.asarray(tile)[:, :, ::-1])[1]
    return Misread(confidence, order, buf.tobytes())


@functools.cache
def _fonts(path: Path | None) -> tuple[Font, Font]:
    """The label's two fonts, loaded once per run rather than once per tile."""
    return load_font(17, path), load_font(13, path)


def _crop_view(image: np.ndarray, plate: PlateRead | None, origin: tuple[int, int]) -> Image.Image:
    """The crop scaled into the tile's top box, the located plate and its areas drawn on it (their
    quads are in the full image's pixels, ``origin`` is where the crop starts in it)."""
    h, w = image.shape[:2]
    scale = min(TILE_W / w, CROP_H / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    rgb = image[:, :, ::-1] if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    view = Image.fromarray(np.ascontiguousarray(rgb)).resize(size, Image.Resampling.BILINEAR)
    if plate is not None:
        draw = ImageDraw.Draw(view)

        def points(quad: np.ndarray) -> list[tuple[float, float]]:
            return [((float(x) - origin[0]) * scale, (float(y) - origin[1]) * scale) for x, y in quad]

        for area in plate.areas:
            draw.polygon(points(area.quad), outline=AREA_COLOUR)
        draw.polygon(points(plate.quad), outline=PLATE_COLOUR, width=2)
    box = Image.new("RGB", (TILE_W, CROP_H), (90, 90, 90))
    box.paste(view, ((TILE_W - size[0]) // 2, (CROP_H - size[1]) // 2))
    return box


def _label(
    draw: ImageDraw.ImageDraw,
    name: str,
    truth: str,
    read: str,
    confidence: float,
    plate: PlateRead | None,
    error: str,
    fonts: tuple[Font, Font],
) -> None:
    top = CROP_H + AREA_H + 10
    sure = confidence >= SURE
    draw.rectangle((0, top, TILE_W, TILE_H), fill=(170, 20, 20) if sure else (40, 40, 40))
    draw.text((6, top + 2), f"{truth}  →  {read or '(nothing)'}", font=fonts[0], fill=(255, 255, 255))
    detail = error or f"{confidence:.3f}" + ("  re-read" if plate is not None and plate.reread else "")
    draw.text((6, top + 25), f"{detail}  ·  {name}"[:70], font=fonts[1], fill=(220, 220, 220))


def _decode(png: bytes) -> np.ndarray:
    tile = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if tile is None:  # only `make_tile`'s own PNGs come here
        raise ValueError("a misread tile is not a PNG")
    return np.asarray(tile, np.uint8)


def write_pages(misreads: Sequence[Misread], folder: Path) -> list[Path]:
    """Write the tiles surest first, ``COLUMNS x ROWS`` to a page, as ``folder/misreads-NN.png``.

    The folder's earlier pages are removed first (only files named like ours), so a sheet never mixes
    two runs; with no misreads no page is written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("misreads-*.png"):
        old.unlink()
    ordered = sorted(misreads, key=lambda m: (-m.confidence, m.order))
    per_page = COLUMNS * ROWS
    paths: list[Path] = []
    for start in range(0, len(ordered), per_page):
        chunk = ordered[start : start + per_page]
        rows = (len(chunk) + COLUMNS - 1) // COLUMNS
        page = np.full((rows * (TILE_H + 6), COLUMNS * (TILE_W + 6), 3), 255, np.uint8)
        for i, m in enumerate(chunk):
            y, x = (i // COLUMNS) * (TILE_H + 6), (i % COLUMNS) * (TILE_W + 6)
            page[y : y + TILE_H, x : x + TILE_W] = _decode(m.png)
        path = folder / PAGE_NAME.format(len(paths) + 1)
        cv2.imwrite(str(path), page)
        paths.append(path)
    return paths
