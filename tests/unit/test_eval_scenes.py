"""The scoring rules of `eval --task detect|e2e` without models: matching, coverage, grouping rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.detector import Detection, box_iou
from edge.eval_scenes import covers, detection_box, frames_of, match, quad_box
from edge.evaluate import read_manifest


@pytest.mark.parametrize(
    ("pred", "truth", "pairs"),
    [
        ([(0, 0, 10, 10)], [(0, 0, 10, 10)], [(0, 0)]),
        ([(0, 0, 10, 10)], [(5, 0, 15, 10)], []),  # IoU 1/3
        ([(0, 0, 10, 10), (1, 0, 11, 10)], [(0, 0, 10, 10)], [(0, 0)]),  # one truth, one match
        ([(50, 50, 60, 60), (0, 0, 10, 10)], [(0, 0, 10, 10), (50, 50, 60, 60)], [(0, 1), (1, 0)]),
        ([(0, 0, 10, 10)], [(0, 0, 10, 10), (0, 0, 10, 9)], [(0, 0)]),  # the better overlap wins
        ([], [(0, 0, 10, 10)], []),
    ],
)
def test_match(pred: list, truth: list, pairs: list) -> None:
    assert sorted(match(pred, truth)) == sorted(pairs)


def test_box_iou_and_covers() -> None:
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    assert covers((0, 0, 100, 40), (20, 10, 60, 25))  # a loose candidate holding the plate
    assert not covers((0, 0, 30, 40), (20, 10, 60, 25))


def test_detection_box_prefers_the_quad() -> None:
    quad = np.array([[10, 20], [50, 22], [50, 30], [10, 28]], np.float32)
    assert detection_box(Detection((0, 0, 100, 100), 0.9, quad)) == quad_box(quad) == (10, 20, 50, 30)
    assert detection_box(Detection((1, 2, 3, 4), 0.9)) == (1.0, 2.0, 3.0, 4.0)


def test_frames_group_rows_and_keep_plateless_frames(tmp_path: Path) -> None:
    m = tmp_path / "m.csv"
    m.write_text(
        "file,plate_text,x1,y1,x2,y2,kind\n"
        "a.jpg,12가3456,1,2,30,12,scene\n"
        "b.jpg,,,,,,scene\n"
        "a.jpg,34나5678,40,2,70,12,scene\n"
        "c.jpg,56다7890,,,,,scene\n",
        encoding="utf-8",
    )
    frames = frames_of(read_manifest(m))
    assert [f.name for f in frames] == ["a.jpg", "b.jpg", "c.jpg"]
    assert [len(f.plates) for f in frames] == [2, 0, 1]
    assert frames[2].plates[0].box is None and frames[2].plates[0].text == "56다7890"
