"""Plate tracks across frames: a small ByteTrack-style tracker with constant-velocity prediction.

One track is one vehicle passage as far as geometry can tell; the daemon attaches reads and events to it.
Design choices, all driven by gate cameras:

* We track the **plate** box, not the vehicle: it is what the detector gives and what we read. Plates are
  small and, at 5-10 detections per second, a moving car's plate can shift by more than its own width
  between two detections, so plain IoU often sees 0 overlap. Matching therefore uses IoU against the
  velocity-predicted box, and falls back to a centre-distance gate scaled by the box size (with a size
  ratio check) when there is no overlap.
* ByteTrack's two stages: confident detections are matched first and may start tracks; weak detections
  (between ``low_score`` and ``high_score``: blur, glare, a plate half out of frame) only extend existing
  tracks. Weak evidence thus keeps a track alive through a bad frame without inventing new vehicles.
* A track is *confirmed* after ``min_hits`` matched frames, so a single false detection never becomes a
  vehicle; it ends after ``lost_s`` seconds without a match (a missed frame or a short occlusion keeps
  its id). Time comes from the caller's frame clock, so a file replayed faster than real time behaves
  like the live camera.
* Greedy matching by descending affinity instead of the Hungarian method: a gate lane holds one to three
  plates, where greedy is optimal in practice, and it needs no scipy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from edge.detector import box_iou

Box = tuple[float, float, float, float]  # x1, y1, x2, y2


@dataclass(frozen=True)
class TrackerDetection:
    """A detection handed to the tracker; ``ref`` is the caller's object, returned with the match."""

    box: Box
    score: float
    ref: object = None


@dataclass
class Track:
    """A tracked plate. Mutable and owned by the tracker; callers read it between updates."""

    id: int
    box: Box
    score: float
    first_t: float
    last_t: float
    hits: int = 1
    velocity: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # box units per second
    confirmed: bool = False
    history: list[tuple[float, Box]] = field(default_factory=list)

    def predict(self, t: float) -> Box:
        """The box expected at time ``t`` under constant velocity."""
        dt = max(0.0, t - self.last_t)
        return (
            self.box[0] + self.velocity[0] * dt,
            self.box[1] + self.velocity[1] * dt,
            self.box[2] + self.velocity[2] * dt,
            self.box[3] + self.velocity[3] * dt,
        )

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def speed(self) -> float:
        """Centre speed in box heights per second (scale-free: near and far plates compare)."""
        vx = (self.velocity[0] + self.velocity[2]) / 2
        vy = (self.velocity[1] + self.velocity[3]) / 2
        height = max(1.0, self.box[3] - self.box[1])
        return float((vx * vx + vy * vy) ** 0.5 / height)

    def growth(self) -> float:
        """Relative change of box height per second: > 0 approaching the camera, < 0 moving away."""
        height = max(1.0, self.box[3] - self.box[1])
        return (self.velocity[3] - self.velocity[1]) / height


def affinity(predicted: Box, det: Box, max_jump: float = 2.5) -> float:
    """Match score in [0, 1]: IoU when the boxes overlap, else a distance score that is positive only
    while the centres are within ``max_jump`` box widths and the sizes within a factor of two."""
    overlap = box_iou(predicted, det)
    if overlap > 0:
        return 0.5 + 0.5 * overlap  # any overlap beats any non-overlapping candidate
    pw, ph = predicted[2] - predicted[0], predicted[3] - predicted[1]
    dw, dh = det[2] - det[0], det[3] - det[1]
    if min(pw, ph, dw, dh) <= 0:
        return 0.0
    ratio = (dw * dh) / (pw * ph)
    if not 0.5 <= ratio <= 2.0:
        return 0.0
    dx = (predicted[0] + predicted[2] - det[0] - det[2]) / 2
    dy = (predicted[1] + predicted[3] - det[1] - det[3]) / 2
    dist = (dx * dx + dy * dy) ** 0.5 / max(pw, dw)
    return float(max(0.0, 0.5 * (1.0 - dist / max_jump)))


class Tracker:
    """Two-stage (high/low score) greedy tracker. Not thread-safe: one per camera worker."""

    def __init__(
        self,
        high_score: float = 0.5,
        low_score: float = 0.2,
        min_hits: int = 2,
        lost_s: float = 2.0,
        min_affinity: float = 0.1,
        velocity_smoothing: float = 0.5,
    ) -> None:
        if not 0 <= low_score <= high_score <= 1:
            raise ValueError("need 0 <= low_score <= high_score <= 1")
        self.high_score, self.low_score = high_score, low_score
        self.min_hits, self.lost_s = min_hits, lost_s
        self.min_affinity = min_affinity
        self.alpha = velocity_smoothing
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def update(
        self, t: float, detections: Sequence[TrackerDetection]
    ) -> tuple[list[tuple[Track, TrackerDetection]], list[Track]]:
        """Advance to time ``t`` with this frame's detections.

        Returns ``(matched, ended)``: the (track, detection) pairs updated this frame (confirmed and
        tentative tracks alike; check ``track.confirmed``), and the tracks that ended now (unseen for
        ``lost_s``; only confirmed ones are returned, a tentative track that dies was never a vehicle).
        """
        high = [d for d in detections if d.score >= self.high_score]
        low = [d for d in detections if self.low_score <= d.score < self.high_score]
        pool = list(self.tracks)
        matched = self._match(t, pool, high)
        pool = [tr for tr in pool if all(tr is not m for m, _ in matched)]
        matched += self._match(t, pool, low)
        used = {id(d) for _, d in matched}
        for det in high:
            if id(det) not in used:
                track = Track(next(self._ids), det.box, det.score, t, t, history=[(t, det.box)])
                track.confirmed = self.min_hits <= 1
                self.tracks.append(track)
                matched.append((track, det))
        ended: list[Track] = []
        alive: list[Track] = []
        for track in self.tracks:
            if t - track.last_t >= self.lost_s:
                if track.confirmed:
                    ended.append(track)
            else:
                alive.append(track)
        self.tracks = alive
        return matched, ended

    def finish(self) -> list[Track]:
        """End every confirmed track (end of a file, shutdown) and forget the rest."""
        ended = [tr for tr in self.tracks if tr.confirmed]
        self.tracks = []
        return ended

    def _match(
        self, t: float, tracks: list[Track], dets: list[TrackerDetection]
    ) -> list[tuple[Track, TrackerDetection]]:
        pairs = []
        for ti, track in enumerate(tracks):
            predicted = track.predict(t)
            for di, det in enumerate(dets):
                score = affinity(predicted, det.box)
                if score >= self.min_affinity:
                    pairs.append((score, ti, di))
        pairs.sort(reverse=True)
        taken_t: set[int] = set()
        taken_d: set[int] = set()
        out = []
        for _, ti, di in pairs:
            if ti in taken_t or di in taken_d:
                continue
            taken_t.add(ti)
            taken_d.add(di)
            self._apply(tracks[ti], dets[di], t)
            out.append((tracks[ti], dets[di]))
        return out

    def _apply(self, track: Track, det: TrackerDetection, t: float) -> None:
        dt = t - track.last_t
        if dt > 0:
            measured = tuple((n - o) / dt for n, o in zip(det.box, track.box, strict=True))
            a = self.alpha if track.hits > 1 else 1.0  # the first step has no velocity to smooth
            track.velocity = tuple(  # type: ignore[assignment]
                a * m + (1 - a) * v for m, v in zip(measured, track.velocity, strict=True)
            )
        track.box = det.box
        track.score = det.score
        track.last_t = t
        track.hits += 1
        track.history.append((t, det.box))
        del track.history[:-50]  # enough for direction and stop detection; bounded memory
        if track.hits >= self.min_hits:
            track.confirmed = True
