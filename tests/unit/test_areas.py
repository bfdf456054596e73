"""Plate geometry: text areas inside a plate quad (`edge.areas`) and corner ordering (`edge.locator`)."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

import edge.areas
from edge.areas import (
    AREA_SPANS,
    READ_MARGIN,
    READER_H,
    READER_W,
    area_quad,
    cut_areas,
    roles_for,
    text_height,
    to_gray,
    unit_to_image,
    warp_area,
)
from edge.locator import REFINE_PAD, order_quad, refine_window
from edge.plate import LineRole

UNIT = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
RECT = np.array([[10, 20], [210, 20], [210, 120], [10, 120]], np.float32)  # 200 x 100, axis-aligned
PARALLELOGRAM = np.array([[0, 0], [200, 20], [220, 120], [20, 100]], np.float32)  # an affine plate
TRAPEZOID = np.array([[30, 40], [330, 10], [330, 150], [30, 110]], np.float32)  # right side nearer


def corners(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


# --- layout --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("two_line", "roles"),
    [(False, (LineRole.SINGLE,)), (True, (LineRole.TOP, LineRole.BOTTOM))],
)
def test_roles_for(two_line: bool, roles: tuple[LineRole, ...]) -> None:
    assert roles_for(two_line) == roles


def test_area_spans() -> None:
    assert AREA_SPANS[LineRole.SINGLE] == (0.0, 1.0)
    top, bottom = AREA_SPANS[LineRole.TOP], AREA_SPANS[LineRole.BOTTOM]
    assert top[0] == 0.0 and bottom[1] == 1.0
    assert bottom[0] < top[1]  # the two lines overlap: a slightly wrong quad clips no character
    assert (READER_H, READER_W) == (32, 128)


# --- area quads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("quad", [RECT, PARALLELOGRAM, TRAPEZOID])
def test_unit_to_image_maps_the_unit_square_onto_the_quad(quad: np.ndarray) -> None:
    mapped = cv2.perspectiveTransform(UNIT[None], unit_to_image(quad))[0]
    np.testing.assert_allclose(mapped, quad, atol=1e-3)


@pytest.mark.parametrize(
    ("quad", "role", "expected"),
    [
        (RECT, LineRole.SINGLE, RECT),
        (RECT, LineRole.TOP, corners(10, 20, 210, 20 + 0.42 * 100)),
        (RECT, LineRole.BOTTOM, corners(10, 20 + 0.36 * 100, 210, 120)),
        (corners(0, 0, 335, 170), LineRole.TOP, corners(0, 0, 335, 0.42 * 170)),
        (corners(0, 0, 335, 170), LineRole.BOTTOM, corners(0, 0.36 * 170, 335, 170)),
        (PARALLELOGRAM, LineRole.SINGLE, PARALLELOGRAM),
        # an affine plate: the line boundaries are linear interpolations along the sides
        (PARALLELOGRAM, LineRole.TOP, np.array([[0, 0], [200, 20], [208.4, 62], [8.4, 42]], np.float32)),
        (
            PARALLELOGRAM,
            LineRole.BOTTOM,
            np.array([[7.2, 36], [207.2, 56], [220, 120], [20, 100]], np.float32),
        ),
    ],
)
def test_area_quad(quad: np.ndarray, role: LineRole, expected: np.ndarray) -> None:
    got = area_quad(quad, role)
    assert got.shape == (4, 2)
    np.testing.assert_allclose(got, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("quad", "role", "margin", "expected"),
    [
        (RECT, LineRole.SINGLE, 0.1, corners(-10, 20, 230, 120)),
        (RECT, LineRole.TOP, 0.05, corners(0, 20, 220, 20 + 0.42 * 100)),
        (corners(0, 0, 335, 170), LineRole.BOTTOM, 0.04, corners(-13.4, 0.36 * 170, 348.4, 170)),
        # an affine plate: the widened ends continue along its top and bottom edges
        (
            PARALLELOGRAM,
            LineRole.SINGLE,
            0.1,
            np.array([[-20, -2], [220, 22], [240, 122], [0, 98]], np.float32),
        ),
    ],
)
def test_area_quad_with_margin_reaches_beyond_the_plate_ends(
    quad: np.ndarray, role: LineRole, margin: float, expected: np.ndarray
) -> None:
    np.testing.assert_allclose(area_quad(quad, role, margin), expected, atol=1e-3)


@pytest.mark.parametrize("role", list(LineRole))
def test_area_quad_under_perspective(role: LineRole) -> None:
    """Under perspective the corners stay on the plate's sides, in order, spanning the whole width."""
    got = area_quad(TRAPEZOID, role)
    v0, v1 = AREA_SPANS[role]
    left, right = (TRAPEZOID[0], TRAPEZOID[3]), (TRAPEZOID[1], TRAPEZOID[2])
    for point, (a, b) in ((got[0], left), (got[3], left), (got[1], right), (got[2], right)):
        cross = (b - a)[0] * (point - a)[1] - (b - a)[1] * (point - a)[0]
        assert cross == pytest.approx(0.0, abs=1e-2)  # on the side
        assert min(a[1], b[1]) - 1e-3 <= point[1] <= max(a[1], b[1]) + 1e-3
    assert got[0][1] < got[3][1] and got[1][1] < got[2][1]
    if v0 == 0.0:
        np.testing.assert_allclose(got[:2], TRAPEZOID[:2], atol=1e-3)
    if v1 == 1.0:
        np.testing.assert_allclose(got[2:], TRAPEZOID[2:], atol=1e-3)


def test_two_line_areas_overlap_under_perspective() -> None:
    top, bottom = area_quad(TRAPEZOID, LineRole.TOP), area_quad(TRAPEZOID, LineRole.BOTTOM)
    assert bottom[0][1] < top[3][1] and bottom[1][1] < top[2][1]


# --- pixels --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bgr", "gray"),
    [((255, 0, 0), 29), ((0, 255, 0), 150), ((0, 0, 255), 76), ((255, 255, 255), 255), ((0, 0, 0), 0)],
)
def test_to_gray_colour(bgr: tuple[int, int, int], gray: int) -> None:
    image = np.zeros((4, 6, 3), np.uint8)
    image[:] = bgr
    out = to_gray(image)
    assert out.shape == (4, 6) and out.dtype == np.uint8
    assert (out == gray).all()


def test_to_gray_passes_gray_through() -> None:
    image = np.arange(24, dtype=np.uint8).reshape(4, 6)
    assert to_gray(image) is image


@pytest.mark.parametrize(("x0", "y0"), [(0, 0), (37, 50), (172, 168)])
def test_warp_area_at_reader_size_is_a_crop(x0: int, y0: int) -> None:
    gray = np.random.default_rng(0).integers(0, 256, (200, 300), dtype=np.uint8)
    out = warp_area(gray, corners(x0, y0, x0 + READER_W, y0 + READER_H))
    assert out.shape == (READER_H, READER_W) and out.dtype == np.uint8
    crop = gray[y0 : y0 + READER_H, x0 : x0 + READER_W].astype(int)
    assert np.abs(out.astype(int) - crop).max() <= 1


def test_warp_area_maps_a_known_rectangle_to_the_reader_input() -> None:
    """A 256 x 64 plate with a mark in its lower second quarter, on a dark background, halved."""
    x0, y0 = 40, 60
    gray = np.full((200, 360), 30, np.uint8)
    gray[y0 : y0 + 64, x0 : x0 + 256] = 120  # the plate
    gray[y0 + 32 : y0 + 64, x0 + 64 : x0 + 128] = 250  # u in [0.25, 0.5), v in [0.5, 1)
    out = warp_area(gray, corners(x0, y0, x0 + 256, y0 + 64))
    expected = np.full((READER_H, READER_W), 120, np.uint8)
    expected[16:32, 32:64] = 250
    assert np.abs(out.astype(int) - expected).max() <= 1  # no background anywhere: the plate fills it


def test_warp_area_undoes_a_perspective_view() -> None:
    """Project a reader-sized pattern into an image through a homography; warp_area brings it back."""
    g = np.random.default_rng(1)
    pattern = cv2.resize(
        g.integers(0, 256, (READER_H // 8, READER_W // 8)).astype(np.uint8),
        (READER_W, READER_H),
        interpolation=cv2.INTER_NEAREST,
    )
    quad = np.array([[60, 80], [470, 40], [480, 200], [50, 190]], np.float32)
    src = corners(0, 0, READER_W, READER_H)
    image = cv2.warpPerspective(
        pattern, cv2.getPerspectiveTransform(src, quad), (560, 260), flags=cv2.INTER_NEAREST
    )
    out = warp_area(image, quad)
    diff = np.abs(out.astype(int) - pattern.astype(int))
    assert np.median(diff) == 0
    assert diff.mean() < 8  # only the block edges are resampled


def _bilinear_only(gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
    dst = corners(0, 0, READER_W, READER_H)
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    return cv2.warpPerspective(
        gray, m, (READER_W, READER_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


@pytest.mark.parametrize("scale", [1.0, 1.5, 1.99])
def test_an_area_up_to_twice_the_input_is_warped_bilinearly(scale: float) -> None:
    gray = np.random.default_rng(3).integers(0, 256, (200, 400), dtype=np.uint8)
    quad = np.array(
        [[10, 12], [10 + 128 * scale, 18], [8 + 128 * scale, 12 + 32 * scale], [12, 10 + 32 * scale]]
    )
    assert np.array_equal(warp_area(gray, quad), _bilinear_only(gray, quad))


@pytest.mark.parametrize("scale", [3, 6, 12])
def test_a_large_noisy_area_is_averaged_not_sampled(scale: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sensor noise on a large crop: averaged down to the reader's size it fades (the mean of about
    ``scale`` squared pixels); sampled one pixel in ``scale``, it would reach the reader at full strength.
    The faded noise is a flat area, which the contrast lift would stretch again: off here, to see the
    averaging alone."""
    monkeypatch.setattr(edge.areas, "AREA_MIN_SPREAD", 0.0)
    h, w = 32 * scale + 20, 128 * scale + 20
    noise = np.random.default_rng(5).integers(0, 256, (h, w)).astype(np.uint8)  # std about 74
    quad = corners(10, 10, 10 + 128 * scale, 10 + 32 * scale)
    out = warp_area(noise, quad).astype(float)
    assert abs(out.mean() - 127.5) < 3
    assert out.std() < 74 / scale * 1.2
    assert _bilinear_only(noise, quad).std() > 60  # the same view without averaging


@pytest.mark.parametrize("scale", [3, 8])
def test_a_large_area_shows_what_a_small_one_shows(scale: int) -> None:
    """A blocky pattern drawn ``scale`` times larger and seen through warp_area is the pattern at the
    reader's size. The quad puts each reader pixel's sample point at the centre of the ``scale`` x
    ``scale`` source pixels that draw it."""
    pattern = cv2.resize(
        np.random.default_rng(4).integers(0, 256, (READER_H // 8, READER_W // 8)).astype(np.uint8),
        (READER_W, READER_H),
        interpolation=cv2.INTER_NEAREST,
    )
    big = cv2.resize(pattern, (READER_W * scale, READER_H * scale), interpolation=cv2.INTER_NEAREST)
    image = cv2.copyMakeBorder(big, 30, 30, 40, 40, cv2.BORDER_REPLICATE)
    c = (scale - 1) / 2
    out = warp_area(image, corners(40 + c, 30 + c, 40 + c + READER_W * scale, 30 + c + READER_H * scale))
    diff = np.abs(out.astype(int) - pattern.astype(int))
    # The low-pass softens each block edge over the reader pixel on either side of it; elsewhere every
    # pixel is its block's value.
    rows, cols = np.indices(diff.shape)
    near_edge = np.isin(rows % 8, (0, 7)) | np.isin(cols % 8, (0, 7))
    assert diff[~near_edge].max() <= 1
    assert diff.mean() < 8


def test_warp_area_replicates_the_border() -> None:
    gray = np.full((50, 80), 100, np.uint8)
    out = warp_area(gray, corners(-40, -10, 120, 60))
    assert (out == 100).all()


def test_cut_areas_single_line() -> None:
    image = cv2.cvtColor(np.random.default_rng(2).integers(0, 256, (150, 300), np.uint8), cv2.COLOR_GRAY2BGR)
    (cut,) = cut_areas(image, TRAPEZOID, two_line=False)
    assert cut.role is LineRole.SINGLE
    np.testing.assert_allclose(cut.quad, TRAPEZOID, atol=1e-3)  # the area reported: the plate itself
    widened = area_quad(TRAPEZOID, LineRole.SINGLE, READ_MARGIN)  # what the reader sees
    assert np.array_equal(cut.pixels, warp_area(to_gray(image), widened))


def test_the_reader_sees_the_plate_ends_inside_its_input() -> None:
    """A 256 px plate (120) on background (30): the margin shows background at both ends, and every
    plate column (its first and last included) lies inside the input, not on its edge."""
    x0, y0, w, h = 60, 40, 256, 64
    gray = np.full((200, 400), 30, np.uint8)
    gray[y0 : y0 + h, x0 : x0 + w] = 120
    (cut,) = cut_areas(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), corners(x0, y0, x0 + w, y0 + h), False)
    plate_cols = np.nonzero(cut.pixels[READER_H // 2] > 75)[0]
    side = READER_W * READ_MARGIN / (1 + 2 * READ_MARGIN)  # background columns at each end
    assert plate_cols[0] == pytest.approx(side, abs=1)
    assert READER_W - 1 - plate_cols[-1] == pytest.approx(side, abs=1)
    assert len(plate_cols) == pytest.approx(READER_W - 2 * side, abs=2)


def test_cut_areas_two_lines_show_each_line_and_the_overlap() -> None:
    """Plate rows: top band (v < 0.36) 60, the overlap band (0.36 <= v < 0.42) 130, below 220."""
    x0, y0, w, h = 20, 20, 230, 200  # areas under twice the reader's width: sampled, not low-passed
    gray = np.zeros((260, 300), np.uint8)
    gray[y0 : y0 + 72] = 60
    gray[y0 + 72 : y0 + 84] = 130
    gray[y0 + 84 : y0 + h] = 220
    image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    plate = corners(x0, y0, x0 + w, y0 + h)
    top, bottom = cut_areas(image, plate, two_line=True)
    assert (top.role, bottom.role) == (LineRole.TOP, LineRole.BOTTOM)
    for cut in (top, bottom):
        np.testing.assert_allclose(cut.quad, area_quad(plate, cut.role), atol=1e-4)
        assert cut.pixels.shape == (READER_H, READER_W) and cut.pixels.dtype == np.uint8
    # TOP spans 84 plate rows over 32 reader rows: rows 0..27 fall in the top band, 28.. in the overlap
    assert (top.pixels[:27] == 60).all()
    assert (top.pixels[29:] == 130).all()
    # BOTTOM starts at plate row 72, 4 rows per reader row: rows 0..2 overlap, 3.. the bottom band
    assert (bottom.pixels[:3] == 130).all()
    assert (bottom.pixels[4:] == 220).all()


# --- corner order --------------------------------------------------------------------------------------


def rotated(quad: np.ndarray, degrees: float) -> np.ndarray:
    c = quad.mean(axis=0)
    a = np.deg2rad(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    out: np.ndarray = ((quad - c) @ rot.T + c).astype(np.float32)
    return out


ORDERED = {
    "rect": RECT,
    "parallelogram": PARALLELOGRAM,
    "trapezoid": TRAPEZOID,
    "rotated+15": rotated(RECT, 15),
    "rotated-15": rotated(RECT, -15),
    "two-line plate": corners(5, 5, 340, 175),
}


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))), ids=str)
@pytest.mark.parametrize("name", list(ORDERED))
def test_order_quad_recovers_clockwise_from_top_left(name: str, perm: tuple[int, ...]) -> None:
    quad = ORDERED[name]
    got = order_quad(quad[list(perm)])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, quad)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_order_quad_accepts_any_numeric_dtype(dtype: type[np.generic]) -> None:
    shuffled = RECT[[2, 0, 3, 1]].astype(dtype)
    got = order_quad(shuffled)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, RECT)


# --- the locator's second look --------------------------------------------------------------------------

PX, PY = REFINE_PAD


@pytest.mark.parametrize(
    ("name", "quad", "shape", "window"),
    [
        # RECT is 200 x 100 at (10, 20): the margin is REFINE_PAD of that on each side
        ("inside", RECT, (400, 600), (10 - 200 * PX, 20 - 100 * PY, 210 + 200 * PX, 120 + 100 * PY)),
        ("clipped at the top-left corner", corners(2, 3, 202, 103), (400, 600), (0, 0, 212, 118)),
        ("clipped at the bottom-right", corners(500, 350, 600, 400), (400, 600), (495, 342, 600, 400)),
        ("tilted: the bounding box of the corners", TRAPEZOID, (400, 600), (15, 0, 345, 171)),
    ],
)
def test_refine_window_is_the_first_quads_box_with_a_margin(
    name: str, quad: np.ndarray, shape: tuple[int, int], window: tuple[float, ...]
) -> None:
    got = refine_window(quad, shape)
    assert got is not None
    # floor on the near side, ceil on the far side: the window never loses a pixel of the margin
    assert got == (
        int(np.floor(window[0])),
        int(np.floor(window[1])),
        int(np.ceil(window[2])),
        int(np.ceil(window[3])),
    )


@pytest.mark.parametrize(
    ("name", "quad"),
    [
        ("a point", corners(50, 50, 50, 50)),
        ("a vertical sliver", corners(50, 10, 53, 90)),
        ("a horizontal sliver", corners(10, 50, 90, 51)),
        ("left of the image", corners(-300, 10, -100, 60)),
        ("below the image", corners(10, 500, 200, 560)),
    ],
)
def test_refine_window_refuses_quads_with_nothing_to_look_at(name: str, quad: np.ndarray) -> None:
    assert refine_window(quad, (400, 600)) is None


@pytest.mark.parametrize(
    ("quad", "two_line", "expected"),
    [
        (RECT, False, 74.0),  # 100 px plate, 0.74 of it
        (RECT, True, 50.0),  # two-line: the bottom line, half the plate
        (TRAPEZOID, False, 0.74 * (70 + 140) / 2),  # the middle of a plate seen at an angle
        (RECT * 0.2, False, 14.8),  # scales with the plate
    ],
)
def test_text_height_is_the_main_line_at_the_plate_middle(
    quad: np.ndarray, two_line: bool, expected: float
) -> None:
    assert text_height(quad, two_line) == pytest.approx(expected)


def test_text_height_does_not_depend_on_rotation() -> None:
    centre = RECT.mean(axis=0)
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 30, 1.0)
    turned = cv2.transform(RECT[None], rot)[0]
    assert text_height(turned, False) == pytest.approx(text_height(RECT, False), rel=1e-4)
