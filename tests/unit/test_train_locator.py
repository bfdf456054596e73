"""The locator's training crops: as detectors and people cut them, as its own second look cuts them, and
turned (``--roll``); and continuing from a shipped locator's ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import models.training.train_locator as train_locator
from edge.locator import LOC_H, LOC_W, REFINE_PAD, refine_window
from models.training.capture import LOOSE_WINDOW, WINDOW_MARGIN
from models.training.dataset import film
from models.training.train_locator import (
    Export,
    _chunk,
    _loose_chunk,
    crop_variant,
    locator_from_onnx,
    refine_variant,
    rotate_view,
)

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
    x, y, two = _chunk((11, 3, 0.0))
    assert x.shape == (6, LOC_H, LOC_W, 3) and x.dtype == np.uint8
    assert y.shape == (6, 8) and two.shape == (6,)
    assert (two[0::2] == two[1::2]).all()  # both crops of a plate share its layout
    assert y.min() > -0.5 and y.max() < 1.5  # corners near the crop, in crop units


def test_loose_plates_give_a_loose_first_look_and_a_second_look_crop() -> None:
    x, y, two = _loose_chunk((12, 4, 0.0))
    assert x.shape == (8, LOC_H, LOC_W, 3) and y.shape == (8, 8)
    assert (two[0::2] == two[1::2]).all()
    widths = y[:, 0::2].max(axis=1) - y[:, 0::2].min(axis=1)  # the plate's width in crop units
    # the whole loose window: the plate fills under half of it (a sixth to a third, typically) ...
    assert (widths[0::2] < 0.5).all(), widths
    # ... and the second look's crop is the run-time window around a noisy guess, which it fills
    assert (widths[1::2] > 0.6).all(), widths


def test_the_loose_window_keeps_more_car_than_the_default_one() -> None:
    def share(window: tuple[float, float] | None, seed: int) -> float:
        rng = np.random.default_rng(seed)
        _spec, image, quad, _h = film(rng) if window is None else film(rng, window=window)
        assert quad.min() >= 0 and (quad.max(axis=0) <= image.shape[1::-1]).all()  # the plate is in it
        return float((quad[:, 0].max() - quad[:, 0].min()) / image.shape[1])

    default = [share(None, s) for s in range(12)]
    loose = [share(LOOSE_WINDOW, s) for s in range(12)]
    assert min(default) > 0.4  # WINDOW_MARGIN: at most 0.6 of the plate's width on each side
    assert np.median(loose) < 0.35 < np.median(default)
    assert LOOSE_WINDOW[0] >= WINDOW_MARGIN[1] * 0.9  # the loose range starts where the default ends


def _slant(quad: np.ndarray) -> float:
    """The angle of the plate's top edge, degrees counter-clockwise as seen on screen."""
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return float(np.degrees(np.arctan2(-(y1 - y0), x1 - x0)))


@pytest.mark.parametrize("degrees", [-30.0, -12.5, 0.0, 20.0, 30.0])
def test_a_turned_view_keeps_the_whole_plate_and_its_corners(degrees: float) -> None:
    image = IMAGE.copy()
    image[147:154, 357:364] = (0, 0, 255)  # a red mark inside the plate, centred on (360, 150)
    turned, quad = rotate_view(image, PLATE, degrees)
    h, w = turned.shape[:2]
    assert (quad >= 0).all() and (quad[:, 0] <= w).all() and (quad[:, 1] <= h).all()
    assert _slant(quad) == pytest.approx(_slant(PLATE) + degrees, abs=0.01)
    # the corners keep their roles (top-left first, clockwise) and the plate its size
    assert quad[0, 0] < quad[1, 0] and quad[3, 1] > quad[0, 1]
    assert np.linalg.norm(quad[1] - quad[0]) == pytest.approx(np.linalg.norm(PLATE[1] - PLATE[0]), rel=1e-4)
    # the pixels turned with the corners: the mark is where the same turn takes its centre
    a = np.radians(degrees)
    dx, dy = 360 - IMAGE.shape[1] / 2, 150 - IMAGE.shape[0] / 2
    x = round(w / 2 + dx * np.cos(a) + dy * np.sin(a))
    y = round(h / 2 - dx * np.sin(a) + dy * np.cos(a))
    assert (turned[y - 1 : y + 2, x - 1 : x + 2, 2] > 200).all()


def test_roll_turns_most_plates_and_no_roll_draws_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    angles: list[float] = []

    def spy(image: np.ndarray, quad: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
        angles.append(degrees)
        return rotate_view(image, quad, degrees)

    monkeypatch.setattr(train_locator, "rotate_view", spy)
    x, y, _two = _chunk((13, 40, 30.0))
    assert x.shape == (80, LOC_H, LOC_W, 3) and y.min() > -0.5 and y.max() < 1.5
    assert 0.4 < len(angles) / 40 < 0.8  # ROLL_SHARE
    assert max(abs(a) for a in angles) <= 30 and max(abs(a) for a in angles) > 15
    angles.clear()
    _chunk((13, 4, 0.0))
    assert angles == []  # without --roll nothing is turned and no draw is added: old caches stay valid


def test_a_shipped_locator_continues_from_its_onnx() -> None:
    """The rebuilt network is the exported one (batch norms folded into identities)."""
    import onnxruntime as ort
    import torch

    from edge.runtime import DEFAULT_MODELS_DIR

    onnx_path = DEFAULT_MODELS_DIR / "locator.onnx"
    model = locator_from_onnx(onnx_path)
    model.eval()
    x = np.random.default_rng(0).uniform(0, 255, (3, 3, LOC_H, LOC_W)).astype(np.float32)
    ours = Export(model)(torch.from_numpy(x)).detach().numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.abs(ours - theirs).max() < 1e-4
