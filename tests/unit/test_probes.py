"""Probe sets made from a seeded set (`models.training.probes`): turned crops keep their labels."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.training.probes import turn, turned_set


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
