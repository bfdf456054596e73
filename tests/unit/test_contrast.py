"""Contrast lifting of model inputs (`edge.contrast`): dim and flat inputs stretched, others untouched."""

from __future__ import annotations

import numpy as np
import pytest

from edge.areas import AREA_MIN_SPREAD, READER_H, READER_W, warp_area
from edge.contrast import MAX_GAIN, lift_contrast, spread
from edge.locator import LOC_H, LOC_W, LOCATOR_MIN_SPREAD, locator_input


def stripes(lo: float, hi: float, shape: tuple[int, ...] = (32, 128), dtype: type = np.uint8) -> np.ndarray:
    """Vertical bars alternating between ``lo`` and ``hi``: a spread of exactly ``hi - lo``."""
    img = np.full(shape, lo, np.float32)
    img[:, ::4] = hi
    img[:, 1::4] = hi
    return img.astype(dtype)


@pytest.mark.parametrize(
    ("lo", "hi", "floor"),
    [
        (0, 255, 100),  # full range
        (60, 160, 100),  # exactly at the floor: unchanged, so the stretch cannot jump there
        (10, 200, 60),
        (40, 50, 0),  # floor 0: lifting is off
    ],
)
def test_an_input_at_or_above_the_floor_is_returned_as_it_is(lo: float, hi: float, floor: float) -> None:
    img = stripes(lo, hi)
    assert lift_contrast(img, floor) is img


@pytest.mark.parametrize(
    ("lo", "hi", "floor", "want_lo", "want_hi"),
    [
        (100, 130, 60, 85, 145),  # hazy: stretched about its middle (115)
        (0, 24, 100, 0, 100),  # dim: the middle moves up just enough to keep black at 0
        (230, 250, 100, 155, 255),  # washed out: white stays at 255
    ],
)
def test_a_dim_or_flat_input_is_stretched_to_the_floor(
    lo: float, hi: float, floor: float, want_lo: float, want_hi: float
) -> None:
    out = lift_contrast(stripes(lo, hi), floor)
    assert out.dtype == np.uint8
    assert spread(out) == pytest.approx((want_lo, want_hi), abs=1.0)


def test_the_gain_is_capped() -> None:
    out = lift_contrast(stripes(127, 128), 100)  # a blank surface: its noise must not become strokes
    assert spread(out)[1] - spread(out)[0] == pytest.approx(MAX_GAIN, abs=1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_colour_channels_share_one_gain_and_keep_the_dtype(dtype: type) -> None:
    img = np.stack([stripes(100, 120), stripes(110, 130), stripes(120, 140)], axis=2).astype(dtype)
    out = lift_contrast(img, 100)
    assert out.dtype == dtype
    # each channel spread 20 and the brightness spread is 20: all five times wider, offsets kept
    widths = [float(out[..., c].max()) - float(out[..., c].min()) for c in range(3)]
    assert widths == pytest.approx([100, 100, 100], abs=1.0)
    assert float(out[..., 2].min() - out[..., 0].min()) == pytest.approx(100, abs=1.0)


def test_the_stretch_is_continuous_at_the_floor() -> None:
    img = stripes(60, 159)  # just below the floor: stretched, but by a hair
    out = lift_contrast(img, 100)
    assert out is not img
    assert np.abs(out.astype(int) - img.astype(int)).max() <= 1


def test_the_reader_sees_a_dim_area_stretched_and_a_normal_one_untouched() -> None:
    quad = np.array([[0, 0], [READER_W, 0], [READER_W, READER_H], [0, READER_H]], np.float32)
    normal = stripes(30, 220)
    assert np.array_equal(warp_area(normal, quad), normal)
    dim = stripes(5, 25)
    lo, hi = spread(warp_area(dim, quad))
    assert hi - lo == pytest.approx(AREA_MIN_SPREAD, abs=1.0)


@pytest.mark.parametrize("gray", [True, False])
def test_the_locator_sees_a_dim_window_stretched(gray: bool) -> None:
    window = stripes(0, 20, (96, 256)) if gray else np.dstack([stripes(0, 20, (96, 256))] * 3)
    x = locator_input(window)
    assert x.shape == (LOC_H, LOC_W, 3) and x.dtype == np.uint8
    lo, hi = spread(x)
    assert hi - lo == pytest.approx(LOCATOR_MIN_SPREAD, abs=2.0)
    bright = np.dstack([stripes(20, 230, (96, 256))] * 3)
    assert spread(locator_input(bright)) == pytest.approx(spread(bright), abs=1.0)


@pytest.mark.parametrize("shape", [(32, 128), (64, 128, 3), (7, 9, 3), (1, 1), (1, 1, 3), (3, 5, 4)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fast_spread_is_numpys_percentile(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    lo, hi = sorted(rng.integers(0, 256, 2))
    img = rng.integers(lo, hi + 1, shape).astype(np.uint8)
    lum = img if img.ndim == 2 else img.mean(axis=2)
    assert spread(img) == tuple(np.percentile(lum, (2, 98)))
    assert spread(img) == pytest.approx(spread(img.astype(np.float32)), abs=1e-4)  # the float path
