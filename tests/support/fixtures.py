"""Types of the factory fixtures in tests/conftest.py, for annotating test functions."""

from __future__ import annotations

from collections.abc import Callable

from .mosquitto import MosquittoBroker
from .mqtt import MqttProbe
from .rtsp import RtspServer, SilentServer

#: ``mosquitto_factory(extra_conf="", *, allow_anonymous=True, port=None, start=True)``
MosquittoFactory = Callable[..., MosquittoBroker]
#: ``mqtt_client(broker=None, *, connect=True, **MqttProbe kwargs)``
MqttClientFactory = Callable[..., MqttProbe]
#: ``rtsp_server(file, *, mount="/cam", loop=False, shared=False, tcp_only=False, port=0, start=True)``
RtspServerFactory = Callable[..., RtspServer]
#: ``silent_server(mode="silent" | "close" | "garbage")``
SilentServerFactory = Callable[..., SilentServer]
