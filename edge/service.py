"""The gate daemon: every configured camera, the MQTT publisher and the HTTP server in one process.

Threads: per camera a `FrameSource` (decode) and a `CameraWorker` (recognition); the publisher's pump and
paho's network thread; uvicorn's server thread; and the **main loop** (`GateService.run`), which owns
health. Once a second it checks that every worker's heartbeat is fresh, reports readiness and status to
systemd, refreshes retained camera state with the measured fps, and purges old snapshots hourly. Only the
main loop pings the systemd watchdog, and only while everything is healthy, so a hung worker or a frozen
main loop stops the pings and systemd restarts the service.

Models are loaded once and shared by all cameras (see `edge.camera`). Video-file cameras (testing,
commissioning, the demo) end at the end of the file; when every camera is a file and all have finished,
the daemon drains the outbox and exits 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from edge.camera import CameraWorker
from edge.config import Config
from edge.detector import PlateDetector, PlateReadingEngine
from edge.events import CameraState, VehicleEvent, now
from edge.lists import PlateLists
from edge.metrics import Metrics
from edge.outbox import OutboxFull
from edge.sdnotify import Notifier, Watchdog
from edge.snapshots import SnapshotStore
from edge.source import FrameSource

log = logging.getLogger(__name__)

#: A worker whose loop has not come round for this long is hung (its source blocks at most ~0.25 s).
HEARTBEAT_STALE_S = 15.0
STATE_REFRESH_S = 30.0
RECENT_EVENTS = 50
PURGE_EVERY_S = 3600.0


class EventSink(Protocol):
    """What the service needs from `edge.publisher.Publisher`."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...
    def publish_event(self, event: VehicleEvent) -> int: ...
    def publish_camera_state(self, state: CameraState) -> None: ...
    def drain(self, timeout: float) -> bool: ...

    @property
    def connected(self) -> bool: ...

    @property
    def outbox_depth(self) -> int: ...


class SystemdNotifier(Protocol):
    """What the service needs from `edge.sdnotify.Notifier` (a no-op outside systemd)."""

    def ready(self) -> object: ...
    def status(self, text: str) -> object: ...
    def stopping(self) -> object: ...


class HealthWatchdog(Protocol):
    """What the service needs from `edge.sdnotify.Watchdog`: pings only while ``healthy``."""

    def beat(self, healthy: bool, reason: str = "") -> object: ...


class GateService:
    """Builds and supervises the camera pipelines; `run` is the main loop (blocks until stopped)."""

    def __init__(
        self,
        config: Config,
        engine: PlateReadingEngine,
        detector: PlateDetector,
        publisher: EventSink,
        *,
        lists: PlateLists | None = None,
        notifier: SystemdNotifier | None = None,
        watchdog: HealthWatchdog | None = None,
        metrics: Metrics | None = None,
        on_event: Callable[[VehicleEvent], None] | None = None,
        heartbeat_stale_s: float = HEARTBEAT_STALE_S,
    ) -> None:
        self.config = config
        self.publisher = publisher
        self.notifier: SystemdNotifier = notifier or Notifier(None)
        self.watchdog: HealthWatchdog = watchdog or Watchdog(Notifier(None))
        self.metrics = metrics or Metrics()
        self.registry = self.metrics.registry
        self.metrics.add_cameras(c.id for c in config.cameras)
        self.on_event = on_event
        self.heartbeat_stale_s = heartbeat_stale_s
        self.lists = lists or PlateLists([])
        storage = config.storage
        self.snapshots = SnapshotStore(
            storage.state_dir, storage.snapshot_retention_days, storage.save_full_frame
        )
        self.sources: dict[str, FrameSource] = {}
        self.workers: dict[str, CameraWorker] = {}
        for camera in config.cameras:
            source = FrameSource(camera, on_state=self._camera_state)
            self.sources[camera.id] = source
            self.workers[camera.id] = CameraWorker(
                config.site, camera, config.recognition, source, detector, engine,
                self._emit, self.lists, self.snapshots, self.metrics,
            )  # fmt: skip
        self.events_refused = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        self.ready_sent = False
        self._stop = threading.Event()
        self._seen: dict[str, tuple[int, int, int, float]] = {}  # last counters, for metric deltas

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.publisher.start()
        self.snapshots.purge()
        for camera_id, source in self.sources.items():
            source.start()
            self.workers[camera_id].start()
        log.info("started %d cameras", len(self.sources))

    def request_stop(self) -> None:
        """Ask the main loop to stop (signal handlers call this)."""
        self._stop.set()

    def stop(self) -> None:
        self.notifier.stopping()
        for source in self.sources.values():
            source.stop(timeout=2.0)
        for worker in self.workers.values():
            worker.stop()
        self.publisher.stop()

    def run(self, tick_s: float = 1.0) -> int:
        """The main loop; returns the exit code once stopped or once every file camera has finished."""
        last_refresh = last_purge = time.monotonic()
        files_only = bool(self.sources) and not any(c.is_stream for c in self.config.cameras)
        while not self._stop.wait(tick_s):
            dead = [cid for cid, w in self.workers.items() if not w.alive and not w.finished.is_set()]
            if dead:  # a crashed loop will not come back: exit non-zero so systemd restarts us now
                log.critical("camera %s: recognition thread died; exiting for a restart", ", ".join(dead))
                return 1
            problem = self.health_problem()
            if not self.ready_sent and self.cameras_settled():
                self.notifier.ready()
                self.ready_sent = True
                log.info("ready")
            self.watchdog.beat(problem is None, problem or "")
            self.notifier.status(self.status_line(problem))
            self._update_metrics()
            mono = time.monotonic()
            if mono - last_refresh >= STATE_REFRESH_S:
                last_refresh = mono
                self._refresh_states()
            if mono - last_purge >= PURGE_EVERY_S:
                last_purge = mono
                self.snapshots.purge()
            if files_only and all(w.finished.is_set() for w in self.workers.values()):
                log.info("every camera file has been played; draining the outbox")
                self.publisher.drain(timeout=10.0)
                break
        return 0

    # --- health ----------------------------------------------------------------------------------------
    def cameras_settled(self) -> bool:
        """Every camera delivered a first frame or was marked in error (READY=1 waits for this)."""
        return all(s.state is not None or s.ended.is_set() for s in self.sources.values())

    def health_problem(self) -> str | None:
        """None when every worker thread is alive (or finished its file) and its loop came round
        recently; else what is wrong. A camera that is down is NOT a health problem: its source keeps
        reconnecting and a restart would not bring the camera back."""
        now = time.monotonic()
        for camera_id, worker in self.workers.items():
            if worker.finished.is_set():
                continue
            if not worker.alive:
                return f"camera {camera_id}: recognition thread died"
            if now - worker.heartbeat > self.heartbeat_stale_s:
                return f"camera {camera_id}: recognition loop stuck for {now - worker.heartbeat:.0f} s"
        return None

    def status_line(self, problem: str | None = None) -> str:
        """One line for systemd's STATUS= (shown by `systemctl status`): health, cameras, broker."""
        parts = [f"{cid}: {s.state or 'starting'} {s.stats.fps:.1f} fps" for cid, s in self.sources.items()]
        broker = "broker up" if self.publisher.connected else "broker down"
        line = "; ".join([*parts, broker, f"outbox {self.publisher.outbox_depth}"])
        return f"UNHEALTHY ({problem}); {line}" if problem else line

    def live(self) -> dict[str, Any]:
        """Camera states and the newest events, for the page (`GET /v1/live`)."""
        cameras = {
            cid: {"state": s.state or "starting", "reason": s.reason, "fps": round(s.stats.fps, 1)}
            for cid, s in self.sources.items()
        }
        return {"cameras": cameras, "events": list(self.recent)}

    def readiness_checks(self) -> dict[str, Callable[[], Mapping[str, Any]]]:
        """`/readyz` checks: ``cameras`` (every camera streaming) and ``broker`` (connected)."""

        def cameras() -> Mapping[str, Any]:
            states = self.live()["cameras"]
            return {"ready": all(c["state"] == "streaming" for c in states.values()), "cameras": states}

        def broker() -> Mapping[str, Any]:
            return {"ready": self.publisher.connected, "outbox_depth": self.publisher.outbox_depth}

        return {"cameras": cameras, "broker": broker}

    def _update_metrics(self) -> None:
        m = self.metrics
        for cid, source in self.sources.items():
            worker = self.workers[cid]
            reconnects, dropped, detects, seen_at = self._seen.get(cid, (0, 0, 0, time.monotonic()))
            mono = time.monotonic()
            m.decoded_fps.labels(cid).set(source.stats.fps if source.state == "streaming" else 0.0)
            m.reconnects.labels(cid).inc(source.stats.reconnects - reconnects)
            m.frames_dropped.labels(cid, "queue_full").inc(source.stats.dropped_stale - dropped)
            if mono > seen_at:
                m.detect_fps.labels(cid).set((worker.stats.detect_runs - detects) / (mono - seen_at))
            self._seen[cid] = (
                source.stats.reconnects,
                source.stats.dropped_stale,
                worker.stats.detect_runs,
                mono,
            )
        m.outbox_depth.set(self.publisher.outbox_depth)
        m.broker_connected.set(1 if self.publisher.connected else 0)

    # --- callbacks -------------------------------------------------------------------------------------
    def _emit(self, event: VehicleEvent) -> None:
        try:
            self.publisher.publish_event(event)
        except OutboxFull:
            self.events_refused += 1  # the alarm: logged loudly and counted; the barrier gets nothing
            log.error(
                "outbox full (%d events waiting for the broker): %s for %s NOT stored",
                self.publisher.outbox_depth, event.type, event.plate.text,
            )  # fmt: skip
            return
        self.metrics.events_published.labels(event.camera, event.type).inc()
        self.recent.appendleft(event.to_dict())
        if event.type != "plate.read":
            self.metrics.read_agreement.labels(event.camera).observe(event.evidence.agreement)
        if self.on_event is not None:
            self.on_event(event)

    def _camera_state(self, state: CameraState) -> None:
        self.metrics.set_camera_state(state.camera, state.state)
        self.publisher.publish_camera_state(state)

    def _refresh_states(self) -> None:
        for cid, source in self.sources.items():
            if source.state == "streaming":
                self.publisher.publish_camera_state(CameraState(cid, "streaming", now(), source.stats.fps))
