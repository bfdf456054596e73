"""The daemon under systemd's notify protocol, against a real Unix datagram socket as NOTIFY_SOCKET.

* the real `plate-edge run` process: READY=1 only once the camera streams, WATCHDOG=1 periodically, STATUS
  lines with camera state and fps; STOPPING=1 on SIGTERM;
* in process: a detector that hangs (the injected fault) freezes a camera's loop; the main loop sees the
  stale heartbeat and the watchdog pings stop, so systemd would restart the service.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.config import load_config
from edge.detector import Detection
from edge.publisher import Publisher
from edge.recognizer import load_recognizer
from edge.sdnotify import Notifier, Watchdog
from edge.service import GateService
from tests.support.daemon import DEMO_CLIP, Daemon, site_config
from tests.support.fixtures import RtspServerFactory
from tests.support.mosquitto import MosquittoBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Datagrams:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.received: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096).decode()
            except (TimeoutError, OSError):
                continue
            for line in data.splitlines():
                self.received.append((time.monotonic(), line))

    def lines(self, prefix: str) -> list[tuple[float, str]]:
        return [(t, line) for t, line in list(self.received) if line.startswith(prefix)]

    def wait(self, prefix: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lines(prefix):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.mark.slow
def test_ready_after_first_frame_then_watchdog_pings_and_status(
    tmp_path: Path, mosquitto: MosquittoBroker, rtsp_server: RtspServerFactory
) -> None:
    server = rtsp_server(DEMO_CLIP, loop=True)
    config = site_config(tmp_path, mosquitto.port, [{"id": "entry", "url": server.url}])
    notify = Datagrams(tmp_path / "notify.sock")
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "2000000"}
    try:
        with Daemon(config, env=env) as daemon:
            assert notify.wait("READY=1", timeout=60), daemon.log()
            ready_at = notify.lines("READY=1")[0][0]
            assert "camera streaming camera=entry" in daemon.log(200)  # the first frame came before READY
            time.sleep(4)
            pings = [t for t, _ in notify.lines("WATCHDOG=1") if t > ready_at]
            assert len(pings) >= 3, notify.received  # every ~1 s (half of WatchdogSec=2)
            status = notify.lines("STATUS=")[-1][1]
            assert "entry: streaming" in status and "fps" in status and "broker up" in status
            assert daemon.stop() == 0
        assert notify.wait("STOPPING=1", timeout=2)
    finally:
        notify.close()


class HangingDetector:
    """Finds nothing until ``hang`` is set, then blocks forever (a wedged inference call)."""

    name = "hanging"

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.release = threading.Event()

    def detect(self, image: np.ndarray) -> list[Detection]:
        if self.hang.is_set():
            self.release.wait(60)
        return []


def test_watchdog_pings_stop_when_a_camera_loop_freezes(tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    cam = {"id": "entry", "url": str(DEMO_CLIP), "pace": "realtime", "motion": {"enabled": False}}
    config = load_config(site_config(tmp_path, mosquitto.port, [cam]))
    notify = Datagrams(tmp_path / "notify.sock")
    notifier = Notifier(str(tmp_path / "notify.sock"), watchdog_usec=1_000_000)
    detector = HangingDetector()
    engine = load_recognizer(detector="none").engine
    service = GateService(
        config, engine, detector, Publisher.from_config(config),
        notifier=notifier, watchdog=Watchdog(notifier), heartbeat_stale_s=1.5,
    )  # fmt: skip
    service.start()
    loop = threading.Thread(target=service.run, kwargs={"tick_s": 0.1}, daemon=True)
    loop.start()
    try:
        assert notify.wait("READY=1", timeout=20)
        time.sleep(2)
        healthy_pings = len(notify.lines("WATCHDOG=1"))
        assert healthy_pings >= 3
        detector.hang.set()  # the fault: the camera's recognition loop wedges inside the detector
        time.sleep(1.5 + 1.0)  # heartbeat goes stale, then one more ping period
        frozen_from = len(notify.lines("WATCHDOG=1"))
        time.sleep(2.0)
        assert len(notify.lines("WATCHDOG=1")) == frozen_from  # no more pings: systemd would restart us
        assert "UNHEALTHY (camera entry: recognition loop stuck" in notify.lines("STATUS=")[-1][1]
    finally:
        detector.release.set()
        service.request_stop()
        loop.join(5)
        service.stop()
        notify.close()
