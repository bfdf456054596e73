"""Sample vehicle events and validation against ``edge/schemas/event.schema.json``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

from edge.events import Area, Evidence, ListMatch, PlateInfo, VehicleEvent

KST = timezone(timedelta(hours=9))
T0 = datetime(2024, 5, 1, 8, 0, 0, 123000, tzinfo=KST)
BOX = ((10.0, 20.0), (130.0, 20.0), (130.0, 50.0), (10.0, 50.0))


def sample_event(
    index: int = 0, *, camera: str = "entry", site: str = "gate-1", **changes: Any
) -> VehicleEvent:
    """A complete `plate.read` event; `index` varies the vehicle id and timestamps."""
    ts = T0 + timedelta(seconds=index)
    plate = PlateInfo(
        text="12가3456",
        confidence=0.9876,
        valid=True,
        kind="private",
        box=BOX,
        areas=(Area(BOX, "12가3456", 0.9876, (("1", 0.999), ("2", 0.998), ("가", 0.95))),),
    )
    fields: dict[str, Any] = {
        "type": "plate.read",
        "site": site,
        "camera": camera,
        "direction": "entry",
        "vehicle_id": f"{camera}-{index}",
        "ts": ts,
        "first_seen": ts - timedelta(seconds=2),
        "last_seen": ts,
        "plate": plate,
        "evidence": Evidence(41, 7, 0.857, ts - timedelta(seconds=1), 312.46),
        "list_match": ListMatch("allow", "12가3456", 0),
        "snapshot": f"snapshots/{camera}/{index}.jpg",
    }
    fields.update(changes)
    return VehicleEvent(**fields)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(files("edge").joinpath("schemas", "event.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_event(obj: Any) -> dict[str, Any]:
    """Parse (bytes/str) if needed and raise ``jsonschema.ValidationError`` unless it is a valid event."""
    if isinstance(obj, bytes | str):
        obj = json.loads(obj)
    _validator().validate(obj)
    assert isinstance(obj, dict)
    return obj


def event_errors(obj: Any) -> list[str]:
    """The schema violations of ``obj`` (empty when valid)."""
    return [error.message for error in _validator().iter_errors(obj)]
