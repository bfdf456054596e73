"""What the reader trains on (`train_reader`): shards' areas lifted as the product lifts them, and dark
bars drawn over a share of the lines with their labels kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from edge.areas import AREA_MIN_SPREAD, READER_H, READER_W
from edge.contrast import lift_contrast, spread
from models.training.train_reader import load, occlude_lines


def test_a_line_is_left_alone_unless_drawn_for() -> None:
    x = torch.full((16, 1, READER_H, READER_W), 0.8)
    assert torch.equal(occlude_lines(x, 0.0), x)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_occluded_line_has_one_dark_bar_from_an_edge(seed: int) -> None:
    torch.manual_seed(seed)
    x = torch.full((32, 1, READER_H, READER_W), 0.8)
    out = occlude_lines(x, 1.0)
    assert torch.equal(x, torch.full_like(x, 0.8))  # the input is not drawn on
    for line in out[:, 0]:
        dark = line < 0
        cols = torch.nonzero(dark.any(dim=0)).flatten()
        rows = torch.nonzero(dark.any(dim=1)).flatten()
        assert 5 <= len(cols) <= 16 and int(cols[-1] - cols[0]) + 1 == len(cols)  # 4-12 % of 128, one bar
        assert len(rows) >= 0.6 * READER_H - 1 and (rows[0] == 0 or rows[-1] == READER_H - 1)
        assert float(line[dark].max()) <= -0.6 and float(line[dark].min()) >= -1.0
        assert bool((line[~dark] == 0.8).all())


def test_about_the_share_asked_for_is_occluded() -> None:
    torch.manual_seed(0)
    out = occlude_lines(torch.full((2000, 1, READER_H, READER_W), 0.8), 0.1)
    hit = (out < 0).flatten(1).any(dim=1).float().mean().item()
    assert hit == pytest.approx(0.1, abs=0.025)


def test_shards_drawn_before_the_lift_are_lifted_at_load(tmp_path: Path) -> None:
    dim = np.full((READER_H, READER_W), 10, np.uint8)
    dim[:, ::4] = 30  # spread 20: the product lifts it to AREA_MIN_SPREAD
    normal = np.full((READER_H, READER_W), 40, np.uint8)
    normal[:, ::4] = 220
    shard = tmp_path / "shard-0.npz"
    np.savez(
        shard,
        images=np.stack([dim, normal]),
        labels=np.ones((2, 4), np.int64),
        lengths=np.array([4, 4]),
        char_h=np.array([20.0, 30.0]),
    )
    got = load([shard])["images"]
    assert np.array_equal(got[0], lift_contrast(dim, AREA_MIN_SPREAD))
    assert spread(got[0])[1] - spread(got[0])[0] == pytest.approx(AREA_MIN_SPREAD, abs=1.0)
    assert np.array_equal(got[1], normal)


def test_shards_cut_through_the_lift_are_not_lifted_again(tmp_path: Path) -> None:
    blank = np.full((READER_H, READER_W), 120, np.uint8)
    blank[:, ::4] = 122  # spread 2: the gain is capped, so the lifted area spreads 16, under the floor
    once = lift_contrast(blank, AREA_MIN_SPREAD)
    assert not np.array_equal(lift_contrast(once, AREA_MIN_SPREAD), once)  # a second lift would move it
    new, old = tmp_path / "shard-1.npz", tmp_path / "shard-0.npz"
    arrays = {"labels": np.ones((1, 4), np.int64), "lengths": np.array([4]), "char_h": np.array([20.0])}
    np.savez(new, images=once[None], area_min_spread=np.float32(AREA_MIN_SPREAD), **arrays)
    np.savez(old, images=blank[None], **arrays)
    got = load([old, new])["images"]
    assert np.array_equal(got[0], once)  # the old shard lifted at load
    assert np.array_equal(got[1], once)  # the new one as it was cut
