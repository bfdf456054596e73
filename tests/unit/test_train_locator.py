"""The locator's training crops: as detectors and people cut them, and as its own second look cuts them."""

from __future__ import annotations

import numpy as np
import pytest

from edge.locator import LOC_H, LOC_W, REFINE_PAD, refine_window
from models.training.train_locator import _chunk, crop_variant, refine_variant

IMAGE = np.zeros((300, 800, 3), np.uint8)
PLATE = np.array([[200, 120], [520, 110], [525, 180], [205, 190]], np.float32)  # tilted, 320 x 75


def _inside_share(crop: np.ndarray, quad: np.ndarray) -> float:
    """Share of the plate's corners that fall inside the crop."""
    h, w = crop.shape[:2]
    return float(np.mean((quad[:, 0] >= 0) & (quad[:, 0] <= w) & (quad[:, 1] >= 0) & (quad[:, 1] <= h)))


@pytest.mark.parametrize("seed", range(20))
def test_the_second_look_crop_is_the_runtime_window_around_a_noisy_guess(seed: int) -> None:
    crop, quad = refine_variant(IMAGE, PLATE, np.random.default_rng(seed))
    # the quad is moved into crop coordinates, not changed
    offset = PLATE - quad
    assert np.allclose(offset, offset[0])
    # the plate fills the window as at run time: the margin is REFINE_PAD of a guess near the plate
    plate_w = PLATE[:, 0].max() - PLATE[:, 0].min()
    assert 0.6 < plate_w / crop.shape[1] < 1.4
    assert _inside_share(crop, quad) >= 0.5


def test_with_an_exact_guess_it_is_exactly_the_runtime_window() -> None:
    class NoNoise:
        """A generator whose first look was exactly right."""

        def normal(self, loc: float, scale: float, size: tuple[int, int]) -> np.ndarray:
            return np.zeros(size)

    crop, quad = refine_variant(IMAGE, PLATE, NoNoise())  # type: ignore[arg-type]
    x0, y0, x1, y1 = refine_window(PLATE, IMAGE.shape)  # type: ignore[misc]
    assert abs(crop.shape[1] - (x1 - x0)) <= 2 and abs(crop.shape[0] - (y1 - y0)) <= 2
    assert np.allclose(PLATE - quad, [x0, y0], atol=1.0)
    assert REFINE_PAD[1] > REFINE_PAD[0]  # more room above and below: two-line plates are tall


@pytest.mark.parametrize("seed", range(20))
def test_detector_style_crops_keep_the_quad_in_crop_coordinates(seed: int) -> None:
    crop, quad = crop_variant(IMAGE, PLATE, np.random.default_rng(seed))
    offset = PLATE - quad
    assert np.allclose(offset, offset[0])
    assert crop.shape[0] >= 2 and crop.shape[1] >= 2


def test_each_plate_gives_two_training_crops_with_targets_in_crop_units() -> None:
    x, y, two = _chunk((11, 3))
    assert x.shape == (6, LOC_H, LOC_W, 3) and x.dtype == np.uint8
    assert y.shape == (6, 8) and two.shape == (6,)
    assert (two[0::2] == two[1::2]).all()  # both crops of a plate share its layout
    assert y.min() > -0.5 and y.max() < 1.5  # corners near the crop, in crop units
