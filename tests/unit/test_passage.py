"""Event decisions per passage: when plate.read / plate.updated / vehicle.left go out, de-duplication."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from edge.config_schema import CameraConfig, RecognitionConfig
from edge.events import NO_LIST_MATCH
from edge.lists import PlateList, PlateLists
from edge.passage import STOP_S, Passage, PassageJudge
from edge.quality import Quality
from edge.tracker import Track
from tests.unit.test_fusion import plate

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone(timedelta(hours=9)))
IMAGE = np.zeros((10, 10, 3), np.uint8)


def setup(confirm: int = 3, **rec: object) -> tuple[PassageJudge, Track, Passage]:
    camera = CameraConfig(id="entry", url="clip.mp4", direction="entry")
    judge = PassageJudge("gate-1", camera, RecognitionConfig(confirm_frames=confirm, **rec))  # type: ignore[arg-type]
    track = Track(1, (0, 0, 100, 25), 0.9, 0.0, 0.0, confirmed=True)
    return judge, track, Passage.start(track, T0, best_k=5)


def see(judge: PassageJudge, track: Track, passage: Passage, text: str, t: float, conf: float = 0.95,
        moving: bool = True, live: list[Passage] | None = None) -> str | None:  # fmt: skip
    track.velocity = (200.0, 0.0, 200.0, 0.0) if moving else (0.0, 0.0, 0.0, 0.0)
    q = Quality(500.0, 40.0, 1.0, 0.0, 0.9, 0.5 + t / 100)
    passage.observe(track, plate(text, conf), q, t, T0 + timedelta(seconds=t), IMAGE)
    return judge.on_frame(passage, t, live or [passage])


@pytest.mark.parametrize(("confirm", "read_at"), [(1, 0), (2, 1), (3, 2)])
def test_read_after_confirm_frames_agreeing(confirm: int, read_at: int) -> None:
    judge, track, passage = setup(confirm)
    kinds = [see(judge, track, passage, "12가3456", 0.2 * i) for i in range(4)]
    assert kinds.index("plate.read") == read_at
    assert kinds.count("plate.read") == 1 and "plate.updated" not in kinds


def test_low_confidence_never_reads() -> None:
    judge, track, passage = setup(1, min_read_confidence=0.99)
    assert [see(judge, track, passage, "12가3456", 0.2 * i, conf=0.3) for i in range(5)] == [None] * 5


def test_stopped_car_reads_with_fewer_agreeing_frames() -> None:
    judge, track, passage = setup(confirm=10)
    kinds = [see(judge, track, passage, "12가3456", 0.2 * i, moving=False) for i in range(8)]
    first = kinds.index("plate.read")
    assert 0.2 * first >= STOP_S and first < 10


def test_read_on_stop_can_be_switched_off() -> None:
    judge, track, passage = setup(confirm=10, read_on_stop=False)
    assert [see(judge, track, passage, "12가3456", 0.2 * i, moving=False) for i in range(8)] == [None] * 8


def test_updated_when_the_fused_read_changes() -> None:
    # far away it reads 가; nearer, sharper crops (higher quality) replace them in the best 5 and say 거
    judge, track, passage = setup(confirm=2)
    kinds = [see(judge, track, passage, "12가3456", 0.1 * i, conf=0.95) for i in range(3)]
    kinds += [see(judge, track, passage, "12거3456", 0.1 * i, conf=0.99) for i in range(3, 10)]
    assert kinds.count("plate.read") == 1 and kinds.count("plate.updated") == 1
    assert passage.published is not None and passage.published.text == "12거3456"


def test_vehicle_left_only_after_a_read() -> None:
    judge, track, passage = setup(confirm=2)
    see(judge, track, passage, "12가3456", 0.0, conf=0.3)
    assert judge.on_end(passage, 3.0) is None  # never confident: no event
    judge, track, passage = setup(confirm=1)
    see(judge, track, passage, "12가3456", 0.0)
    assert judge.on_end(passage, 3.0) == "vehicle.left"


@pytest.mark.parametrize(
    ("confirm", "reads", "expected"),
    [
        (3, [("12가3456", 0.95)] * 2, "plate.read"),  # two confident agreeing frames, one short of 3
        (3, [("12가3456", 0.95)], None),  # one frame's read never publishes
        (3, [("12가3456", 0.3)] * 2, None),  # agreeing but not confident
        (3, [("12가3456", 0.95), ("12거3456", 0.95)], None),  # two frames that disagree
        (1, [("12가3456", 0.3)], None),  # confirm_frames 1: still the confidence bar
    ],
)
def test_a_track_lost_before_its_read_was_stable(
    confirm: int, reads: list[tuple[str, float]], expected: str | None
) -> None:
    judge, track, passage = setup(confirm)
    kinds = [see(judge, track, passage, text, 0.1 * i, conf=c) for i, (text, c) in enumerate(reads)]
    assert kinds == [None] * len(reads)  # never stable while the track lived
    assert judge.on_lost(passage, 3.0, []) == expected
    assert judge.on_end(passage, 3.0) == ("vehicle.left" if expected else None)


def test_a_lost_track_publishes_no_late_read_twice_or_for_a_repeat() -> None:
    judge, track, first = setup(confirm=1, dedup_window_s=30)
    assert see(judge, track, first, "12가3456", 0.0) == "plate.read"
    assert judge.on_lost(first, 2.0, []) is None  # already published on the frame
    assert judge.on_end(first, 2.0) == "vehicle.left"
    judge.rec = judge.rec.model_copy(update={"confirm_frames": 3})
    again = Passage.start(track, T0, 5)
    for i in range(2):
        see(judge, track, again, "12가3456", 10.0 + 0.1 * i)
    assert judge.on_lost(again, 11.0, []) is None  # the same plate 9 s later: a broken track
    assert again.duplicate and judge.on_end(again, 11.0) is None


def test_same_plate_within_the_window_is_the_same_passage() -> None:
    judge, track, first = setup(confirm=1, dedup_window_s=30)
    assert see(judge, track, first, "12가3456", 0.0) == "plate.read"
    assert judge.on_end(first, 5.0) == "vehicle.left"
    again = Passage.start(track, T0, 5)
    assert see(judge, track, again, "12가3456", 20.0) is None  # 15 s later: a broken track
    assert judge.on_end(again, 22.0) is None
    later = Passage.start(track, T0, 5)
    assert see(judge, track, later, "12가3456", 60.0) == "plate.read"  # 38 s after: a new visit


def test_an_unread_passage_does_not_make_the_next_one_a_repeat() -> None:
    # a track lost with an unsure guess (one blurred frame), then the same car read well on a new track
    judge, track, unsure = setup(confirm=2, dedup_window_s=30)
    assert see(judge, track, unsure, "12가3456", 0.0, conf=0.5) is None
    assert judge.on_lost(unsure, 1.0, []) is None and judge.on_end(unsure, 1.0) is None
    sure = Passage.start(track, T0, 5)
    kinds = [see(judge, track, sure, "12가3456", 2.0 + 0.1 * i) for i in range(2)]
    assert kinds == [None, "plate.read"] and not sure.duplicate


def test_two_live_tracks_of_one_plate_read_once() -> None:
    judge, track, a = setup(confirm=1)
    b = Passage.start(track, T0, 5)
    assert see(judge, track, a, "12가3456", 0.0, live=[a, b]) == "plate.read"
    assert see(judge, track, b, "12가3456", 0.1, live=[a, b]) is None


@pytest.mark.parametrize(
    ("direction", "approaching_is", "growth", "expected"),
    [
        ("exit", None, 1.0, "exit"),
        (None, None, 1.0, None),
        (None, "entry", 1.0, "entry"),
        (None, "entry", -1.0, "exit"),
        (None, "exit", 1.0, "exit"),
    ],
)
def test_direction(
    direction: str | None, approaching_is: str | None, growth: float, expected: str | None
) -> None:
    camera = CameraConfig(id="c", url="x.mp4", direction=direction, approaching_is=approaching_is)  # type: ignore[arg-type]
    judge = PassageJudge("s", camera, RecognitionConfig())
    track = Track(1, (0, 0, 100, 25), 0.9, 0.0, 0.0)
    track.velocity = (0.0, -growth * 12, 0.0, growth * 12)
    assert judge.direction(track) == expected


def test_event_carries_the_evidence_and_fused_plate() -> None:
    judge, track, passage = setup(confirm=2)
    for i in range(3):
        see(judge, track, passage, "12가3456", 0.2 * i)
    event = judge.event("plate.read", passage, track, T0, PlateLists([]))
    d = event.to_dict()
    assert d["plate"]["text"] == "12가3456" and d["direction"] == "entry"
    assert d["evidence"]["frames_seen"] == 3 and d["evidence"]["agreement"] == 1.0
    assert d["vehicle_id"] == passage.vehicle_id
    assert event.list_match == NO_LIST_MATCH
    denied = judge.event("plate.read", passage, track, T0, PlateLists([PlateList("deny", ("12가3456",), 0)]))
    assert denied.to_dict()["list"] == {"name": "deny", "matched": "12가3456", "distance": 0.0}
