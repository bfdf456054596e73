"""Motion gate: static scenes stay closed, motion inside the ROI opens it, outside does not, hold time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.motion import MotionGate, roi_mask

LEFT_HALF = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))


def frame(box_x: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = (100 + rng.normal(0, 2, (360, 640, 3))).clip(0, 255).astype(np.uint8)  # noise must not count
    if box_x is not None:
        cv2.rectangle(img, (box_x, 150), (box_x + 120, 250), (240, 240, 240), -1)
    return img


def test_static_scene_closes_the_gate_after_the_hold() -> None:
    gate = MotionGate(LEFT_HALF, hold_s=1.0)
    assert gate.update(frame(), 0.0)  # the first frame is always looked at
    opened = [gate.update(frame(), t) for t in (0.5, 1.5, 3.0)]
    assert opened == [True, False, False]


@pytest.mark.parametrize(("x", "inside"), [(100, True), (450, False)])
def test_motion_counts_only_inside_the_roi(x: int, inside: bool) -> None:
    gate = MotionGate(LEFT_HALF, hold_s=0.5)
    gate.update(frame(), 0.0)
    gate.update(frame(), 2.0)
    assert gate.update(frame(x), 4.0) is inside


def test_hold_keeps_the_gate_open_after_motion_stops() -> None:
    gate = MotionGate(LEFT_HALF, hold_s=2.0)
    gate.update(frame(), 0.0)
    gate.update(frame(), 5.0)
    assert gate.update(frame(100), 6.0)
    assert gate.update(frame(100), 7.0)  # it stopped moving (background adapts slowly) but hold
    assert gate.update(frame(100), 7.9)


def test_disabled_gate_is_always_open() -> None:
    gate = MotionGate(LEFT_HALF, enabled=False)
    assert all(gate.update(frame(), float(t)) for t in range(5))


def test_roi_mask_covers_the_polygon() -> None:
    mask = roi_mask(LEFT_HALF, (100, 50))
    assert mask[:, :49].all() and not mask[:, 51:].any()
