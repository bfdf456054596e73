"""edge.sdnotify against a real AF_UNIX datagram socket standing in for systemd's notify socket.

Each test binds its own socket (a file in tmp_path, or a random abstract-namespace name) and points
NOTIFY_SOCKET at it, then reads what arrives. The frozen-loop test runs a fake main loop in a thread and
freezes it with an injected fault, as a hung camera or a deadlock would.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sdnotify import Notifier, Watchdog, notify_address


class NotifySocket:
    """A bound SOCK_DGRAM socket collecting sd_notify datagrams."""

    def __init__(self, address: str | bytes, env_value: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.env_value = env_value

    def recv(self, timeout: float = 2.0) -> str | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None

    def drain(self, timeout: float = 0.05) -> list[str]:
        out = []
        while (msg := self.recv(timeout)) is not None:
            out.append(msg)
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotifySocket]:
    if request.param == "path":
        path = tmp_path / "notify.sock"
        ns = NotifySocket(str(path), str(path))
    else:
        name = f"plate-edge-test-{uuid.uuid4().hex}"
        ns = NotifySocket(b"\0" + name.encode(), "@" + name)
    try:
        yield ns
    finally:
        ns.close()


def test_address_forms() -> None:
    assert notify_address(None) is None
    assert notify_address("") is None
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert notify_address("@abc") == b"\0abc"
    assert notify_address("relative/path") is None
    assert notify_address("vsock:2:1234") is None


def test_disabled_without_notify_socket() -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    assert n.watchdog_interval_s() is None
    assert n.ready() is False and n.status("x") is False and n.watchdog() is False and n.stopping() is False
    wd = Watchdog(n)
    assert not wd.enabled and wd.period_s is None
    assert wd.beat(True) is False


def test_ready_status_stopping_arrive(notify_socket: NotifySocket) -> None:
    n = Notifier.from_env({"NOTIFY_SOCKET": notify_socket.env_value})
    assert n.enabled
    assert n.ready()
    assert notify_socket.recv() == "READY=1"
    assert n.status("entry: streaming 25.0 fps\nexit: error (timeout)")
    assert notify_socket.recv() == "STATUS=entry: streaming 25.0 fps exit: error (timeout)"
    assert n.ready(status="ready: 2 cameras")
    assert notify_socket.recv() == "READY=1\nSTATUS=ready: 2 cameras"
    assert n.stopping()
    assert notify_socket.recv() == "STOPPING=1"
    assert n.reloading()
    msg = notify_socket.recv()
    assert msg is not None and msg.startswith("RELOADING=1\nMONOTONIC_USEC=")
    assert n.extend_timeout(90)
    assert notify_socket.recv() == "EXTEND_TIMEOUT_USEC=90000000"
    n.close()


def test_watchdog_interval_honours_pid() -> None:
    base = {"NOTIFY_SOCKET": "/nonexistent/notify", "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_env(base).watchdog_interval_s() == 30.0
    assert Notifier.from_env({**base, "WATCHDOG_PID": str(os.getpid())}).watchdog_interval_s() == 30.0
    assert Notifier.from_env({**base, "WATCHDOG_PID": str(os.getpid() + 1)}).watchdog_interval_s() is None
    assert Notifier.from_env({**base, "WATCHDOG_USEC": "0"}).watchdog_interval_s() is None
    assert Notifier.from_env({**base, "WATCHDOG_USEC": "junk"}).watchdog_interval_s() is None
    assert Watchdog(Notifier.from_env(base)).period_s == 15.0


def test_send_errors_never_raise_and_log_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "1000"})
    with caplog.at_level(logging.WARNING, logger="edge.sdnotify"):
        for _ in range(5):
            assert n.ready() is False
            assert n.watchdog() is False
    assert sum("sd_notify" in r.getMessage() for r in caplog.records) == 1


def test_watchdog_rate_limited_with_fake_clock(notify_socket: NotifySocket) -> None:
    now = [100.0]
    n = Notifier.from_env({"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "2000000"})
    wd = Watchdog(n, clock=lambda: now[0])
    assert wd.period_s == 1.0
    sent = []
    for _ in range(50):  # 5 s of a 10 Hz loop
        sent.append(wd.beat(True))
        now[0] += 0.1
    assert sum(sent) == 5  # t=0, 1, 2, 3, 4 (within float rounding of the 0.1 s steps)
    assert notify_socket.drain() == ["WATCHDOG=1"] * 5


def test_watchdog_withheld_when_unhealthy(
    notify_socket: NotifySocket, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    n = Notifier.from_env({"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "200000"})
    wd = Watchdog(n, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="edge.sdnotify"):
        for _ in range(30):
            assert wd.beat(False, reason="camera entry: no frame for 12 s") is False
            now[0] += 0.05
        assert notify_socket.drain() == []
        assert wd.beat(True) is True
    assert notify_socket.recv() == "WATCHDOG=1"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unhealthy" in m for m in messages) == 1  # one line per state change, not per beat
    assert any("no frame for 12 s" in m for m in messages)
    assert sum("healthy again" in m for m in messages) == 1


def test_watchdog_pings_periodically_and_stop_when_loop_freezes(notify_socket: NotifySocket) -> None:
    """A real main loop (thread, real clock) pings every ~period; an injected fault freezes it and the
    pings stop, which is what makes systemd restart a hung daemon."""
    n = Notifier.from_env({"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "200000"})
    wd = Watchdog(n)
    assert wd.period_s == pytest.approx(0.1)
    freeze = threading.Event()
    stop = threading.Event()

    def main_loop() -> None:
        while not stop.is_set():
            if freeze.is_set():  # the injected fault: the pipeline hangs (e.g. a blocked read)
                stop.wait()
                return
            wd.beat(True)
            time.sleep(0.01)

    t = threading.Thread(target=main_loop, daemon=True)
    t.start()
    try:
        arrivals: list[float] = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            if notify_socket.recv(0.5) == "WATCHDOG=1":
                arrivals.append(time.monotonic())
        # ~10 pings in 1 s at a 0.1 s period; generous bounds for a loaded CI box
        assert 6 <= len(arrivals) <= 12, arrivals
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 0.08, gaps  # rate-limited: never faster than the period
        freeze.set()
        time.sleep(0.05)  # let an in-flight iteration finish
        notify_socket.drain(0.01)
        assert notify_socket.drain(0.5) == []  # frozen loop: silence for > 2 watchdog intervals
    finally:
        stop.set()
        t.join(2)


PROGRAM = textwrap.dedent(
    """
    import json, os, sys, time
    from edge.sdnotify import Notifier, Watchdog

    n = Notifier.from_env(unset_environment=True)
    wd = Watchdog(n)
    report = {"enabled": n.enabled, "interval": n.watchdog_interval_s(),
              "env_left": "NOTIFY_SOCKET" in os.environ}
    n.status("loading models")
    n.ready()
    pings = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5:
        pings += wd.beat(True)
        time.sleep(0.01)
    n.stopping()
    report["pings"] = pings
    print(json.dumps(report))
    """
)


def _run_program(env_extra: dict[str, str]) -> dict[str, object]:
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(env_extra)
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60, cwd=root
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_subprocess_end_to_end(notify_socket: NotifySocket) -> None:
    """A separate process finds the socket and the watchdog through its environment, as under systemd."""
    report = _run_program({"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "200000"})
    assert report["enabled"] is True
    assert report["interval"] == pytest.approx(0.2)
    assert report["env_left"] is False  # unset_environment: children would not inherit it
    messages = notify_socket.drain(0.2)
    assert messages[:2] == ["STATUS=loading models", "READY=1"]
    assert messages[-1] == "STOPPING=1"
    pings = messages[2:-1]
    assert set(pings) == {"WATCHDOG=1"} and len(pings) == report["pings"]
    assert 3 <= len(pings) <= 6  # 0.5 s at a 0.1 s period


def test_subprocess_watchdog_for_another_pid(notify_socket: NotifySocket) -> None:
    """WATCHDOG_PID naming another process (inherited from a watched parent): no watchdog here."""
    report = _run_program(
        {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}
    )
    assert report["interval"] is None and report["pings"] == 0
    assert notify_socket.drain(0.2) == ["STATUS=loading models", "READY=1", "STOPPING=1"]


def test_subprocess_without_systemd() -> None:
    report = _run_program({})
    assert report == {"enabled": False, "interval": None, "env_left": False, "pings": 0}
