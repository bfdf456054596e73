"""Probe sets made from a seeded set (`models.training.probes`): turned crops keep their labels."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.training.probes import (
    BAR_GREY,
    DIM_GAIN,
    DIM_SEED,
    HAZE_CONTRAST,
    letterboxed,
    occluded,
    relit,
    relit_set,
    turn,
    turned_set,
)


@pytest.mark.parametrize("degrees", [10.0, -20.0, 30.0])
def test_a_turned_crop_is_whole_on_a_grown_canvas(degrees: float) -> None:
    image = np.zeros((40, 200, 3), np.uint8)
    image[19:22, 29:32] = 255  # a mark left of the centre, away from the edges the border repeats
    out = turn(image, degrees)
    a = np.radians(abs(degrees))
    assert out.shape[1] == int(40 * np.sin(a) + 200 * np.cos(a))
    assert out.shape[0] == int(40 * np.cos(a) + 200 * np.sin(a))
    # counter-clockwise on screen for positive degrees: the left of the crop goes down
    ys, xs = np.nonzero(out[:, :, 0] > 128)
    assert abs(ys.mean() - out.shape[0] / 2) == pytest.approx(70 * np.sin(a), abs=1.5)
    assert (ys.mean() > out.shape[0] / 2) == (degrees > 0)
    assert xs.mean() < out.shape[1] / 2


def test_turned_set_keeps_labels_alternates_the_sign_and_stops_at_first(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    rows = [("a.png", "12가3456"), ("b.png", "서울12가3456"), ("c.png", "34나5678")]
    for name, _ in rows:
        band = np.zeros((40, 200, 3), np.uint8)
        band[19:22, 29:32] = 255
        cv2.imwrite(str(src / "images" / name), band)
    with (src / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate_text", "x1", "y1", "x2", "y2", "kind"])
        w.writerows([name, text, "", "", "", "", "crop"] for name, text in rows)
    written = turned_set(src / "manifest.csv", tmp_path / "out", 20.0, first=2)
    got = list(csv.DictReader(written.open(encoding="utf-8")))
    assert [(r["file"], r["plate_text"]) for r in got] == rows[:2]
    first, second = (cv2.imread(str(tmp_path / "out" / "images" / n)) for n in ("a.png", "b.png"))
    assert np.array_equal(first, turn(cv2.imread(str(src / "images" / "a.png")), -20.0))
    assert np.array_equal(second, turn(cv2.imread(str(src / "images" / "b.png")), 20.0))


@pytest.mark.parametrize(
    ("light", "want_mean", "want_std"),
    [("dim", 200 * DIM_GAIN, 40 * DIM_GAIN), ("hazy", 128 + (200 - 150) * HAZE_CONTRAST, 40 * HAZE_CONTRAST)],
)
def test_a_relit_crop_keeps_its_pattern_at_less_light_or_contrast(
    light: str, want_mean: float, want_std: float
) -> None:
    image = np.full((40, 200, 3), 160, np.uint8)
    image[:, ::2] = 240  # mean 200, std 40
    image[:20] = image[:20] - 100  # the top half darker: the crop's mean is 150
    out = relit(image, light, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == image.shape
    bottom = out[20:].astype(float)
    assert bottom.mean() == pytest.approx(want_mean, abs=1.0)
    assert bottom.std() == pytest.approx(want_std, abs=1.0)


def test_an_unknown_light_is_refused() -> None:
    with pytest.raises(ValueError, match="dim or hazy"):
        relit(np.zeros((4, 4, 3), np.uint8), "foggy", np.random.default_rng(0))


def test_relit_set_is_the_same_from_the_same_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(src / "images" / name), rng.integers(0, 256, (40, 200, 3)).astype(np.uint8))
    (src / "manifest.csv").write_text(
        "file,plate_text,x1,y1,x2,y2,kind\na.png,12가3456,,,,,crop\nb.png,34나5678,,,,,crop\n",
        encoding="utf-8",
    )
    once, again = (relit_set(src / "manifest.csv", tmp_path / d, "dim") for d in ("one", "two"))
    assert once.read_text(encoding="utf-8") == (src / "manifest.csv").read_text(encoding="utf-8")
    for name in ("a.png", "b.png"):
        a, b = (cv2.imread(str(p.parent / "images" / name)) for p in (once, again))
        assert np.array_equal(a, b)
    noise = np.random.default_rng(DIM_SEED)  # one stream, drawn row after row
    for name in ("a.png", "b.png"):
        want = relit(cv2.imread(str(src / "images" / name)), "dim", noise)
        assert np.array_equal(cv2.imread(str(once.parent / "images" / name)), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_occluded_crop_has_one_dark_bar_over_its_height_in_its_middle(seed: int) -> None:
    image = np.full((40, 200, 3), 200, np.uint8)
    out = occluded(image, np.random.default_rng(seed))
    dark = np.nonzero((out == BAR_GREY).all(axis=(0, 2)))[0]
    assert len(dark) == 12 and np.array_equal(dark, np.arange(dark[0], dark[0] + 12))  # 6 % of 200
    assert 40 <= dark[0] < 160
    assert (image == 200).all()  # the source is not touched


@pytest.mark.parametrize("shape", [(40, 200, 3), (200, 40, 3), (50, 50), (41, 100, 3)])
def test_a_letterboxed_crop_is_centred_on_a_black_square(shape: tuple[int, ...]) -> None:
    image = np.full(shape, 255, np.uint8)
    out = letterboxed(image)
    side = max(shape[:2])
    assert out.shape == (side, side, *shape[2:])
    ys, xs = np.nonzero(out if out.ndim == 2 else out[..., 0])
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == shape[:2]
    assert abs((ys.min() + ys.max()) / 2 - (side - 1) / 2) <= 0.5
    assert abs((xs.min() + xs.max()) / 2 - (side - 1) / 2) <= 0.5
    assert int(out.sum()) == int(image.sum())  # nothing else but black
