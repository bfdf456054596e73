"""One vehicle passage: the reads of a tracked plate, and the decisions that turn them into events.

A `Passage` lives as long as its track. Each frame adds a scored sighting; the best K (by crop quality)
are fused (`edge.fusion`). `PassageJudge` decides, per camera:

* ``plate.read`` once the fused read is valid, at least ``min_read_confidence`` and stable: either
  ``confirm_frames`` reads agree exactly, or the car has stopped (speed under `STOP_SPEED` for
  `STOP_S`) and at least one sharp read agrees, since a car waiting at the barrier must not wait longer;
* ``plate.updated`` when a later fused read, stable by the same rule, says something else;
* ``plate.read`` late, when the track ends, for a passage whose read was confident and agreed in at
  least two frames but never reached ``confirm_frames`` (a fast car, or a loaded box dropping frames):
  the car has gone, no more evidence will come, and a passage reported late is better than one lost;
* ``vehicle.left`` when the track ends, with the final read, for passages that published a read.
  A track that never became confident gets no event at all: at a real gate those are mostly static
  text (signs, a bus's destination board, stickers) that happens to parse as a plate at low confidence,
  and a controller must not be woken by them. It is logged with its best guess, for commissioning.
* De-duplication: a plate already published on this camera within ``dedup_window_s`` (or by another
  live passage) is the same passage seen again, e.g. a track broken by a pedestrian walking past. The
  new passage then publishes nothing at all: no second read, no second ``vehicle.left``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from edge.config import CameraConfig, RecognitionConfig
from edge.engine import PlateRead
from edge.events import Area, Direction, EventType, Evidence, PlateInfo, VehicleEvent
from edge.fusion import FusedRead, Observation, fuse
from edge.lists import PlateLists
from edge.plate import split_two_line
from edge.quality import BestK, Quality
from edge.tracker import Track

#: A track slower than this (plate heights per second) counts as stopped.
STOP_SPEED = 0.4
#: ... for at least this long.
STOP_S = 0.8


@dataclass(frozen=True)
class Sighting:
    """A read crop of the passage's plate, with what the snapshot and the evidence need."""

    observation: Observation
    quality: Quality
    wall: datetime
    image: np.ndarray  # the whole frame (a reference: frames are never modified after decoding)


@dataclass
class Passage:
    """The state of one tracked plate (mutable; owned by its camera worker)."""

    vehicle_id: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    best: BestK[Sighting]
    frames_seen: int = 0  # every sighting is read, so this is also the event's frames_read
    published: FusedRead | None = None  # the read last published (plate.read / plate.updated)
    duplicate: bool = False
    stopped_since: float | None = None
    snapshot: str | None = None
    fused: FusedRead | None = None

    @classmethod
    def start(cls, track: Track, wall: datetime, best_k: int) -> Passage:
        return cls(f"v-{uuid.uuid4().hex[:16]}", track.id, wall, wall, BestK(best_k))

    def observe(self, track: Track, read: PlateRead, quality: Quality, t: float, wall: datetime,
                image: np.ndarray) -> bool:  # fmt: skip
        """Add a frame's read; returns whether it entered the best K (and the fusion changed)."""
        self.frames_seen += 1
        self.last_seen = wall
        if track.speed() < STOP_SPEED:
            self.stopped_since = t if self.stopped_since is None else self.stopped_since
        else:
            self.stopped_since = None
        if not read.valid:
            return False
        sighting = Sighting(Observation(read, quality.score, t), quality, wall, image)
        kept = self.best.offer(quality.score, sighting)
        if kept:
            self.fused = fuse([s.observation for s in self.best])
        return kept

    @property
    def answer(self) -> FusedRead | None:
        """The read events carry: what was published (the barrier acted on it) unless there is none yet,
        then the latest fused read."""
        return self.published or self.fused

    def stopped(self, t: float) -> bool:
        return self.stopped_since is not None and t - self.stopped_since >= STOP_S

    def best_sighting(self) -> Sighting | None:
        """The sharpest sighting that reads the fused text (for the snapshot and the box)."""
        if self.fused is None:
            return None
        same = [s for s in self.best if s.observation.read.text == self.fused.text]
        return (same or self.best.items())[0]


class PassageJudge:
    """Event decisions for one camera (not thread-safe: the camera worker owns it)."""

    def __init__(self, site: str, camera: CameraConfig, recognition: RecognitionConfig) -> None:
        self.site = site
        self.camera = camera
        self.rec = recognition
        self.recent: dict[str, float] = {}  # plate text -> camera time it was last seen in a passage

    def _stable(self, passage: Passage, fused: FusedRead, t: float) -> bool:
        if fused.confidence < self.rec.min_read_confidence:
            return False
        if fused.agreeing >= self.rec.confirm_frames:
            return True
        return self.rec.read_on_stop and passage.stopped(t) and fused.agreeing >= 1

    def _is_duplicate(self, text: str, t: float, live: list[Passage], passage: Passage) -> bool:
        seen = self.recent.get(text)
        if seen is not None and t - seen <= self.rec.dedup_window_s:
            return True
        return any(p is not passage and p.published is not None and p.published.text == text for p in live)

    def on_frame(self, passage: Passage, t: float, live: list[Passage]) -> EventType | None:
        """After a sighting: ``plate.read`` / ``plate.updated`` when one is due now, else None."""
        fused = passage.fused
        if passage.duplicate or fused is None or not self._stable(passage, fused, t):
            return None
        if passage.published is None:
            return self._first_read(passage, fused, t, live)
        if fused.text != passage.published.text:
            passage.published = fused
            return "plate.updated"
        passage.published = fused  # same text, fresher evidence (for vehicle.left)
        return None

    def on_lost(self, passage: Passage, t: float, live: list[Passage]) -> EventType | None:
        """The track ended before its read was stable: ``plate.read`` now if the fused read is confident
        and at least two frames (``confirm_frames`` if fewer) agree on it, else None.

        Trade-off: one agreeing frame fewer than ``confirm_frames`` asks, so a little less sure, but only
        at the end of a confirmed track that read the same confident text twice; a single frame's read
        still publishes nothing (a sign or sticker read once must not wake the controller).
        """
        fused = passage.fused
        if passage.published is not None or passage.duplicate or fused is None:
            return None
        if fused.confidence < self.rec.min_read_confidence:
            return None
        if fused.agreeing < min(2, self.rec.confirm_frames):
            return None
        return self._first_read(passage, fused, t, live)

    def _first_read(
        self, passage: Passage, fused: FusedRead, t: float, live: list[Passage]
    ) -> EventType | None:
        """Publish a passage's first read unless the plate was just seen (then the passage is a repeat)."""
        if self._is_duplicate(fused.text, t, live, passage):
            passage.duplicate = True
            self.recent[fused.text] = t
            return None
        passage.published = fused
        return "plate.read"

    def on_end(self, passage: Passage, t: float) -> EventType | None:
        """The track ended: ``vehicle.left`` when the passage published a read and is not a repeat."""
        # Only a plate that went out (or a repeat of one) opens the de-duplication window: an unread
        # passage's unsure guess must not turn the next, confident passage of that plate into a "repeat".
        if passage.duplicate and passage.fused is not None:
            self.recent[passage.fused.text] = t
        if passage.published is not None:
            self.recent[passage.published.text] = t
        self._forget(t)
        if passage.duplicate or passage.published is None:
            return None
        return "vehicle.left"

    def _forget(self, t: float) -> None:
        window = self.rec.dedup_window_s
        for text in [k for k, seen in self.recent.items() if t - seen > window]:
            del self.recent[text]

    def direction(self, track: Track) -> Direction | None:
        if self.camera.direction is not None:
            return self.camera.direction
        towards = self.camera.approaching_is
        if towards is None or abs(track.growth()) < 0.02:
            return None
        if track.growth() > 0:
            return towards
        return "exit" if towards == "entry" else "entry"

    def event(
        self,
        kind: EventType,
        passage: Passage,
        track: Track,
        ts: datetime,
        lists: PlateLists,
    ) -> VehicleEvent:
        """The event for ``passage`` now, carrying `Passage.answer` and its allow/deny list match."""
        fused = passage.answer
        assert fused is not None
        best = passage.best_sighting()
        assert best is not None
        return VehicleEvent(
            type=kind,
            site=self.site,
            camera=self.camera.id,
            direction=self.direction(track),
            vehicle_id=passage.vehicle_id,
            ts=ts,
            first_seen=passage.first_seen,
            last_seen=passage.last_seen,
            plate=plate_info(fused, best.observation.read),
            evidence=Evidence(
                frames_seen=passage.frames_seen,
                frames_read=passage.frames_seen,
                agreement=fused.agreement,
                best_frame_ts=best.wall,
                sharpness=best.quality.sharpness,
            ),
            list_match=lists.lookup(fused.text),
            snapshot=passage.snapshot,
        )


def plate_info(fused: FusedRead, read: PlateRead) -> PlateInfo:
    """The event's plate: the fused text and confidence, the geometry of the best crop's read."""
    quad = tuple((float(x), float(y)) for x, y in read.quad)
    if read.text == fused.text:
        areas = tuple(
            Area(tuple((float(x), float(y)) for x, y in a.quad), a.text, a.confidence, a.chars)  # type: ignore[arg-type]
            for a in read.areas
        )
    else:  # voting corrected the text: keep the areas' boxes, give them the fused characters
        texts = split_two_line(fused.text) if len(read.areas) == 2 else (fused.text,)
        confs = list(fused.char_confidence)
        areas_list = []
        start = 0
        for a, text in zip(read.areas, texts, strict=False):
            chars = tuple(zip(text, confs[start : start + len(text)], strict=True))
            start += len(text)
            areas_list.append(
                Area(tuple((float(x), float(y)) for x, y in a.quad), text, fused.confidence, chars)  # type: ignore[arg-type]
            )
        areas = tuple(areas_list)
    return PlateInfo(
        text=fused.text,
        confidence=fused.confidence,
        valid=True,  # fusion only ever answers a grammatical plate
        kind=fused.kind,
        box=quad,  # type: ignore[arg-type]
        areas=areas,
    )
