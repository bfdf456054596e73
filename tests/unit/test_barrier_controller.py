"""The reference barrier controller (deploy/examples): de-duplication, age check, policy."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from edge.events import CameraState, ListMatch, SiteStatus
from tests.support.events import T0, sample_event

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "barrier_controller.py"
TOPIC = "plate-edge/gate-1/entry/events"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("barrier_controller", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_opens_once_per_event_despite_redelivery(
    example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    controller = example.BarrierController()
    event = sample_event()
    payload = event.to_json().encode()
    at = T0 + timedelta(seconds=1)
    assert controller.handle(TOPIC, payload, at) == "OPEN barrier for 12가3456"
    assert controller.handle(TOPIC, payload, at) is None  # the at-least-once duplicate
    updated = dataclasses.replace(event, type="plate.updated")  # same vehicle, new event id
    assert controller.handle(TOPIC, updated.to_json().encode(), at).startswith("plate.updated 12가3456")
    assert capsys.readouterr().out.count("OPEN barrier") == 1


@pytest.mark.parametrize(
    ("changes", "age_s", "expected"),
    [
        ({}, 1, "OPEN barrier for 12가3456"),
        ({"list_match": ListMatch("deny", "12가3456", 0)}, 1, "KEEP CLOSED for 12가3456 (deny list)"),
        ({}, 3600, "IGNORED plate.read for 12가3456: 3600 s old (replayed after an outage?)"),
        ({"type": "vehicle.left"}, 3600, "vehicle.left 12가3456 vehicle=entry-0 camera=entry"),
    ],
)
def test_policy_table(example: ModuleType, changes: dict[str, Any], age_s: float, expected: str) -> None:
    payload = sample_event(**changes).to_json().encode()
    assert example.BarrierController().handle(TOPIC, payload, T0 + timedelta(seconds=age_s)) == expected


def test_status_state_and_junk(example: ModuleType) -> None:
    controller = example.BarrierController()
    status = SiteStatus("offline", T0).to_json().encode()
    assert controller.handle("plate-edge/gate-1/status", status) == "plate-edge plate-edge/gate-1 is OFFLINE"
    state = CameraState("entry", "error", T0, reason="no frames").to_json().encode()
    assert controller.handle("plate-edge/gate-1/entry/state", state) == "camera entry: error no frames"
    assert controller.handle(TOPIC, b"not json").startswith("ignored non-JSON")
    assert controller.handle(TOPIC, json.dumps({"schema": "x"}).encode()).startswith("ignored unknown")


def test_lru_is_bounded(example: ModuleType) -> None:
    seen = example.SeenIds(size=3)
    assert [seen.add(i) for i in "abcda"] == [True, True, True, True, True]  # "a" was evicted by "d"
    assert seen.add("d") is False
