"""Contact sheets of misreads (`edge.misread_sheet`): order, pages, stale pages, the tile's parts."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.engine import AreaRead, PlateRead
from edge.misread_sheet import (
    AREA_H,
    COLUMNS,
    CROP_H,
    ROWS,
    TILE_H,
    TILE_W,
    Misread,
    make_tile,
    write_pages,
)


def solid(confidence: float, order: int, bgr: tuple[int, int, int]) -> Misread:
    tile = np.zeros((TILE_H, TILE_W, 3), np.uint8)
    tile[:] = bgr
    return Misread(confidence, order, cv2.imencode(".png", tile)[1].tobytes())


def colour_at(page: np.ndarray, index: int) -> tuple[int, ...]:
    y, x = (index // COLUMNS) * (TILE_H + 6) + 5, (index % COLUMNS) * (TILE_W + 6) + 5
    return tuple(int(v) for v in page[y, x])


def test_surest_first_and_ties_in_manifest_order(tmp_path: Path) -> None:
    tiles = [solid(0.40, 1, (0, 0, 10)), solid(0.99, 2, (0, 0, 20)), solid(0.40, 0, (0, 0, 30))]
    (page,) = write_pages(tiles, tmp_path)
    img = cv2.imread(str(page))
    assert [colour_at(img, i)[2] for i in range(3)] == [20, 30, 10]


@pytest.mark.parametrize(("count", "pages"), [(0, 0), (1, 1), (COLUMNS * ROWS, 1), (COLUMNS * ROWS + 1, 2)])
def test_pages_hold_a_grid_each(tmp_path: Path, count: int, pages: int) -> None:
    paths = write_pages([solid(0.5, i, (0, 90, 0)) for i in range(count)], tmp_path)
    assert [p.name for p in paths] == [f"misreads-{k:02d}.png" for k in range(1, pages + 1)]
    if count:
        first = cv2.imread(str(paths[0]))
        rows = min(count, COLUMNS * ROWS) // COLUMNS + (min(count, COLUMNS * ROWS) % COLUMNS > 0)
        assert first.shape == (rows * (TILE_H + 6), COLUMNS * (TILE_W + 6), 3)


def test_earlier_pages_are_removed_and_nothing_else(tmp_path: Path) -> None:
    write_pages([solid(0.5, i, (0, 0, 0)) for i in range(2 * COLUMNS * ROWS)], tmp_path)
    (tmp_path / "notes.png").write_bytes(b"mine")
    assert [p.name for p in write_pages([solid(0.5, 0, (0, 0, 0))], tmp_path)] == ["misreads-01.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["misreads-01.png", "notes.png"]


def plate_read(quad: np.ndarray, reread: bool = False) -> PlateRead:
    area = AreaRead(quad, "12가3456", 0.97, tuple(zip("12가3456", [0.97] * 7, strict=True)), "single")
    return PlateRead(
        "12가3456", 0.97, True, "private", "white", quad, False, (area,), "12가3456", reread=reread
    )


def decoded(m: Misread) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(m.png, np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize(("confidence", "sure"), [(0.97, True), (0.95, True), (0.949, False), (0.0, False)])
def test_a_sure_misread_is_labelled_red(confidence: float, sure: bool) -> None:
    image = np.full((60, 200, 3), 200, np.uint8)
    quad = np.array([[20, 10], [180, 10], [180, 50], [20, 50]], np.float32)
    tile = decoded(make_tile(0, "a.png", "12가3456", "12가3458", confidence, image, plate_read(quad)))
    b, g, r = (int(v) for v in tile[TILE_H - 3, TILE_W - 3])
    assert (r > 150 and g < 60 and b < 60) == sure


def test_the_tile_shows_the_crop_the_plate_quad_and_the_readers_view() -> None:
    image = np.zeros((60, 200, 3), np.uint8)
    image[20:40, 60:140] = 255  # a white block where the plate is
    quad = np.array([[20, 10], [180, 10], [180, 50], [20, 50]], np.float32)
    tile = decoded(make_tile(0, "a.png", "12가3456", "12가3458", 0.5, image, plate_read(quad)))
    crop = tile[:CROP_H]
    green = (crop[:, :, 1] > 150) & (crop[:, :, 0] < 140) & (crop[:, :, 2] < 40)
    assert green.sum() > 100  # the located plate's outline
    assert (crop.min(axis=2) > 240).sum() > 1000  # the white block, scaled up into the box
    view = tile[CROP_H + 6 : CROP_H + 6 + AREA_H, :192]
    assert view.max() > 240 and view.min() < 20  # the area as the reader saw it: block and background


def test_an_unreadable_file_still_gets_a_tile() -> None:
    tile = decoded(make_tile(3, "gone.png", "12가3456", "", 0.0, None, None, error="cannot read"))
    assert tile.shape == (TILE_H, TILE_W, 3)


def test_a_scene_rows_box_is_what_the_tile_shows() -> None:
    image = np.zeros((400, 800, 3), np.uint8)
    image[200:240, 500:700] = 255  # the plate, in a corner of the scene
    quad = np.array([[500, 200], [700, 200], [700, 240], [500, 240]], np.float32)
    box = (480, 190, 720, 250)
    tile = decoded(make_tile(0, "s.png", "12가3456", "1", 0.1, image, plate_read(quad), box=box))
    crop = tile[:CROP_H]
    # the box is 240 x 60: it fills the tile's width, and the plate fills most of it
    assert (crop.min(axis=2) > 240).sum() > 0.5 * TILE_W * (TILE_W * 60 / 240) * 0.6
