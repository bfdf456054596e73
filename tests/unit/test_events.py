"""Event, camera state and site status serialisation (design.md, 'MQTT contract')."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from edge.events import NO_LIST_MATCH, CameraState, PlateInfo, SiteStatus, Topics, VehicleEvent
from tests.support.events import T0, assert_event, event_errors, sample_event


def test_event_json_is_exactly_the_contract() -> None:
    event = sample_event()
    payload = event.to_json()
    assert "12가3456" in payload  # Hangul as UTF-8, not \uXXXX escapes
    assert json.loads(payload) == {
        "schema": "plate-edge/event/1",
        "event_id": event.event_id,
        "type": "plate.read",
        "site": "gate-1",
        "camera": "entry",
        "direction": "entry",
        "vehicle_id": "entry-0",
        "ts": "2024-05-01T08:00:00.123+09:00",
        "first_seen": "2024-05-01T07:59:58.123+09:00",
        "last_seen": "2024-05-01T08:00:00.123+09:00",
        "plate": {
            "text": "12가3456",
            "confidence": 0.988,
            "valid": True,
            "kind": "private",
            "box": [[10.0, 20.0], [130.0, 20.0], [130.0, 50.0], [10.0, 50.0]],
            "areas": [
                {
                    "box": [[10.0, 20.0], [130.0, 20.0], [130.0, 50.0], [10.0, 50.0]],
                    "text": "12가3456",
                    "confidence": 0.988,
                    "chars": [
                        {"char": "1", "confidence": 0.999},
                        {"char": "2", "confidence": 0.998},
                        {"char": "가", "confidence": 0.95},
                    ],
                }
            ],
        },
        "evidence": {
            "frames_seen": 41,
            "frames_read": 7,
            "agreement": 0.857,
            "best_frame_ts": "2024-05-01T07:59:59.123+09:00",
            "sharpness": 312.5,
        },
        "list": {"name": "allow", "matched": "12가3456", "distance": 0},
        "snapshot": "snapshots/entry/0.jpg",
    }
    assert_event(payload)


@pytest.mark.parametrize(
    ("changes", "key", "expected"),
    [
        ({"direction": None}, "direction", None),
        ({"list_match": NO_LIST_MATCH}, "list", {"name": None, "matched": None, "distance": None}),
        ({"snapshot": None}, "snapshot", None),
        ({"type": "vehicle.left"}, "type", "vehicle.left"),
        ({"type": "plate.updated", "direction": "exit"}, "direction", "exit"),
    ],
)
def test_nullable_and_enum_fields(changes: dict[str, Any], key: str, expected: Any) -> None:
    obj = assert_event(sample_event(**changes).to_json())
    assert obj[key] == expected


def test_event_ids_are_fresh_uuid4_also_after_replace() -> None:
    first, second = sample_event(), sample_event()
    updated = dataclasses.replace(first, type="plate.updated")
    ids = {first.event_id, second.event_id, updated.event_id}
    assert len(ids) == 3
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert (
        json.loads(first.to_json())["event_id"] == json.loads(first.to_json())["event_id"]
    )  # stable per object


@pytest.mark.parametrize("field", ["ts", "first_seen", "last_seen"])
def test_naive_timestamps_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="no timezone"):
        changes: dict[str, Any] = {field: datetime(2024, 5, 1, 8, 0, 0)}
        sample_event(**changes)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda o: o.pop("event_id"), "'event_id' is a required property"),
        (lambda o: o.update(type="plate.seen"), "is not one of"),
        (lambda o: o.update(ts="2024-05-01T08:00:00"), "does not match"),
        (lambda o: o.update(extra=1), "Additional properties"),
        (lambda o: o["plate"].update(confidence=1.5), "is greater than the maximum"),
        (lambda o: o["list"].update(name="maybe"), "is not one of"),
    ],
)
def test_schema_rejects_broken_events(mutate: Any, fragment: str) -> None:
    obj = json.loads(sample_event().to_json())
    mutate(obj)
    assert any(fragment in message for message in event_errors(obj)), event_errors(obj)


def test_plate_from_analysis_json() -> None:
    analysis_plate = {
        "text": "서울12가3456",
        "confidence": 0.9,
        "valid": True,
        "kind": "private",
        "box": [[0, 0], [10, 0], [10, 5], [0, 5]],
        "detection_confidence": 0.97,
        "areas": [
            {"box": [[0, 0], [10, 0], [10, 2], [0, 2]], "text": "서울12", "confidence": 0.9, "chars": []},
            {"box": [[0, 2], [10, 2], [10, 5], [0, 5]], "text": "가3456", "confidence": 0.8, "chars": []},
        ],
    }
    plate = PlateInfo.from_analysis(analysis_plate)
    expected = {k: v for k, v in analysis_plate.items() if k != "detection_confidence"}
    assert plate.to_dict() == expected  # (ints and floats compare equal: 0 == 0.0)
    assert_event(sample_event(plate=plate).to_json())


def test_camera_state_and_site_status_json() -> None:
    state = CameraState("entry", "error", T0, reason="RTSP 401 Unauthorized")
    assert json.loads(state.to_json()) == {
        "camera": "entry",
        "state": "error",
        "fps": None,
        "reason": "RTSP 401 Unauthorized",
        "ts": "2024-05-01T08:00:00.123+09:00",
    }
    assert json.loads(CameraState("exit", "streaming", T0, fps=9.87).to_json())["fps"] == 9.9
    assert SiteStatus("offline", T0).to_json() == '{"state":"offline","ts":"2024-05-01T08:00:00.123+09:00"}'
    with pytest.raises(ValueError):
        SiteStatus("online", datetime(2024, 5, 1))


def test_topics() -> None:
    topics = Topics("plate-edge/gate-1")
    assert topics.status == "plate-edge/gate-1/status"
    assert topics.events("entry") == "plate-edge/gate-1/entry/events"
    assert topics.state("entry") == "plate-edge/gate-1/entry/state"


def test_events_are_frozen() -> None:
    event: VehicleEvent = sample_event()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.site = "other"  # type: ignore[misc]
