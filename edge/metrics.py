"""Prometheus metrics of the gate daemon (issue #8): cameras, detection, events, outbox, broker, process.

`Metrics` owns one `CollectorRegistry` (never prometheus-client's global one, so tests and several apps
in one process do not collide) with every metric as an attribute. The daemon updates them; the HTTP API
serves them: pass ``registry=metrics.registry`` to `edge.api.create_app`, whose own HTTP metrics
(requests, analysis latency) then land in the same registry and ``/metrics`` shows everything.

Choices and trade-offs:

* Names follow Prometheus conventions: the ``plate_edge_`` prefix, base units (seconds), ``_total`` for
  counters (added by the client library), ratios in 0..1.
* Label values are bounded: ``camera`` comes from the config (a handful), ``reason`` and ``type`` from the
  fixed sets below. Never put a plate, URL or error text in a label: every distinct value is a new time
  series kept forever.
* `Metrics.add_camera` creates every series of a camera at zero up front, so dashboards and alerts see
  ``0`` (not "no data") before the first reconnect or drop, and ``rate()`` works from the first increment.
* FPS are gauges computed by the daemon over a short window (`RateMeter`), not counters: an installer
  reads "decoded 24.8 fps" directly, and the frame counters would be one more series per camera for a
  number Prometheus can only give back as a rate.
* The camera state is an `Enum` (one 0/1 series per state, ``plate_edge_camera_state{state="..."}``)
  plus ``plate_edge_camera_up`` (1 only when streaming), the one series an alert rule needs.
* Process RSS, CPU and open files come from prometheus-client's `ProcessCollector` (reads /proc; Linux
  only, silently empty elsewhere), Python's version from `PlatformCollector`, GC from `GCCollector`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from edge import __version__

__all__ = [
    "AGREEMENT_BUCKETS",
    "CAMERA_STATES",
    "DROP_REASONS",
    "EVENT_TYPES",
    "LATENCY_BUCKETS",
    "Metrics",
    "RateMeter",
]

#: Camera health, as in the retained ``<prefix>/<camera>/state`` message (design.md) plus ``starting``
#: (configured, no first frame yet).
CAMERA_STATES = ("starting", "streaming", "reconnecting", "error")
#: Why a decoded frame never reached the detector. ``queue_full``: the detector is slower than the camera
#: (latest frame wins); ``decode_error``: FFmpeg returned a broken frame; ``stale``: the frame was older
#: than the freshness limit when its turn came. Frames skipped on purpose (below ``detect_fps``, no motion)
#: are not drops.
DROP_REASONS = ("queue_full", "decode_error", "stale")
#: Vehicle event types (design.md, "Vehicle event").
EVENT_TYPES = ("plate.read", "plate.updated", "vehicle.left")
#: Seconds, 1 ms .. 2 s: the reader takes ~2 ms per plate, the text detector 150-300 ms per frame on two
#: cores; past 2 s the barrier SLO ("within a second") is lost anyway and +Inf says enough.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
#: Share of a vehicle's read frames agreeing with the fused text (0..1); finer near 1 where good reads are.
AGREEMENT_BUCKETS = (0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class Metrics:
    """Every metric of the daemon, registered in `registry` (its own unless one is given)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process: bool = True) -> None:
        """``process=False`` leaves out the process/platform/GC collectors (a second `Metrics` in the
        same registry, or a registry that already has them, would clash on their names)."""
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        if process:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)

        self.build_info = Info("plate_edge_build", "plate-edge version and the inference device.", registry=r)
        """``plate_edge_build_info{version, ...}``: set `set_build_info` once models are loaded."""
        self.build_info.info({"version": __version__})

        self.decoded_fps = Gauge(
            "plate_edge_camera_decoded_fps",
            "Frames per second decoded from the camera stream (short sliding window).",
            ["camera"],
            registry=r,
        )
        """Decoded frames per second per camera; 0 while the stream is down."""

        self.detect_fps = Gauge(
            "plate_edge_camera_detect_fps",
            "Frames per second run through the plate detector (at most the camera's detect_fps).",
            ["camera"],
            registry=r,
        )
        """Detector frames per second per camera; below ``detect_fps`` when the box cannot keep up, 0 when
        nothing moves and motion gating is on."""

        self.reconnects = Counter(
            "plate_edge_camera_reconnects",
            "Stream reconnect attempts after a failure or a read timeout.",
            ["camera"],
            registry=r,
        )
        """Reconnect attempts per camera (``plate_edge_camera_reconnects_total``)."""

        self.frames_dropped = Counter(
            "plate_edge_frames_dropped",
            "Decoded frames that never reached the detector, by reason (see edge.metrics.DROP_REASONS).",
            ["camera", "reason"],
            registry=r,
        )
        """Dropped frames per camera and reason (`DROP_REASONS`)."""

        self.detect_seconds = Histogram(
            "plate_edge_detect_seconds",
            "Plate detection time per frame (detector plus candidate confirmation).",
            ["camera"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        """Detection latency per frame, seconds."""

        self.read_seconds = Histogram(
            "plate_edge_read_seconds",
            "Plate reading time per detected plate (locator, reader, grammar).",
            ["camera"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        """Reading latency per plate, seconds."""

        self.events_published = Counter(
            "plate_edge_events_published",
            "Vehicle events stored in the outbox for delivery (durable), by type.",
            ["camera", "type"],
            registry=r,
        )
        """Events produced, per camera and `EVENT_TYPES` type, counted when the outbox has them (durable).
        Not yet acknowledged = `outbox_depth`; counting per type on PUBACK would need the type parsed back
        out of every acknowledged payload, for a figure the depth already gives."""

        self.outbox_depth = Gauge(
            "plate_edge_outbox_depth",
            "Events waiting in the on-disk outbox for the broker's acknowledgement.",
            registry=r,
        )
        """Pending outbox events (site-wide: one outbox per daemon). Growing = broker unreachable."""

        self.read_agreement = Histogram(
            "plate_edge_read_agreement",
            "Per vehicle: share of its read frames agreeing with the fused plate text (0..1).",
            ["camera"],
            buckets=AGREEMENT_BUCKETS,
            registry=r,
        )
        """Agreement of a vehicle's reads (the event's ``evidence.agreement``), observed once per vehicle
        when its final read is known. Sliding low = focus, glare or a misplaced camera."""

        self.camera_state = Enum(
            "plate_edge_camera_state",
            "Camera health: one series per state, 1 for the current state.",
            ["camera"],
            states=list(CAMERA_STATES),
            registry=r,
        )
        """Camera state (`CAMERA_STATES`); set it with `set_camera_state` so `camera_up` follows."""

        self.camera_up = Gauge(
            "plate_edge_camera_up", "1 when the camera is streaming, else 0.", ["camera"], registry=r
        )
        """1 while streaming, 0 otherwise: the series to alert on."""

        self.broker_connected = Gauge(
            "plate_edge_broker_connected", "1 while connected to the MQTT broker, else 0.", registry=r
        )
        """MQTT connection state (1/0)."""

        self._cameras: set[str] = set()
        self._lock = threading.Lock()

    # -- helpers the daemon calls ---------------------------------------------------------------------
    def add_camera(self, camera: str) -> None:
        """Create every series of ``camera`` at zero, state ``starting`` (idempotent)."""
        with self._lock:
            if camera in self._cameras:
                return
            self._cameras.add(camera)
        self.decoded_fps.labels(camera).set(0)
        self.detect_fps.labels(camera).set(0)
        self.reconnects.labels(camera)
        for reason in DROP_REASONS:
            self.frames_dropped.labels(camera, reason)
        self.detect_seconds.labels(camera)
        self.read_seconds.labels(camera)
        for event_type in EVENT_TYPES:
            self.events_published.labels(camera, event_type)
        self.read_agreement.labels(camera)
        self.set_camera_state(camera, "starting")

    def add_cameras(self, cameras: Iterable[str]) -> None:
        for camera in cameras:
            self.add_camera(camera)

    def set_camera_state(self, camera: str, state: str) -> None:
        """Set the `camera_state` enum and `camera_up` together. Raises ValueError for an unknown state."""
        if state not in CAMERA_STATES:
            raise ValueError(f"unknown camera state {state!r}; one of {', '.join(CAMERA_STATES)}")
        self.camera_state.labels(camera).state(state)
        self.camera_up.labels(camera).set(1 if state == "streaming" else 0)

    def set_build_info(self, **info: str) -> None:
        """Add labels to ``plate_edge_build_info`` (e.g. ``device="cuda"``, ``providers="CUDA,CPU"``)."""
        self.build_info.info({"version": __version__, **info})

    def render(self) -> tuple[bytes, str]:
        """The text exposition of every metric and its content type, for an HTTP response."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RateMeter:
    """Events per second over a sliding window (``window_s``), for the fps gauges.

    `tick` is O(1) amortised and thread-safe; `rate` is the count in the window divided by the span it
    covers (at least ``min_span_s``, so a burst just after start does not read as thousands of fps). A
    stream that stopped reads 0 once its last tick has left the window.
    """

    def __init__(
        self, window_s: float = 5.0, *, min_span_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self._clock = clock
        self._ticks: deque[float] = deque()
        self._start = clock()
        self._lock = threading.Lock()

    def tick(self, n: int = 1) -> None:
        now = self._clock()
        with self._lock:
            self._ticks.extend([now] * n)
            self._expire(now)

    def rate(self) -> float:
        now = self._clock()
        with self._lock:
            self._expire(now)
            span = max(min(self.window_s, now - self._start), self.min_span_s)
            return len(self._ticks) / span

    def _expire(self, now: float) -> None:
        cutoff = now - self.window_s
        while self._ticks and self._ticks[0] <= cutoff:
            self._ticks.popleft()
