"""`OnnxLocator.locate`: how many looks it takes, and which answer it keeps (the model scripted)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.detector import box_iou
from edge.locator import MAX_LOOKS, WINDOW_SETTLED, OnnxLocator, PlateGeometry, refine_window

IMAGE = np.zeros((600, 1200, 3), np.uint8)
PLATE = np.array([[500, 300], [700, 300], [700, 345], [500, 345]], np.float32)  # 200 x 45
SETTLED = refine_window(PLATE, IMAGE.shape)


class Scripted(OnnxLocator):
    """A locator whose model answers by script: each look pulls the plate's true quad towards the centre
    of the window it was shown, more the looser the window (as the real first look errs on loose crops).
    """

    def __init__(self, pull: float = 0.5, answer: np.ndarray | None = None) -> None:  # no ONNX session
        self.pull = pull
        self.answer = answer
        self.windows: list[tuple[int, int, int, int]] = []

    def look(self, image: np.ndarray, box: tuple[int, int, int, int]) -> PlateGeometry:
        self.windows.append(box)
        if self.answer is not None and len(self.windows) > 1:
            return PlateGeometry(self.answer, False, 0.0)
        assert SETTLED is not None
        looseness = 1.0 - box_iou(box, SETTLED)
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
        quad = PLATE + self.pull * looseness * (centre - PLATE.mean(axis=0))
        return PlateGeometry(quad.astype(np.float32), False, 0.0)


def test_a_window_at_the_plate_needs_one_look() -> None:
    assert SETTLED is not None
    loc = Scripted()
    geo = loc.locate(IMAGE, SETTLED)
    assert loc.windows == [SETTLED]  # the next window would be this one: nothing new to see
    np.testing.assert_allclose(geo.quad, PLATE, atol=1e-3)


def test_a_detector_box_is_looked_at_twice() -> None:
    loc = Scripted()
    box = (480, 280, 720, 360)  # around the plate, but not the window the second look cuts
    loc.locate(IMAGE, box)
    assert len(loc.windows) == 2 and loc.windows[0] == box


def test_a_loose_crop_is_looked_at_until_the_window_stops_moving() -> None:
    loc = Scripted(pull=0.9)
    geo = loc.locate(IMAGE)  # the whole image: the plate is a sixth of its width
    assert 2 < len(loc.windows) <= MAX_LOOKS
    # every look's window is closer to the plate's own window than the one before
    assert SETTLED is not None
    ious = [box_iou(w, SETTLED) for w in loc.windows]
    assert ious == sorted(ious)
    assert box_iou(refine_window(geo.quad, IMAGE.shape) or (0, 0, 0, 0), loc.windows[-1]) >= WINDOW_SETTLED
    first = np.abs(Scripted(pull=0.9).look(IMAGE, (0, 0, 1200, 600)).quad - PLATE).max()
    assert np.abs(geo.quad - PLATE).max() < 0.2 * first


def test_never_more_than_max_looks() -> None:
    class Drifting(Scripted):
        """Each answer 60 px to the right of the window's centre: the window never settles."""

        def look(self, image: np.ndarray, box: tuple[int, int, int, int]) -> PlateGeometry:
            self.windows.append(box)
            cx, cy = (box[0] + box[2]) / 2 + 60, (box[1] + box[3]) / 2
            quad = np.array([[-100, -20], [100, -20], [100, 20], [-100, 20]]) + np.array([cx, cy])
            return PlateGeometry(quad.astype(np.float32), False, 0.0)

    loc = Drifting()
    loc.locate(IMAGE)
    assert len(loc.windows) == MAX_LOOKS


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("outside the window it looked at", PLATE + np.array([900, 0], np.float32)),
        ("far off the image", PLATE * 40),
    ],
)
def test_an_answer_outside_its_window_is_dropped(name: str, answer: np.ndarray) -> None:
    loc = Scripted(pull=0.9, answer=answer)
    first = Scripted(pull=0.9).look(IMAGE, (0, 0, 1200, 600)).quad
    geo = loc.locate(IMAGE)
    # the second look answered nonsense: the first look's answer stands, and the search stops
    assert len(loc.windows) == 2
    np.testing.assert_allclose(geo.quad, first, atol=1e-3)
