"""Loopback port helpers for tests that start real servers."""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that was free a moment ago (bind to port 0, read it back).

    There is an unavoidable race between closing the probe socket and the server binding the port;
    fixtures that use this retry with a fresh port when the server reports ``Address already in use``.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a TCP connection to ``host:port`` succeeds right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll until ``host:port`` accepts a TCP connection; False when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_accepts(host, port):
            return True
        time.sleep(interval)
    return False


def wait_for_port_closed(host: str, port: int, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll until ``host:port`` refuses connections; False when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_accepts(host, port):
            return True
        time.sleep(interval)
    return False
