"""The camera worker's loop with scripted detections and reads: events, ROI, plate height, no leaks.

The detector is scripted and the engine is the real `Engine` on the shared fakes (the plate fills the
candidate box, every area reads 12가3456); the real models are covered by the integration tests. Frames
are handed to `process` directly, without a decoder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from edge.camera import CameraWorker
from edge.config_schema import CameraConfig, RecognitionConfig
from edge.detector import Detection
from edge.engine import Engine
from edge.events import VehicleEvent
from edge.source import Frame
from tests.support.fakes import FakeLocator, FakeReader

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
Box = tuple[int, int, int, int]


class ScriptedDetector:
    name = "scripted"

    def __init__(self, script: list[list[Box]]) -> None:
        self.script = script
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        boxes = self.script[self.calls] if self.calls < len(self.script) else []
        self.calls += 1
        return [Detection(b, 0.9) for b in boxes]


class NoSource:
    idle = False


def textured_frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # texture: the crops have sharpness


def run(script: list[list[Box]], camera: dict[str, object] | None = None, tail_s: float = 4.0):  # type: ignore[no-untyped-def]
    cam = CameraConfig(**{"id": "entry", "url": "x.mp4", "direction": "entry", **(camera or {})})  # type: ignore[arg-type]
    events: list[VehicleEvent] = []
    worker = CameraWorker(
        "gate-1", cam, RecognitionConfig(confirm_frames=3), NoSource(),  # type: ignore[arg-type]
        ScriptedDetector(script), Engine(FakeLocator(), FakeReader()), events.append,
    )  # fmt: skip
    image = textured_frame()
    n = len(script) + int(tail_s / 0.1)
    for i in range(n):
        worker.process(Frame("entry", i, i * 0.1, T0 + timedelta(seconds=i * 0.1), image))
    return worker, events


def moving(n: int, x0: int = 500, y0: int = 400, h: int = 30) -> list[list[Box]]:
    return [[(x0 + 8 * i, y0 + 4 * i, x0 + 8 * i + 4 * h, y0 + 4 * i + h)] for i in range(n)]


def test_a_vehicle_gives_one_read_then_one_left() -> None:
    worker, events = run(moving(12))
    assert [e.type for e in events] == ["plate.read", "vehicle.left"]
    assert len({e.vehicle_id for e in events}) == 1
    assert events[0].evidence.frames_seen == 3  # confirm_frames agreeing reads
    assert worker.passages == {}


def test_a_stray_detection_leaves_nothing_behind() -> None:
    worker, events = run([[(500, 400, 620, 430)]])
    assert events == []
    assert worker.passages == {} and worker.tracker.tracks == []


def test_a_car_seen_in_too_few_frames_is_read_late_not_lost() -> None:
    # two sampled frames (a fast car, or a loaded box dropping frames) against confirm_frames=3: the
    # read comes when the track ends, then vehicle.left
    worker, events = run(moving(2))
    assert [e.type for e in events] == ["plate.read", "vehicle.left"]
    assert events[0].plate.text == "12가3456" and events[0].evidence.frames_seen == 2
    assert worker.passages == {}


@pytest.mark.parametrize(
    ("camera", "expected"),
    [
        ({"roi": [[0.0, 0.0], [0.3, 0.0], [0.3, 1.0], [0.0, 1.0]]}, []),  # plate outside the ROI
        ({"min_plate_height_px": 40}, []),  # plate too small to read
        ({}, ["plate.read", "vehicle.left"]),
    ],
)
def test_roi_and_min_plate_height(camera: dict[str, object], expected: list[str]) -> None:
    _, events = run(moving(12), camera)
    assert [e.type for e in events] == expected
