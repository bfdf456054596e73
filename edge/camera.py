"""One camera's recognition loop: frames in, vehicle events out.

    FrameSource (thread) -> [1-slot latest-frame buffer] -> CameraWorker (thread) -> emit(event)
                                                              motion gate, detect, read, track,
                                                              quality, fusion, passage decisions

The worker never blocks on the network: ``emit`` hands events to the publisher's on-disk outbox (an
SQLite insert), which survives broker outages. Frames may be dropped (a stale frame is worthless at a
gate); events never are. Models are shared between cameras: ONNX Runtime sessions are thread-safe and
the detector is serialised by the recognizer's lock.

The worker's ``heartbeat`` (monotonic time of its last loop iteration) lets the service tell a frozen
worker from an idle one; the systemd watchdog depends on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge.config import CameraConfig, RecognitionConfig
from edge.detector import Detection, PlateDetector, PlateReadingEngine, read_candidates
from edge.engine import PlateRead
from edge.events import EventType, VehicleEvent, now
from edge.lists import PlateLists
from edge.metrics import Metrics
from edge.motion import MotionGate, roi_mask
from edge.passage import Passage, PassageJudge
from edge.quality import crop_quality
from edge.snapshots import SnapshotStore
from edge.source import Frame, FrameSource
from edge.tracker import Track, Tracker, TrackerDetection

log = logging.getLogger(__name__)

#: An invalid read of a detected plate is weak evidence: it may extend a track, never start one.
WEAK_SCORE = 0.3


@dataclass
class WorkerStats:
    """Counters for metrics and STATUS (written by the worker thread only)."""

    frames: int = 0
    detect_runs: int = 0
    detect_s: float = 0.0
    read_s: float = 0.0
    events: int = 0
    event_frame_mono: float | None = None  # live cameras: when the frame behind the last event arrived


class CameraWorker:
    """Runs the recognition loop of one camera in its own thread."""

    def __init__(
        self,
        site: str,
        camera: CameraConfig,
        recognition: RecognitionConfig,
        source: FrameSource,
        detector: PlateDetector,
        engine: PlateReadingEngine,
        emit: Callable[[VehicleEvent], None],
        lists: PlateLists | None = None,
        snapshots: SnapshotStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.camera = camera
        self.rec = recognition
        self.source = source
        self.detector = detector
        self.engine = engine
        self.emit = emit
        self.lists = lists or PlateLists([])
        self.snapshots = snapshots
        self.metrics = metrics
        self.motion = MotionGate(
            camera.roi,
            camera.motion.threshold,
            camera.motion.min_area_fraction,
            enabled=camera.motion.enabled,
        )
        self.tracker = Tracker(
            high_score=max(recognition.min_detection_confidence, WEAK_SCORE + 0.01),
            low_score=min(WEAK_SCORE, recognition.min_detection_confidence),
            lost_s=recognition.track_lost_s,
        )
        self.judge = PassageJudge(site, camera, recognition)
        self.passages: dict[int, Passage] = {}
        self.stats = WorkerStats()
        self.heartbeat = time.monotonic()
        self.finished = threading.Event()  # a file camera played to its end and every passage closed
        self._roi_mask: np.ndarray | None = None
        self._last_t = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- loop ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.heartbeat = time.monotonic()
                frame = self.source.get(timeout=0.25)
                if frame is None:
                    if self.source.ended.is_set():
                        self._close_all(self._last_t + self.rec.track_lost_s, None)
                        self.finished.set()
                        return
                    if self.camera.is_stream:  # camera silent: let tracks expire on the wall clock
                        self._expire(time.monotonic(), None)
                    continue
                self.process(frame)
        except Exception:
            log.exception("camera %s: recognition loop failed", self.camera.id)
            raise

    def process(self, frame: Frame) -> None:
        """One sampled frame through motion, detection, tracking, reading and event decisions."""
        self.stats.frames += 1
        self._last_t = frame.t
        busy = bool(self.tracker.tracks)
        moving = self.motion.update(frame.image, frame.t)
        self.source.idle = not (moving or busy)
        if not (moving or busy):
            self._expire(frame.t, frame)
            return
        t0 = time.perf_counter()
        detections = [d for d in self.detector.detect(frame.image) if self._wanted(d, frame.image)]
        t1 = time.perf_counter()
        reads = read_candidates(frame.image, detections, self.engine)
        t2 = time.perf_counter()
        self.stats.detect_runs += 1
        self.stats.detect_s += t1 - t0
        self.stats.read_s += t2 - t1
        if self.metrics is not None:
            self.metrics.detect_seconds.labels(self.camera.id).observe(t1 - t0)
            if reads:
                self.metrics.read_seconds.labels(self.camera.id).observe((t2 - t1) / len(reads))
        tracked = []
        for det, read in reads:
            # A grammatical read is evidence of a plate in its own right (a detector may score a dirty or
            # tilted plate low); an ungrammatical one only ever extends a track.
            score = max(det.confidence, read.confidence) if read.valid else min(det.confidence, WEAK_SCORE)
            x1, y1 = np.asarray(read.quad).min(axis=0)
            x2, y2 = np.asarray(read.quad).max(axis=0)
            tracked.append(TrackerDetection((float(x1), float(y1), float(x2), float(y2)), score, (det, read)))
        matched, ended = self.tracker.update(frame.t, tracked)
        live = list(self.passages.values())
        for track, tdet in matched:
            det, read = tdet.ref  # type: ignore[misc]
            self._sighting(track, det, read, frame, live)
        for track in ended:
            self._end(track, frame)
        self._forget_dropped()

    def _wanted(self, det: Detection, image: np.ndarray) -> bool:
        if det.confidence < min(self.rec.min_detection_confidence, WEAK_SCORE):
            return False
        x1, y1, x2, y2 = det.box
        if y2 - y1 < self.camera.min_plate_height_px:
            return False
        mask = self._mask_for(image)
        cx = min(mask.shape[1] - 1, max(0, (x1 + x2) // 2))
        cy = min(mask.shape[0] - 1, max(0, (y1 + y2) // 2))
        return bool(mask[cy, cx])

    def _mask_for(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self._roi_mask is None or self._roi_mask.shape != (h, w):
            self._roi_mask = roi_mask(self.camera.roi, (w, h))
        return self._roi_mask

    def _sighting(
        self, track: Track, det: Detection, read: PlateRead, frame: Frame, live: list[Passage]
    ) -> None:
        passage = self.passages.get(track.id)
        if passage is None:
            passage = self.passages[track.id] = Passage.start(track, frame.wall, self.rec.best_k)
        quality = crop_quality(frame.image, np.asarray(read.quad), det.confidence)
        improved = passage.observe(track, read, quality, frame.t, frame.wall, frame.image)
        if not track.confirmed:
            return
        kind = self.judge.on_frame(passage, frame.t, live)
        if kind is not None or (improved and passage.published is not None):
            self._save_snapshot(passage)
        if kind is not None:
            self._publish(kind, passage, track, frame)

    def _end(self, track: Track, frame: Frame | None) -> None:
        passage = self.passages.pop(track.id, None)
        if passage is None:
            return
        t = frame.t if frame is not None else track.last_t + self.rec.track_lost_s
        late = self.judge.on_lost(passage, t, list(self.passages.values()))
        if late is not None:
            self._save_snapshot(passage)
            self._publish(late, passage, track, frame)
        kind = self.judge.on_end(passage, t)
        if kind is None:
            if passage.published is None and not passage.duplicate:
                guess = passage.fused
                log.info(
                    "camera %s: track %d ended unread (best guess %s at %.2f, %d frames)",
                    self.camera.id, track.id, guess.text if guess else "none",
                    guess.confidence if guess else 0.0, passage.frames_seen,
                )  # fmt: skip
            return
        self._save_snapshot(passage)
        self._publish(kind, passage, track, frame)

    def _expire(self, t: float, frame: Frame | None) -> None:
        _, ended = self.tracker.update(t, [])
        for track in ended:
            self._end(track, frame)
        self._forget_dropped()

    def _forget_dropped(self) -> None:
        # A tentative track that dies (one stray detection) is dropped by the tracker without an "ended"
        # report; its passage holds frames, so forget it here or a long-running gate leaks memory.
        alive = {track.id for track in self.tracker.tracks}
        for track_id in [tid for tid in self.passages if tid not in alive]:
            del self.passages[track_id]

    def _close_all(self, t: float, frame: Frame | None) -> None:
        self._expire(t, frame)
        for track in self.tracker.finish():
            self._end(track, frame)

    def _save_snapshot(self, passage: Passage) -> None:
        best = passage.best_sighting()
        if self.snapshots is None or best is None:
            return
        passage.snapshot = self.snapshots.save(
            self.camera.id, passage.vehicle_id, passage.first_seen, best.image,
            np.asarray(best.observation.read.quad),
        )  # fmt: skip

    def _publish(self, kind: EventType, passage: Passage, track: Track, frame: Frame | None) -> None:
        ts = frame.wall if frame is not None else now()
        event = self.judge.event(kind, passage, track, ts, self.lists)
        # For latency measurement (benchmarks/latency.py): the arrival time of the frame that made this
        # event, read by an `on_event` hook, which runs in this thread right after `emit` stores it.
        self.stats.event_frame_mono = frame.t if frame is not None and self.camera.is_stream else None
        self.emit(event)
        self.stats.events += 1
        # One line per event; the fields are structured (JSON keys with --log-format json).
        log.info(
            "%s", kind,
            extra={
                "camera": self.camera.id,
                "plate": event.plate.text,
                "confidence": round(event.plate.confidence, 3),
                "agreement": round(event.evidence.agreement, 3),
                "agreeing": passage.answer.agreeing if passage.answer else 0,
                "frames": passage.frames_seen,
                "vehicle_id": passage.vehicle_id,
                "list": event.list_match.name,
            },
        )  # fmt: skip
