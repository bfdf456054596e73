"""A small synchronous MQTT client for tests (paho-mqtt 2.x, callback API version 2).

It connects, subscribes, publishes at QoS 1 and waits for the PUBACK, collects messages, and
re-subscribes by itself after a reconnect (paho's network loop reconnects after a broker outage).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


class MqttProbeError(RuntimeError):
    """Connecting, subscribing or publishing did not succeed in time."""


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    at: float  # time.monotonic() when received


class MqttProbe:
    """One paho client on a background network loop; every wait has a timeout."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str = "",
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv311,
        keepalive: int = 10,
        reconnect_delay: tuple[int, int] = (1, 2),
    ) -> None:
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session if protocol != MQTTProtocolVersion.MQTTv5 else None,
            protocol=protocol,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(*reconnect_delay)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._cond = threading.Condition()
        self.connected = False
        self.connects: list[ReasonCode] = []  # every CONNACK's reason code, in order
        self.disconnects = 0
        self.messages: list[Received] = []  # not yet taken by expect()
        self.subscriptions: dict[str, int] = {}
        self._subacks: dict[int, list[ReasonCode]] = {}
        self._renewing: set[int] = set()  # mids of subscriptions renewed after a reconnect, not yet acked
        self._looping = False

    # -- paho callbacks (network thread) --------------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        renewing: set[int] = set()
        if not reason_code.is_failure:
            # the SUBACKs are handled on this same thread, after this callback returns: no race
            for topic, qos in self.subscriptions.items():
                _result, mid = client.subscribe(topic, qos)
                if mid is not None:
                    renewing.add(mid)
        with self._cond:
            self._renewing |= renewing
            self.connects.append(reason_code)
            self.connected = not reason_code.is_failure
            self._cond.notify_all()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self.connected = False
            self.disconnects += 1
            self._cond.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = Received(
            message.topic, bytes(message.payload), message.qos, bool(message.retain), time.monotonic()
        )
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._cond:
            if mid in self._renewing:
                self._renewing.discard(mid)
            else:
                self._subacks[mid] = reason_codes
            self._cond.notify_all()

    # -- blocking API (test thread) -------------------------------------------------------------
    def _wait(self, predicate: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout=timeout))

    def connect(self, timeout: float = 5.0, *, check: bool = True) -> ReasonCode | None:
        """Connect and start the network loop; wait for the CONNACK and return its reason code.

        With ``check`` (default) a refused or missing CONNACK raises :class:`MqttProbeError`.
        """
        before = len(self.connects)
        self.client.connect(self.host, self.port, keepalive=self.keepalive)
        if not self._looping:
            self.client.loop_start()
            self._looping = True
        if not self._wait(lambda: len(self.connects) > before, timeout):
            if check:
                raise MqttProbeError(f"no CONNACK from {self.host}:{self.port} within {timeout}s")
            return None
        code = self.connects[before]
        if check and code.is_failure:
            raise MqttProbeError(f"connection refused by {self.host}:{self.port}: {code}")
        return code

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected and every subscription renewed after a reconnect is acknowledged: a
        message published as soon as the CONNACK is in would otherwise race the renewed SUBSCRIBE."""
        return self._wait(lambda: self.connected and not self._renewing, timeout)

    def wait_disconnected(self, timeout: float = 10.0) -> bool:
        return self._wait(lambda: not self.connected, timeout)

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> list[ReasonCode]:
        """Subscribe and wait for the SUBACK; the subscription is renewed after every reconnect."""
        self.subscriptions[topic] = qos
        result, mid = self.client.subscribe(topic, qos)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise MqttProbeError(f"subscribe {topic!r} failed: {mqtt.error_string(result)}")
        if not self._wait(lambda: mid in self._subacks, timeout):
            raise MqttProbeError(f"no SUBACK for {topic!r} within {timeout}s")
        codes = self._subacks.pop(mid)
        if any(code.is_failure for code in codes):
            raise MqttProbeError(f"subscription to {topic!r} refused: {codes}")
        return codes

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False, timeout: float = 5.0
    ) -> mqtt.MQTTMessageInfo:
        """Publish and, for QoS > 0, wait for the broker's acknowledgement (PUBACK/PUBCOMP)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            info.wait_for_publish(timeout=timeout)
            if not info.is_published():
                raise MqttProbeError(f"no acknowledgement for {topic!r} within {timeout}s (rc={info.rc})")
        return info

    def expect(self, topic: str | None = None, timeout: float = 5.0) -> Received:
        """Take the oldest received message (on ``topic`` if given), waiting up to ``timeout`` seconds."""

        def find() -> Received | None:
            for message in self.messages:
                if topic is None or message.topic == topic:
                    return message
            return None

        if not self._wait(lambda: find() is not None, timeout):
            seen = [m.topic for m in self.messages]
            raise MqttProbeError(f"no message on {topic or 'any topic'} within {timeout}s (pending: {seen})")
        with self._cond:
            message = find()
            assert message is not None
            self.messages.remove(message)
            return message

    def close(self) -> None:
        """Disconnect cleanly and stop the network loop."""
        if self._looping:
            self.client.disconnect()
            self.client.loop_stop()
            self._looping = False

    def __enter__(self) -> MqttProbe:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
