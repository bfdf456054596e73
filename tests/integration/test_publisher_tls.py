"""The publisher against a secured broker: mutual TLS, password file, ACL (Mosquitto via mosquitto_factory).

One broker layout for all tests: the main listener is plain TCP (the test subscriber, user ``admin``, reads
everything); a second listener on ``tls_port`` requires TLS with a client certificate; both need a user
name and password, and the ACL lets user ``edge`` write only under ``plate-edge/gate-1/``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.config_schema import MqttConfig
from edge.outbox import Outbox
from edge.publisher import Publisher
from tests.support.events import assert_event, sample_event
from tests.support.fixtures import MosquittoFactory, MqttClientFactory
from tests.support.mosquitto import MosquittoBroker, write_password_file
from tests.support.mqtt import MqttProbe, MqttProbeError
from tests.support.ports import free_port
from tests.support.tls import Pki, make_pki

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ACL = """\
user edge
topic readwrite plate-edge/gate-1/#

user admin
topic read #
"""


@dataclass(frozen=True)
class SecureBroker:
    broker: MosquittoBroker
    tls_port: int
    pki: Pki
    tmp: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def secure(mosquitto_factory: MosquittoFactory, pki: Pki, tmp_path: Path) -> SecureBroker:
    passwd = write_password_file(tmp_path / "passwd", {"edge": "S3cret-edge-pw", "admin": "root-pw"})
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    tls_port = free_port()
    conf = f"""\
password_file {passwd}
acl_file {acl}
listener {tls_port} 127.0.0.1
cafile {pki.ca.cert}
certfile {pki.server.cert}
keyfile {pki.server.key}
require_certificate true
"""
    return SecureBroker(mosquitto_factory(conf, allow_anonymous=False), tls_port, pki, tmp_path)


@pytest.fixture
def publishers() -> Iterator[list[Publisher]]:
    made: list[Publisher] = []
    yield made
    for publisher in made:
        publisher.stop(timeout=2)


def _publisher(
    secure: SecureBroker,
    made: list[Publisher],
    *,
    password: str = "S3cret-edge-pw",
    prefix: str = "plate-edge/gate-1",
    **kw: Any,
) -> Publisher:
    auth_retry_s = kw.pop("auth_retry_s", 60.0)
    password_file = secure.tmp / f"password-{uuid.uuid4().hex[:6]}"
    password_file.write_text(password + "\n")
    tls = {
        "ca_file": secure.pki.ca.cert,
        "cert_file": secure.pki.client.cert,
        "key_file": secure.pki.client.key,
    }
    cfg = MqttConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": secure.tls_port,
            "tls": tls,
            "username": "edge",
            "password_file": password_file,
            "client_id": f"gate-{uuid.uuid4().hex[:6]}",
            "keepalive_s": 5,
            "reconnect": {"initial_s": 0.1, "max_s": 0.2},
            **kw,
        }
    )
    outbox = Outbox(secure.tmp / f"outbox-{uuid.uuid4().hex[:6]}.sqlite3")
    publisher = Publisher(cfg, prefix, outbox, auth_retry_s=auth_retry_s, owns_outbox=True)
    made.append(publisher)
    return publisher


def _admin(secure: SecureBroker, mqtt_client: MqttClientFactory) -> MqttProbe:
    sub = mqtt_client(secure.broker, username="admin", password="root-pw")
    sub.subscribe("plate-edge/#")
    return sub


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_mutual_tls_and_password(
    secure: SecureBroker, mqtt_client: MqttClientFactory, publishers: list[Publisher], protocol: str
) -> None:
    sub = _admin(secure, mqtt_client)
    publisher = _publisher(secure, publishers, protocol=protocol)
    publisher.start()
    assert publisher.wait_connected(10), secure.broker.log_text()[-2000:]
    assert json.loads(sub.expect("plate-edge/gate-1/status").payload)["state"] == "online"
    event = sample_event()
    publisher.publish_event(event)
    message = sub.expect("plate-edge/gate-1/entry/events")
    assert message.qos == 1 and not message.retain
    assert assert_event(message.payload)["event_id"] == event.event_id
    assert publisher.drain(5) and publisher.events_published == 1


@pytest.mark.slow
def test_wrong_password_one_clear_error_and_slow_retries(
    secure: SecureBroker, publishers: list[Publisher], caplog: pytest.LogCaptureFixture
) -> None:
    """Backoff 0.1-0.2 s would mean ~20 CONNECTs in 4 s; a refused login waits auth_retry_s between tries."""
    publisher = _publisher(secure, publishers, password="Wr0ng-pw-x", auth_retry_s=1.5)
    broker_log_before = secure.broker.log_text().count(f"on port {secure.tls_port}.")
    with caplog.at_level(logging.INFO, logger="edge.publisher"):
        publisher.start()
        time.sleep(4.0)
        attempts = publisher.connect_attempts
        broker_connects = secure.broker.log_text().count(f"on port {secure.tls_port}.") - broker_log_before
        assert not publisher.connected
        assert 2 <= attempts <= 4, attempts  # t = 0, 1.5, 3.0 s
        assert 2 <= broker_connects <= 4, secure.broker.log_text()[-2000:]
        assert publisher.auth_failures == attempts
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, errors  # once per episode, not once per attempt
        assert f"127.0.0.1:{secure.tls_port}" in errors[0] and "'edge'" in errors[0]
        assert "Bad user name or password" in errors[0] or "Not authorized" in errors[0]
        assert "S3cret-edge-pw" not in caplog.text and "Wr0ng-pw-x" not in caplog.text  # never log a password

        # The installer fixes the password file: picked up at the next retry, no restart.
        assert publisher.cfg.password_file is not None
        publisher.cfg.password_file.write_text("S3cret-edge-pw\n")
        assert publisher.wait_connected(5)
    assert any("accepted user 'edge' now" in r.getMessage() for r in caplog.records)


def test_untrusted_server_certificate_is_logged(
    secure: SecureBroker, publishers: list[Publisher], caplog: pytest.LogCaptureFixture
) -> None:
    publisher = _publisher(secure, publishers, tls={"ca_file": secure.pki.other_ca.cert})
    with caplog.at_level(logging.WARNING, logger="edge.publisher"):
        publisher.start()
        deadline = time.monotonic() + 5
        while "CERTIFICATE_VERIFY_FAILED" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a few more attempts with the 0.1-0.2 s backoff
    assert not publisher.connected
    warnings = [r.getMessage() for r in caplog.records if "CERTIFICATE_VERIFY_FAILED" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once per outage
    assert publisher.connect_attempts >= 2


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_acl_denied_topic_never_reaches_subscribers(
    secure: SecureBroker,
    mqtt_client: MqttClientFactory,
    publishers: list[Publisher],
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    sub = _admin(secure, mqtt_client)
    intruder = _publisher(secure, publishers, prefix="plate-edge/gate-2", protocol=protocol)
    allowed = _publisher(secure, publishers, protocol=protocol)
    intruder.start()
    allowed.start()
    assert intruder.wait_connected(10) and allowed.wait_connected(10)
    with caplog.at_level(logging.ERROR, logger="edge.publisher"):
        intruder.publish_event(sample_event(camera="entry", site="gate-2"))
        assert intruder.drain(5)  # PUBACKed (3.1.1: silently dropped by the broker; 5: refused)
    allowed.publish_event(sentinel := sample_event())
    assert assert_event(sub.expect("plate-edge/gate-1/entry/events").payload)["event_id"] == sentinel.event_id
    with pytest.raises(MqttProbeError):
        sub.expect("plate-edge/gate-2/entry/events", timeout=0.3)
    assert not [m.topic for m in sub.messages if m.topic.startswith("plate-edge/gate-2/")]
    if protocol == "5":  # MQTT 5 tells us: counted and logged, not retried forever
        assert (intruder.events_rejected, intruder.events_published) == (1, 0)
        assert "rejected an event on plate-edge/gate-2/entry/events" in caplog.text
    else:
        assert intruder.events_published == 1  # 3.1.1 cannot report it: the broker's log is the only trace
