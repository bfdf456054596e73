"""Shared fixtures: a real Mosquitto broker, stand-in RTSP cameras, synthetic H.264 clips.

Fixtures (see tests/support/ for the classes they return):

- ``mosquitto`` (session): a running :class:`MosquittoBroker` (``.host``, ``.port``, ``.stop()``,
  ``.kill()``, ``.start()`` on the same port). A test that stops it must start it again (or call
  ``ensure_running()``); a test that needs its own broker uses ``mosquitto_factory``.
- ``mosquitto_factory``: ``(extra_conf="", *, allow_anonymous=True, port=None, start=True)
  -> MosquittoBroker``; every broker it made is stopped after the test.
- ``mqtt_client``: ``(broker=None, **MqttProbe kwargs) -> MqttProbe``, connected (to ``mosquitto``
  unless ``broker`` is given); closed after the test.
- ``synthetic_clip`` (session): a :class:`ClipInfo` for a 60-frame, 25 fps, 320x240 MP4 with a
  keyframe every 10 frames, each frame carrying its index (``read_frame_index``).
- ``rtsp_server``: ``(file, *, mount="/cam", loop=False, shared=False, tcp_only=False, port=0,
  start=True) -> RtspServer`` (``.url``, ``.stop()``, ``.kill()``, ``.start()`` on the same port);
  every server it made is stopped after the test.
- ``silent_server``: ``(mode="silent"|"close"|"garbage") -> SilentServer`` (``.url``), a TCP server
  that accepts and never speaks RTSP; stopped after the test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.clips import ClipInfo, write_synthetic_clip
from tests.support.fixtures import (
    MosquittoFactory,
    MqttClientFactory,
    RtspServerFactory,
    SilentServerFactory,
)
from tests.support.mosquitto import MOSQUITTO, MosquittoBroker
from tests.support.mqtt import MqttProbe
from tests.support.rtsp import SERVER_SCRIPT, SYSTEM_PYTHON, RtspServer, SilentMode, SilentServer


def _require(path: str, what: str) -> None:
    if shutil.which(path) is None:
        pytest.fail(f"{what} not found at {path}: run `make sysdeps` (scripts/sysdeps.sh)", pytrace=False)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A Mosquitto broker for the whole session on a free loopback port."""
    _require(MOSQUITTO, "mosquitto")
    broker = MosquittoBroker(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoFactory]:
    """Start brokers with a custom config (password file, ACL, TLS...); all stopped after the test."""
    _require(MOSQUITTO, "mosquitto")
    brokers: list[MosquittoBroker] = []

    def make(
        extra_conf: str = "", *, allow_anonymous: bool = True, port: int | None = None, start: bool = True
    ) -> MosquittoBroker:
        broker = MosquittoBroker(
            tmp_path_factory.mktemp("mosquitto"),
            port=port,
            extra_conf=extra_conf,
            allow_anonymous=allow_anonymous,
        )
        brokers.append(broker)
        if start:
            broker.start()
        return broker

    try:
        yield make
    finally:
        for broker in brokers:
            broker.stop()


@pytest.fixture
def mqtt_client(request: pytest.FixtureRequest) -> Iterator[MqttClientFactory]:
    """Connected test clients (to the session ``mosquitto`` unless a broker is passed); closed after."""
    clients: list[MqttProbe] = []

    def make(broker: MosquittoBroker | None = None, *, connect: bool = True, **kwargs: Any) -> MqttProbe:
        if broker is None:
            broker = request.getfixturevalue("mosquitto")
            broker.ensure_running()
        client = MqttProbe(broker.host, broker.port, **kwargs)
        clients.append(client)
        if connect:
            client.connect()
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


@pytest.fixture(scope="session")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> ClipInfo:
    """60 frames (2.4 s at 25 fps), 320x240, keyframe every 10 frames, frame i carries index i."""
    return write_synthetic_clip(tmp_path_factory.mktemp("clips") / "synthetic.mp4", 60, fps=25, gop=10)


@pytest.fixture
def rtsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServerFactory]:
    """Serve H.264 files over RTSP from a GStreamer subprocess; every server stopped after the test."""
    _require(SYSTEM_PYTHON, "system python with gi")
    servers: list[RtspServer] = []

    def make(
        file: Path,
        *,
        mount: str = "/cam",
        loop: bool = False,
        shared: bool = False,
        tcp_only: bool = False,
        port: int = 0,
        start: bool = True,
    ) -> RtspServer:
        logdir = tmp_path_factory.mktemp("rtsp")
        server = RtspServer(
            Path(file),
            mount=mount,
            port=port,
            loop=loop,
            shared=shared,
            tcp_only=tcp_only,
            log_path=logdir / "rtsp_server.log",
        )
        servers.append(server)
        if start:
            server.start()
        return server

    assert SERVER_SCRIPT.is_file(), SERVER_SCRIPT
    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def silent_server() -> Iterator[SilentServerFactory]:
    """TCP servers that accept RTSP clients and never answer properly; stopped after the test."""
    servers: list[SilentServer] = []

    def make(mode: SilentMode = "silent") -> SilentServer:
        server = SilentServer(mode)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
