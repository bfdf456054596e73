"""The reader's learning-rate schedule: warm-up, plateau hold, cosine decay, and the hold for weight
averaging (`train_reader._learning_rate`)."""

from __future__ import annotations

import argparse

import pytest

from models.training.train_reader import _learning_rate

LR, SWA_LR, BUDGET = 1e-3, 1e-4, 1000.0


def _args(swa_start: float | None) -> argparse.Namespace:
    return argparse.Namespace(lr=LR, warmup=10, swa_start=swa_start, swa_lr=SWA_LR)


@pytest.mark.parametrize(
    ("swa_start", "step", "elapsed", "escaped_at", "expected"),
    [
        (None, 0, 0.0, None, LR / 10),  # warm-up
        (None, 4, 0.0, None, LR / 2),
        (None, 50, 500.0, None, LR),  # plateau not escaped: held at the peak
        (None, 50, 0.0, 0.0, LR),  # decay starts at the peak...
        (None, 50, 500.0, 0.0, 0.51 * LR),  # ...half-way down...
        (None, 50, BUDGET, 0.0, 0.02 * LR),  # ...and ends at 2 %
        (None, 50, 2 * BUDGET, 0.0, 0.02 * LR),  # never below
        (0.5, 50, 0.0, 0.0, LR),  # averaging: the decay ends where averaging starts...
        (0.5, 50, 250.0, 0.0, (LR + SWA_LR) / 2),
        (0.5, 50, 500.0, 0.0, SWA_LR),  # ...and the rate is held from there
        (0.5, 50, 900.0, 0.0, SWA_LR),
        (0.0, 50, 0.0, 0.0, SWA_LR),  # averaging from the start: held throughout
        (0.5, 5, 900.0, 0.0, LR * 6 / 10),  # warm-up comes first whatever the mode
    ],
)
def test_learning_rate(
    swa_start: float | None, step: int, elapsed: float, escaped_at: float | None, expected: float
) -> None:
    assert _learning_rate(_args(swa_start), step, elapsed, BUDGET, escaped_at) == pytest.approx(expected)
