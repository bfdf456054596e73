"""Tracker tables: crossing plates, a missed frame, occlusion, a stopped car, weak detections."""

from __future__ import annotations

import pytest

from edge.detector import box_iou
from edge.tracker import Box, Tracker, TrackerDetection, affinity


def det(x: float, y: float, w: float = 100, h: float = 25, score: float = 0.9) -> TrackerDetection:
    return TrackerDetection((x, y, x + w, y + h), score)


def run(
    tracker: Tracker, frames: list[list[TrackerDetection]], dt: float = 0.2
) -> tuple[list[list[int]], list[int]]:
    """Feed frames; returns the track id of each detection per frame, and the ids of ended tracks."""
    ids: list[list[int]] = []
    ended: list[int] = []
    for i, dets in enumerate(frames):
        matched, gone = tracker.update(i * dt, dets)
        by_det = {id(d): tr.id for tr, d in matched}
        ids.append([by_det.get(id(d), -1) for d in dets])
        ended += [tr.id for tr in gone]
    return ids, ended


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3),
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert box_iou(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("predicted", "candidate", "positive"),
    [
        ((0, 0, 100, 25), (10, 0, 110, 25), True),  # overlap
        ((0, 0, 100, 25), (150, 10, 250, 35), True),  # 1.5 widths away, same size: plausible jump
        ((0, 0, 100, 25), (400, 0, 500, 25), False),  # 4 widths away
        ((0, 0, 100, 25), (120, 0, 420, 75), False),  # 9x the area: another, nearer plate
    ],
)
def test_affinity_gates_distance_and_size(predicted: Box, candidate: Box, positive: bool) -> None:
    assert (affinity(predicted, candidate) > 0.1) is positive


def test_overlap_beats_any_distance_match() -> None:
    assert affinity((0, 0, 100, 25), (90, 0, 190, 25)) > affinity((0, 0, 100, 25), (101, 0, 201, 25))


def test_plate_moving_faster_than_its_width_keeps_one_id() -> None:
    # 150 px per step with a 100 px plate: no overlap between consecutive frames at all
    frames = [[det(100 + 150 * i, 300 + 10 * i)] for i in range(6)]
    ids, _ = run(Tracker(), frames)
    assert len({i[0] for i in ids}) == 1


def test_two_plates_crossing_keep_their_ids() -> None:
    frames = [[det(100 + 60 * i, 200), det(700 - 60 * i, 420)] for i in range(10)]
    ids, _ = run(Tracker(), frames)
    assert {row[0] for row in ids} == {ids[0][0]} and {row[1] for row in ids} == {ids[0][1]}
    assert ids[0][0] != ids[0][1]


@pytest.mark.parametrize("missing", [[3], [3, 4], [3, 4, 5, 6]])
def test_missed_frames_or_short_occlusion_keep_the_id(missing: list[int]) -> None:
    frames = [[] if i in missing else [det(100 + 40 * i, 300)] for i in range(10)]
    tracker = Tracker(lost_s=2.0)
    ids, ended = run(tracker, frames)
    assert len({row[0] for row in ids if row}) == 1
    assert ended == []


def test_track_ends_after_lost_s_and_a_new_car_gets_a_new_id() -> None:
    tracker = Tracker(lost_s=1.0)
    first = [[det(300, 300)] for _ in range(5)]
    gap: list[list[TrackerDetection]] = [[] for _ in range(8)]  # 1.6 s
    second = [[det(300, 300)] for _ in range(5)]
    ids, ended = run(tracker, first + gap + second)
    assert ids[0][0] != ids[-1][0]
    assert ended == [ids[0][0]]


def test_stopped_car_is_one_track_with_zero_speed() -> None:
    tracker = Tracker()
    frames = [[det(300 + (40 * i if i < 5 else 200), 300)] for i in range(20)]
    ids, _ = run(tracker, frames)
    assert len({row[0] for row in ids}) == 1
    assert tracker.tracks[0].speed() < 0.1


@pytest.mark.parametrize(
    ("scores", "tracks_started"),
    [
        ([0.9, 0.3, 0.3, 0.9], 1),  # weak detections extend an existing track
        ([0.3, 0.3, 0.3], 0),  # but never start one
    ],
)
def test_weak_detections_extend_but_never_start_tracks(scores: list[float], tracks_started: int) -> None:
    tracker = Tracker(high_score=0.5, low_score=0.2)
    frames = [[det(100 + 20 * i, 300, score=s)] for i, s in enumerate(scores)]
    ids, _ = run(tracker, frames)
    assert len({i for row in ids for i in row if i != -1}) == tracks_started


def test_single_false_detection_never_becomes_a_vehicle() -> None:
    tracker = Tracker(min_hits=2, lost_s=0.5)
    _, ended = run(tracker, [[det(100, 100)], [], [], [], [], []])
    assert ended == []  # tentative track died silently


def test_finish_ends_confirmed_tracks_only() -> None:
    tracker = Tracker(min_hits=2)
    tracker.update(0.0, [det(100, 100)])
    tracker.update(0.2, [det(110, 100), det(600, 400)])
    assert [t.id for t in tracker.finish()] == [1]
    assert tracker.tracks == []


@pytest.mark.parametrize(("grow", "sign"), [(1.1, 1), (0.9, -1)])
def test_growth_tells_approaching_from_leaving(grow: float, sign: int) -> None:
    tracker = Tracker()
    w, h = 100.0, 25.0
    for i in range(5):
        tracker.update(i * 0.2, [det(300, 300, w, h)])
        w, h = w * grow, h * grow
    assert tracker.tracks[0].growth() * sign > 0


def test_bad_score_thresholds_are_refused() -> None:
    with pytest.raises(ValueError):
        Tracker(high_score=0.2, low_score=0.5)
