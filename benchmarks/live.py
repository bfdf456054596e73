"""Helpers for the live benchmarks: a broker, RTSP cameras playing the bench clip, a daemon in process.

They reuse the test fixtures' servers (`tests/support`: mosquitto and GStreamer's RTSP server, the same
the integration tests use) and run `edge.service.GateService` in this process with the real publisher, so
the measurement covers decode, recognition, the SQLite outbox and MQTT.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.common import site


@dataclass
class Live:
    """A running gate: broker, cameras, service; what arrived over MQTT and when."""

    service: Any
    broker: Any
    servers: list[Any]
    received: dict[str, tuple[float, dict[str, Any]]] = field(
        default_factory=dict
    )  # event_id -> (mono, event)
    produced: dict[str, tuple[float | None, float]] = field(default_factory=dict)  # id -> (frame, enqueue)


@contextlib.contextmanager
def live_gate(clip: Path, cameras: int, detector: str | None, detect_fps: float = 10.0) -> Iterator[Live]:
    from edge.publisher import Publisher
    from edge.recognizer import load_recognizer
    from edge.service import GateService
    from tests.support.mosquitto import MosquittoBroker
    from tests.support.rtsp import RtspServer

    with tempfile.TemporaryDirectory(prefix="plate-edge-bench-") as tmp:
        root = Path(tmp)
        broker = MosquittoBroker(root / "mosquitto")
        broker.start()
        servers = [
            RtspServer(clip, mount=f"/cam{i}", loop=True, log_path=root / f"rtsp{i}.log")
            for i in range(cameras)
        ]
        for server in servers:
            server.start()
        cams = [
            {"id": f"cam{i}", "url": s.url, "detect_fps": detect_fps, "read_timeout_s": 5}
            for i, s in enumerate(servers)
        ]
        config = site(root / "state", broker.port, cams, detector)
        recognizer = load_recognizer(detector=config.recognition.detector)
        assert recognizer.detector is not None
        live: Live | None = None

        def on_event(event: Any) -> None:
            assert live is not None
            frame = live.service.workers[event.camera].stats.event_frame_mono
            live.produced[event.event_id] = (frame, time.monotonic())

        service = GateService(
            config, recognizer.engine, recognizer.detector, Publisher.from_config(config), on_event=on_event
        )
        live = Live(service, broker, servers)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-watcher")

        def on_message(c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
            event = json.loads(m.payload)
            assert live is not None
            live.received[event["event_id"]] = (time.monotonic(), event)

        client.on_message = on_message
        client.connect(broker.host, broker.port)
        client.subscribe("plate-edge/bench/+/events", qos=1)
        client.loop_start()
        loop = threading.Thread(target=service.run, daemon=True)
        service.start()
        loop.start()
        try:
            yield live
        finally:
            service.request_stop()
            loop.join(5)
            service.stop()
            client.loop_stop()
            client.disconnect()
            for server in servers:
                server.stop()
            broker.stop()


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
