"""`plate-edge run` as a child process for end-to-end tests, with its config and an MQTT event collector.

The daemon runs exactly as an operator starts it (``python -m edge run --config FILE``) in its own process
group, logging to a file the test prints on failure. `SiteWatcher` subscribes to the site's topics and
keeps every vehicle event and camera state in arrival order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from .processes import die_with_parent, kill_group, tail

REPO = Path(__file__).resolve().parents[2]
DEMO_CLIP = REPO / "demo" / "gate.mp4"
DEMO_TRUTH = REPO / "demo" / "gate.json"


def demo_plates() -> list[str]:
    """The plate texts of the bundled demo clip, in order of appearance."""
    truth = json.loads(DEMO_TRUTH.read_text(encoding="utf-8"))
    return [v["text"] for v in truth["vehicles"]]


def site_config(
    tmp: Path,
    broker_port: int,
    cameras: Sequence[Mapping[str, Any]],
    *,
    site: str = "gate-1",
    http_port: int | None = None,
    recognition: Mapping[str, Any] | None = None,
) -> Path:
    """Write a site config for a local broker and ``cameras`` (camera keys as in the YAML); its path."""
    cams = []
    for cam in cameras:
        entry: dict[str, Any] = {
            "detect_fps": 5,
            "open_timeout_s": 5,
            "read_timeout_s": 3,
            "reconnect": {"initial_s": 0.5, "max_s": 2},
        }
        entry.update(cam)
        cams.append(entry)
    config = {
        "site": site,
        "mqtt": {"host": "127.0.0.1", "port": broker_port, "reconnect": {"initial_s": 0.5, "max_s": 2}},
        "cameras": cams,
        "recognition": dict(recognition or {}),
        "storage": {"state_dir": str(tmp / "state"), "snapshot_retention_days": 1},
        "http": {"enabled": http_port is not None, "port": http_port or 8080},
        "logging": {"format": "text", "level": "INFO"},
    }
    path = tmp / "site.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


class Daemon:
    """``python -m edge run --config FILE`` in its own process group; ``stop`` sends SIGTERM."""

    def __init__(self, config: Path, env: Mapping[str, str] | None = None, args: Sequence[str] = ()) -> None:
        self.log_path = config.with_suffix(f".{time.monotonic_ns()}.log")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edge", "run", "--config", str(config), *args],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def log(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
        return self.proc.returncode

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SiteWatcher:
    """Subscribes to ``<prefix>/#`` and records events and camera states as they arrive."""

    def __init__(
        self, host: str, port: int, prefix: str = "plate-edge/gate-1", *, persistent_id: str | None = None
    ) -> None:
        """``persistent_id``: a fixed client id with a persistent session, so the broker keeps the
        subscription and queues QoS 1 messages across this client's (or the broker's) absence."""
        self.prefix = prefix
        self.events: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.status: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=persistent_id or f"watcher-{time.monotonic_ns()}",
            clean_session=persistent_id is None,
        )
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(f"{prefix}/#", qos=1)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("could not subscribe to the site's topics")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = json.loads(message.payload)
        payload["_at"] = time.monotonic()  # arrival, for timing assertions
        payload["_retained"] = bool(message.retain)
        with self._cond:
            if message.topic.endswith("/events"):
                self.events.append(payload)
            elif message.topic.endswith("/state"):
                self.states.append(payload)
            elif message.topic.endswith("/status"):
                self.status.append(payload)
            self._cond.notify_all()

    def wait(self, predicate: Callable[[SiteWatcher], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def of_type(self, kind: str, camera: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e["type"] == kind and (camera is None or e["camera"] == camera)]

    def camera_states(self, camera: str) -> list[str]:
        with self._cond:
            return [s["state"] for s in self.states if s["camera"] == camera]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def __enter__(self) -> SiteWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
