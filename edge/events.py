"""What the daemon publishes over MQTT (design.md, "MQTT contract"): types and their exact JSON.

- `VehicleEvent`: `plate-edge/event/1` on `<prefix>/<camera>/events` (QoS 1, not retained, via the outbox).
- `CameraState`: camera health, retained on `<prefix>/<camera>/state`.
- `SiteStatus`: `{"state": "online"|"offline", "ts"}`, retained on `<prefix>/status` (offline is the Will).

Only types and serialisation live here; the fusion logic that decides when a read becomes an event belongs
to the daemon. Every timestamp must be timezone-aware and is written as ISO-8601 with its offset and
millisecond precision (`2024-05-01T08:00:00.123+09:00`); naive datetimes are refused at construction, since
a barrier controller comparing a naive local time with UTC would be off by hours.

`event_id` is a fresh uuid4 for every event object and is not an `__init__` argument, so
`dataclasses.replace(event, type="plate.updated")` yields a NEW id (a copy that kept the id would be
discarded by consumers as a duplicate). A replay from the outbox re-sends the stored JSON, so a message
re-delivered after a crash keeps its id, which is what consumers de-duplicate on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "EVENT_SCHEMA",
    "NO_LIST_MATCH",
    "Area",
    "CameraState",
    "Evidence",
    "ListMatch",
    "PlateInfo",
    "SiteStatus",
    "Topics",
    "VehicleEvent",
    "isoformat",
    "now",
]

EVENT_SCHEMA = "plate-edge/event/1"

EventType = Literal["plate.read", "plate.updated", "vehicle.left"]
Direction = Literal["entry", "exit"]
CameraHealth = Literal["streaming", "reconnecting", "error"]
Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


def now() -> datetime:
    """The current local time with its UTC offset (what every `ts` should be)."""
    return datetime.now().astimezone()


def isoformat(ts: datetime) -> str:
    """ISO-8601 with offset and milliseconds; raises ValueError for a naive datetime."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamp {ts!r} has no timezone; use edge.events.now() or an aware datetime")
    return ts.isoformat(timespec="milliseconds")


def _dumps(obj: Mapping[str, Any]) -> str:
    # Compact, Hangul as UTF-8 (the MQTT payload is the UTF-8 encoding of this string).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _quad(points: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in points]


def _check_aware(*stamps: datetime) -> None:
    for ts in stamps:
        isoformat(ts)


@dataclass(frozen=True)
class Area:
    """One text line of the plate, as in the analysis JSON (`box`, `text`, `confidence`, `chars`)."""

    box: Quad
    text: str
    confidence: float
    chars: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": _quad(self.box),
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "chars": [{"char": c, "confidence": round(v, 3)} for c, v in self.chars],
        }


@dataclass(frozen=True)
class PlateInfo:
    """The fused read of a vehicle's plate (the analysis plate without `detection_confidence`)."""

    text: str
    confidence: float
    valid: bool
    kind: str
    box: Quad
    areas: tuple[Area, ...] = ()

    @classmethod
    def from_analysis(cls, plate: Mapping[str, Any]) -> PlateInfo:
        """From one entry of the analysis JSON's `plates` (edge.analysis.plate_json)."""
        return cls(
            text=plate["text"],
            confidence=plate["confidence"],
            valid=plate["valid"],
            kind=plate["kind"],
            box=tuple(tuple(p) for p in plate["box"]),  # type: ignore[arg-type]
            areas=tuple(
                Area(
                    box=tuple(tuple(p) for p in a["box"]),  # type: ignore[arg-type]
                    text=a["text"],
                    confidence=a["confidence"],
                    chars=tuple((c["char"], c["confidence"]) for c in a["chars"]),
                )
                for a in plate["areas"]
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "valid": self.valid,
            "kind": self.kind,
            "box": _quad(self.box),
            "areas": [area.to_dict() for area in self.areas],
        }


@dataclass(frozen=True)
class Evidence:
    """How the read was reached: frames with the vehicle, frames read, agreement of the reads (0..1)."""

    frames_seen: int
    frames_read: int
    agreement: float
    best_frame_ts: datetime
    sharpness: float

    def __post_init__(self) -> None:
        _check_aware(self.best_frame_ts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames_seen": self.frames_seen,
            "frames_read": self.frames_read,
            "agreement": round(self.agreement, 3),
            "best_frame_ts": isoformat(self.best_frame_ts),
            "sharpness": round(self.sharpness, 1),
        }


@dataclass(frozen=True)
class ListMatch:
    """Allow/deny list result; all None when the plate is on no list (`NO_LIST_MATCH`)."""

    name: Literal["allow", "deny"] | None = None
    matched: str | None = None
    distance: float | None = None  # weighted: look-alike substitutions cost 0.5 (edge.lists)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "matched": self.matched, "distance": self.distance}


NO_LIST_MATCH = ListMatch()


def _new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class VehicleEvent:
    """A vehicle event (`plate-edge/event/1`). `list_match` is serialised as `list`."""

    type: EventType
    site: str
    camera: str
    direction: Direction | None
    vehicle_id: str
    ts: datetime
    first_seen: datetime
    last_seen: datetime
    plate: PlateInfo
    evidence: Evidence
    list_match: ListMatch = NO_LIST_MATCH
    snapshot: str | None = None
    event_id: str = field(init=False, default_factory=_new_event_id)

    def __post_init__(self) -> None:
        _check_aware(self.ts, self.first_seen, self.last_seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": EVENT_SCHEMA,
            "event_id": self.event_id,
            "type": self.type,
            "site": self.site,
            "camera": self.camera,
            "direction": self.direction,
            "vehicle_id": self.vehicle_id,
            "ts": isoformat(self.ts),
            "first_seen": isoformat(self.first_seen),
            "last_seen": isoformat(self.last_seen),
            "plate": self.plate.to_dict(),
            "evidence": self.evidence.to_dict(),
            "list": self.list_match.to_dict(),
            "snapshot": self.snapshot,
        }

    def to_json(self) -> str:
        return _dumps(self.to_dict())


@dataclass(frozen=True)
class CameraState:
    """Camera health: `streaming` (with fps), `reconnecting`, or `error` (with a reason)."""

    camera: str
    state: CameraHealth
    ts: datetime
    fps: float | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _check_aware(self.ts)

    def to_dict(self) -> dict[str, Any]:
        fps = round(self.fps, 1) if self.fps is not None else None
        return {
            "camera": self.camera,
            "state": self.state,
            "fps": fps,
            "reason": self.reason,
            "ts": isoformat(self.ts),
        }

    def to_json(self) -> str:
        return _dumps(self.to_dict())


@dataclass(frozen=True)
class SiteStatus:
    """`{"state": "online"|"offline", "ts"}`. In the Last Will, `ts` is when that connection was made (the
    broker sends the Will verbatim and cannot stamp the moment it fired)."""

    state: Literal["online", "offline"]
    ts: datetime

    def __post_init__(self) -> None:
        _check_aware(self.ts)

    def to_json(self) -> str:
        return _dumps({"state": self.state, "ts": isoformat(self.ts)})


@dataclass(frozen=True)
class Topics:
    """The topic names under a prefix (`plate-edge/<site>` by default)."""

    prefix: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    def events(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/events"

    def state(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/state"
