"""The broker fixtures work: QoS 1 round trip, restart on the same port, persistence, authentication."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests.support.fixtures import MosquittoFactory, MqttClientFactory
from tests.support.mosquitto import MosquittoBroker, write_password_file
from tests.support.ports import port_accepts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def _topic(name: str) -> str:
    return f"plate-edge/test-{uuid.uuid4().hex[:8]}/{name}"


def test_qos1_round_trip_with_plain_paho(mosquitto: MosquittoBroker) -> None:
    """A QoS 1 publish is acknowledged (PUBACK) and reaches a subscriber byte for byte."""
    topic = _topic("events")
    payload = json.dumps({"schema": "plate-edge/event/1", "plate": {"text": "12가3456"}}, ensure_ascii=False)
    subscribed = threading.Event()
    received: list[mqtt.MQTTMessage] = []
    got = threading.Event()

    def on_connect(
        client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, props: Properties | None
    ) -> None:
        assert not rc.is_failure, rc
        client.subscribe(topic, qos=1)

    def on_subscribe(
        client: mqtt.Client, userdata: Any, mid: int, rcs: list[ReasonCode], props: Properties | None
    ) -> None:
        assert [rc.value for rc in rcs] == [1]  # granted QoS 1
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.append(message)
        got.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fixture-sub")
    sub.on_connect = on_connect
    sub.on_subscribe = on_subscribe
    sub.on_message = on_message
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fixture-pub")
    sub.connect(mosquitto.host, mosquitto.port, keepalive=10)
    sub.loop_start()
    pub.connect(mosquitto.host, mosquitto.port, keepalive=10)
    pub.loop_start()
    try:
        assert subscribed.wait(5), "no SUBACK"
        info = pub.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=5)
        assert info.is_published(), "no PUBACK within 5 s"
        assert got.wait(5), "subscriber received nothing"
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()
    assert len(received) == 1
    assert received[0].topic == topic
    assert received[0].qos == 1
    assert received[0].payload.decode("utf-8") == payload
    assert json.loads(received[0].payload)["plate"]["text"] == "12가3456"


def test_probe_round_trip(mosquitto: MosquittoBroker, mqtt_client: MqttClientFactory) -> None:
    topic = _topic("state")
    sub = mqtt_client()
    sub.subscribe(topic)
    pub = mqtt_client()
    for i in range(5):
        pub.publish(topic, f"msg-{i}".encode())
    got = [sub.expect(topic).payload for _ in range(5)]
    assert got == [f"msg-{i}".encode() for i in range(5)]  # QoS 1, one publisher: in order


def test_restart_same_port_and_reconnect(
    mosquitto_factory: MosquittoFactory, mqtt_client: MqttClientFactory
) -> None:
    broker = mosquitto_factory()
    port = broker.port
    topic = _topic("events")
    sub = mqtt_client(broker, client_id="restart-sub")
    sub.subscribe(topic)

    broker.stop()
    assert not broker.running
    assert not port_accepts(broker.host, port)
    assert sub.wait_disconnected(5), "client did not notice the broker going away"

    broker.start()
    assert broker.running
    assert broker.port == port
    assert sub.wait_connected(10), "client did not reconnect to the restarted broker"
    assert len(sub.connects) == 2

    pub = mqtt_client(broker)
    pub.publish(topic, b"after-restart")
    assert sub.expect(topic).payload == b"after-restart"  # re-subscribed after the reconnect


def test_crash_restart_same_port(mosquitto_factory: MosquittoFactory, mqtt_client: MqttClientFactory) -> None:
    broker = mosquitto_factory()
    port = broker.port
    client = mqtt_client(broker)
    broker.kill()
    assert client.wait_disconnected(5)
    broker.start()
    assert broker.port == port
    assert client.wait_connected(10)


def test_retained_message_survives_restart(
    mosquitto_factory: MosquittoFactory, mqtt_client: MqttClientFactory
) -> None:
    broker = mosquitto_factory()
    topic = _topic("status")
    pub = mqtt_client(broker)
    pub.publish(topic, b'{"state":"online"}', retain=True)
    pub.close()

    broker.stop()  # graceful: mosquitto writes its database to the persistence dir
    assert (broker.data_dir / "mosquitto.db").is_file()
    broker.start()

    sub = mqtt_client(broker)
    sub.subscribe(topic)
    message = sub.expect(topic)
    assert message.payload == b'{"state":"online"}'
    assert message.retain


def test_factory_with_password_file(
    mosquitto_factory: MosquittoFactory, mqtt_client: MqttClientFactory, tmp_path: Path
) -> None:
    passwd = write_password_file(tmp_path / "passwd", {"edge": "s3cret", "backend": "other"})
    broker = mosquitto_factory(f"password_file {passwd}", allow_anonymous=False)
    assert f"password_file {passwd}" in broker.conf_path.read_text()

    anonymous = mqtt_client(broker, connect=False)
    code = anonymous.connect(check=False)
    assert code is not None and code.is_failure
    anonymous.close()

    wrong = mqtt_client(broker, connect=False, username="edge", password="nope")
    code = wrong.connect(check=False)
    assert code is not None and code.is_failure
    wrong.close()

    good = mqtt_client(broker, username="edge", password="s3cret")
    topic = _topic("auth")
    good.subscribe(topic)
    good.publish(topic, b"ok")
    assert good.expect(topic).payload == b"ok"
