"""Lifting the contrast of a dim or washed-out model input, and leaving every other input alone.

Neither the locator nor the reader normalises its input: both were trained on the synthesizer's
exposures (gain 0.5-1.25, IR night frames with lifted blacks), and a crop far outside them reads
badly. A plate filmed at a tenth of normal exposure (a dark lane, no IR) or through haze and a dirty
window (a quarter of normal contrast) is still legible to a person, and was read 0.660 and 0.740
exact on the first 400 test-set crops (`make probes-light`), against 0.988 as drawn: the locator put
its quad on noise, and the reader read the result as 울산. With the lift: 0.938 and 0.970.

`lift_contrast` stretches an input whose spread (2nd to 98th percentile of its brightness) is below a
floor up to that floor, about its own middle (moved only as far as keeps the stretched range within
0..255). An input at or above the floor is returned as it is, the same array, and the stretch is
continuous at the floor (gain 1 there), so nothing jumps as a plate's exposure drifts across it.

Trade-offs: a stretch amplifies noise and JPEG blocks with the strokes; the gain is capped
(`MAX_GAIN`) so a blank grey wall does not turn into a field of invented strokes. It is applied to
the model inputs (the locator's 64 x 128 window, each 32 x 128 area), not to whole frames, because a
frame's spread says nothing about its plate's (headlights beside a dark plate). A floor higher than
the one chosen changes more normal inputs, which the models were trained on as they are: on the seeded
sets the floors chosen (`edge.locator.LOCATOR_MIN_SPREAD`, `edge.areas.AREA_MIN_SPREAD`) moved a few
unsure reads either way and no sure one.
"""

from __future__ import annotations

import numpy as np

#: The stretch multiplies the spread by at most this: enough for a plate at a tenth of normal
#: exposure, not so much that sensor noise on a blank surface becomes contrast.
MAX_GAIN = 8.0
#: The percentiles that measure an input's spread: robust to a few saturated or black pixels (a bolt,
#: a glint) that would make the minimum and maximum say nothing about the plate.
LOW_PERCENTILE, HIGH_PERCENTILE = 2.0, 98.0


def spread(pixels: np.ndarray) -> tuple[float, float]:
    """The 2nd and 98th percentiles of the brightness (the mean of the channels) of ``pixels`` (gray
    H x W or colour H x W x C), as `numpy.percentile` computes them. For uint8 through a histogram of
    the channel sums: a fifth of the time, which matters as every locator look and area pays it."""
    if pixels.dtype != np.uint8:
        lum = pixels if pixels.ndim == 2 else pixels.mean(axis=2)
        lo, hi = np.percentile(lum, (LOW_PERCENTILE, HIGH_PERCENTILE))
        return float(lo), float(hi)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    sums = pixels.astype(np.uint16) if channels == 1 else pixels[..., 0].astype(np.uint16)
    for c in range(1, channels):  # channel by channel: numpy's sum over the last axis is 10x slower
        sums += pixels[..., c]
    counts = np.cumsum(np.bincount(sums.ravel(), minlength=255 * channels + 1))
    n = int(counts[-1])

    def order_statistic(k: int) -> float:  # the k-th smallest brightness, from 0
        return float(np.searchsorted(counts, k, side="right")) / channels

    def percentile(q: float) -> float:  # numpy's default: linear between the two order statistics
        at = q / 100.0 * (n - 1)
        below = int(np.floor(at))
        a, b = order_statistic(below), order_statistic(min(below + 1, n - 1))
        t = at - below
        return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)  # as numpy rounds it

    return percentile(LOW_PERCENTILE), percentile(HIGH_PERCENTILE)


def lift_contrast(pixels: np.ndarray, min_spread: float) -> np.ndarray:
    """``pixels`` (uint8 or float in 0..255, gray or colour) with its spread raised to ``min_spread``.

    Returns ``pixels`` itself when its spread is already ``min_spread`` or more (or ``min_spread`` is
    0); else a new array of the same dtype, every channel stretched by the same gain about the
    input's middle brightness, so colours keep their hue.
    """
    if min_spread <= 0.0:
        return pixels
    lo, hi = spread(pixels)
    if hi - lo >= min_spread:
        return pixels
    gain = min(min_spread / max(hi - lo, 1e-6), MAX_GAIN)
    middle = (lo + hi) / 2
    half = gain * (hi - lo) / 2
    centre = min(max(middle, half), 255.0 - half)  # the stretched range stays inside 0..255
    out = np.clip((pixels.astype(np.float32) - middle) * gain + centre, 0.0, 255.0)
    lifted: np.ndarray = (
        np.rint(out).astype(np.uint8) if pixels.dtype == np.uint8 else out.astype(pixels.dtype)
    )
    return lifted
