"""MQTT delivery that loses nothing: the publisher against a real Mosquitto (outage, kill -9, Last Will)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.config_schema import Backoff, MqttConfig
from edge.events import CameraState, now
from edge.outbox import Outbox
from edge.publisher import Publisher
from tests.support.events import assert_event, sample_event
from tests.support.fixtures import MosquittoFactory, MqttClientFactory
from tests.support.mosquitto import MosquittoBroker
from tests.support.mqtt import MqttProbe
from tests.support.ports import LOOPBACK, free_port
from tests.support.publisher_proc import PublisherProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PublisherFactory = Callable[..., Publisher]


def _prefix() -> str:
    return f"plate-edge/t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_publisher(tmp_path: Path) -> Iterator[PublisherFactory]:
    """In-process publishers with a sub-second backoff and an outbox under tmp_path; stopped after."""
    made: list[Publisher] = []

    def make(broker: MosquittoBroker, prefix: str, **mqtt: object) -> Publisher:
        cfg = MqttConfig.model_validate(
            {
                "host": broker.host,
                "port": broker.port,
                "client_id": f"pub-{uuid.uuid4().hex[:6]}",
                "keepalive_s": 5,
                "reconnect": Backoff(initial_s=0.1, max_s=0.5),
                **mqtt,
            }
        )
        publisher = Publisher(cfg, prefix, Outbox(tmp_path / f"outbox{len(made)}.sqlite3"), owns_outbox=True)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.stop(timeout=2)


def _event_ids(sub: MqttProbe, topic: str, count: int, timeout: float = 10.0) -> list[str]:
    """`count` messages from `topic`, each valid against the event schema: their event ids, in order."""
    return [assert_event(sub.expect(topic, timeout=timeout).payload)["event_id"] for _ in range(count)]


def _drain_extra(sub: MqttProbe, topic: str, wait: float = 0.3) -> list[str]:
    """Duplicates that may still arrive (at-least-once), to be ignored by a de-duplicating consumer."""
    extra: list[str] = []
    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            extra.append(json.loads(sub.expect(topic, timeout=remaining).payload)["event_id"])
        except Exception:
            break
    return extra


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_broker_outage_loses_nothing(
    mosquitto_factory: MosquittoFactory,
    mqtt_client: MqttClientFactory,
    make_publisher: PublisherFactory,
    protocol: str,
) -> None:
    """Broker stopped while N events are produced, restarted after 2 s: exactly those N arrive, in order.

    Five more are published just before the stop without waiting, so some are in flight when the link
    drops: they may arrive twice (at-least-once), never zero times.
    """
    broker = mosquitto_factory()
    prefix = _prefix()
    topic = f"{prefix}/entry/events"
    # A persistent subscriber session: the broker queues for it while it reconnects after the restart.
    sub = mqtt_client(broker, client_id=f"sub-{uuid.uuid4().hex[:6]}", clean_session=False)
    sub.subscribe(topic)
    publisher = make_publisher(broker, prefix, protocol=protocol)
    publisher.start()
    assert publisher.wait_connected(5)
    in_flight = [sample_event(i) for i in range(5)]
    for event in in_flight:
        publisher.publish_event(event)
    broker.stop()
    assert sub.wait_disconnected(5)
    during = [sample_event(i) for i in range(5, 25)]
    for event in during:
        publisher.publish_event(event)
    assert publisher.outbox_depth >= 20 and not publisher.connected
    time.sleep(2)
    broker.start()

    assert publisher.drain(15), f"outbox not empty: {publisher.outbox_depth}"
    produced = [event.event_id for event in in_flight + during]
    received = _event_ids(sub, topic, 25) + _drain_extra(sub, topic)
    assert set(received) == set(produced)  # none lost, none invented; duplicates allowed
    assert list(dict.fromkeys(received)) == produced  # first copies in production order
    assert len(received) - 25 <= 5  # duplicates only for what was in flight at the cut
    assert publisher.outbox_depth == 0 and publisher.connects == 2
    assert publisher.events_published == 25


def test_status_and_camera_state_are_retained(
    mosquitto: MosquittoBroker, mqtt_client: MqttClientFactory, make_publisher: PublisherFactory
) -> None:
    prefix = _prefix()
    publisher = make_publisher(mosquitto, prefix)
    publisher.publish_camera_state(CameraState("entry", "reconnecting", now()))  # before connecting: kept
    publisher.publish_camera_state(CameraState("entry", "streaming", now(), fps=9.81))  # latest wins
    watch = mqtt_client()  # sees them live; once both are in, the broker holds them retained
    watch.subscribe(f"{prefix}/#")
    publisher.start()
    assert publisher.wait_connected(5)
    watch.expect(f"{prefix}/status", timeout=5)
    assert json.loads(watch.expect(f"{prefix}/entry/state", timeout=5).payload)["state"] == "streaming"

    late = mqtt_client()
    late.subscribe(f"{prefix}/#")
    got = {m.topic: m for m in (late.expect(timeout=5) for _ in range(2))}
    status, state = got[f"{prefix}/status"], got[f"{prefix}/entry/state"]
    assert status.retain and json.loads(status.payload)["state"] == "online"
    assert state.retain and json.loads(state.payload)["state"] == "streaming"
    assert json.loads(state.payload)["fps"] == 9.8

    publisher.stop()  # graceful: the retained status says offline (a Will is not sent on DISCONNECT)
    message = late.expect(f"{prefix}/status", timeout=5)
    assert json.loads(message.payload)["state"] == "offline"


@pytest.mark.slow
def test_kill_9_with_unacknowledged_events_then_restart(
    mosquitto_factory: MosquittoFactory, mqtt_client: MqttClientFactory, tmp_path: Path
) -> None:
    """The publishing process dies (kill -9) holding N unacknowledged events; a new one delivers them all."""
    broker = mosquitto_factory()
    prefix = _prefix()
    topic = f"{prefix}/entry/events"
    db = tmp_path / "outbox.sqlite3"
    sub = mqtt_client(broker)
    sub.subscribe(topic)

    broker.stop()
    first = PublisherProcess(broker.host, broker.port, db, prefix, put=30)
    first.wait_for("PUT 30")
    first.kill()
    with Outbox(db) as outbox:  # what the dead process left behind
        stored = [json.loads(item.payload)["event_id"] for item in outbox.pending()]
    assert len(set(stored)) == 30

    broker.start()
    assert sub.wait_connected(10)
    sub.subscribe(topic)  # wait for the SUBACK before anything is replayed
    second = PublisherProcess(broker.host, broker.port, db, prefix)
    second.wait_for("DRAINED")
    received = _event_ids(sub, topic, 30) + _drain_extra(sub, topic)
    second.stop()
    assert set(received) == set(stored)
    assert list(dict.fromkeys(received)) == stored
    with Outbox(db) as outbox:
        assert outbox.depth == 0


@pytest.mark.slow
def test_last_will_after_kill_9(
    mosquitto: MosquittoBroker, mqtt_client: MqttClientFactory, tmp_path: Path
) -> None:
    prefix = _prefix()
    status_topic = f"{prefix}/status"
    db = tmp_path / "outbox.sqlite3"

    def retained_state() -> str:
        probe = mqtt_client()
        probe.subscribe(status_topic)
        message = probe.expect(status_topic, timeout=5)
        probe.close()
        assert message.retain
        payload = json.loads(message.payload)
        assert set(payload) == {"state", "ts"} and payload["ts"][-6] in "+-"
        return str(payload["state"])

    proc = PublisherProcess(mosquitto.host, mosquitto.port, db, prefix)
    proc.wait_for("CONNECTED")
    assert retained_state() == "online"
    proc.kill()  # the socket closes without DISCONNECT: the broker publishes the Will at once
    deadline = time.monotonic() + 5
    while (state := retained_state()) != "offline" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state == "offline"

    again = PublisherProcess(mosquitto.host, mosquitto.port, db, prefix)
    again.wait_for("CONNECTED")
    assert retained_state() == "online"
    again.stop()


@pytest.mark.slow
def test_kill_9_during_write_burst_keeps_the_outbox_intact(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite3"
    proc = PublisherProcess(LOOPBACK, free_port(), db, _prefix(), burst=True)  # no broker: nothing acked
    proc.wait_for("PUT 300", timeout=30)
    proc.kill()
    committed = proc.puts()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with Outbox(db) as outbox:
        items = outbox.pending()
    # Every put that returned is on disk (at most one more, killed between commit and print).
    assert committed <= len(items) <= committed + 1
    for item in items:
        assert_event(item.payload)
