"""deploy/mosquitto/ run for real: the gate broker's config, its per-site ACL, and the bridge to a central
broker with store-and-forward across a central outage.

The shipped files are used as they are, with only paths and ports rewritten to a temporary folder
(`render`): every directive the rewrite expects must be present, so a change to the shipped files that
the test does not understand fails here instead of being silently tested around.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.fixtures import MosquittoFactory, MqttClientFactory
from tests.support.mosquitto import MOSQUITTO, MosquittoBroker, write_password_file
from tests.support.mqtt import MqttProbe, MqttProbeError
from tests.support.ports import free_port
from tests.support.tls import Pki, make_pki

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
PASSWORDS = {
    "gate-1": "gate-1-pw",
    "gate-2": "gate-2-pw",
    "barrier.gate-1": "barrier-pw",
    "consumer.backend": "backend-pw",
}


def render(text: str, replacements: Mapping[str, str | None]) -> str:
    """``text`` with each line starting with a key of ``replacements`` (a directive, possibly with its
    first argument, e.g. ``"listener 8883"``) replaced by the value, or dropped when the value is None.
    Every key must match at least one line."""
    out, used = [], set()
    for line in text.splitlines():
        key = next((k for k in replacements if re.match(re.escape(k) + r"(\s|$)", line)), None)
        if key is None:
            out.append(line)
            continue
        used.add(key)
        value = replacements[key]
        if value is not None:
            out.append(value)
    missing = set(replacements) - used
    assert not missing, f"directives not found in the shipped file: {sorted(missing)}"
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


class GateBroker(MosquittoBroker):
    """A MosquittoBroker whose whole config is deploy/mosquitto/gate.conf, rewritten to ``workdir``."""

    def __init__(self, workdir: Path, pki: Pki, conf_d: Path) -> None:
        super().__init__(workdir, allow_anonymous=False)
        self.pki = pki
        self.tls_port = free_port()
        self.conf_d = conf_d
        workdir.mkdir(parents=True, exist_ok=True)
        self.passwd = write_password_file(workdir / "passwd", PASSWORDS)
        self.acl = workdir / "acl"
        self.acl.write_text((DEPLOY / "acl").read_text())  # the ACL has no paths: used verbatim

    def render_conf(self) -> str:
        conf = render(
            (DEPLOY / "gate.conf").read_text(),
            {
                "pid_file": None,
                "persistence_location": f"persistence_location {self.data_dir}/",
                "password_file": f"password_file {self.passwd}",
                "acl_file": f"acl_file {self.acl}",
                "listener 1883": f"listener {self.port} {self.host}",
                "listener 8883": f"listener {self.tls_port} {self.host}",
                "certfile": f"certfile {self.pki.server.cert}",
                "keyfile": f"keyfile {self.pki.server.key}",
                "cafile": f"cafile {self.pki.ca.cert}",
                "include_dir": f"include_dir {self.conf_d}",
            },
        )
        if os.geteuid() == 0:  # as root mosquitto drops to user "mosquitto", who cannot read pytest's tmp
            conf = "user root\n" + conf
        return conf


@pytest.fixture
def gate_factory(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[list[GateBroker]]:
    made: list[GateBroker] = []
    yield made
    for broker in made:
        broker.stop()


def start_gate(made: list[GateBroker], tmp: Path, pki: Pki, bridge_conf: str | None = None) -> GateBroker:
    if not Path(MOSQUITTO).exists():
        pytest.fail(f"mosquitto not found at {MOSQUITTO}: run `make sysdeps`", pytrace=False)
    conf_d = tmp / "conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    if bridge_conf is not None:
        (conf_d / "bridge.conf").write_text(bridge_conf)
    broker = GateBroker(tmp / "gate", pki, conf_d)
    made.append(broker)
    broker.start()
    return broker


@pytest.fixture
def gate(gate_factory: list[GateBroker], tmp_path: Path, pki: Pki) -> GateBroker:
    return start_gate(gate_factory, tmp_path, pki)


def client(
    mqtt_client: MqttClientFactory, broker: MosquittoBroker, user: str | None, **kw: object
) -> MqttProbe:
    password = PASSWORDS.get(user) if user else None
    return mqtt_client(broker, username=user, password=password, **kw)


def nothing_on(probe: MqttProbe, topic_prefix: str, wait_s: float = 0.7) -> bool:
    time.sleep(wait_s)
    return not [m for m in probe.messages if m.topic.startswith(topic_prefix)]


def test_anonymous_and_wrong_password_refused(gate: GateBroker, mqtt_client: MqttClientFactory) -> None:
    anonymous = mqtt_client(gate, connect=False)
    code = anonymous.connect(check=False)
    assert code is not None and code.is_failure, code
    wrong = mqtt_client(gate, connect=False, username="gate-1", password="guess")
    code = wrong.connect(check=False)
    assert code is not None and code.is_failure, code


def test_gate_publishes_only_under_its_own_site(gate: GateBroker, mqtt_client: MqttClientFactory) -> None:
    backend = client(mqtt_client, gate, "consumer.backend")
    backend.subscribe("plate-edge/#")
    barrier = client(mqtt_client, gate, "barrier.gate-1")
    barrier.subscribe("plate-edge/gate-1/#")
    gate1 = client(mqtt_client, gate, "gate-1")

    gate1.publish("plate-edge/gate-1/entry/events", b'{"n": 1}')
    assert backend.expect("plate-edge/gate-1/entry/events").payload == b'{"n": 1}'
    assert barrier.expect("plate-edge/gate-1/entry/events").payload == b'{"n": 1}'

    # Another site's topics, the bare prefix and unrelated topics: acknowledged (MQTT 3.1.1 has no way
    # to refuse a publish) and dropped. The control message after them arrives, so they were not delayed.
    for topic in ("plate-edge/gate-2/entry/events", "plate-edge/gate-2/status", "plate-edge/x", "other/t"):
        gate1.publish(topic, b"forged")
    gate1.publish("plate-edge/gate-1/status", b"control")
    assert backend.expect("plate-edge/gate-1/status").payload == b"control"
    assert [m.topic for m in backend.messages] == []


def test_read_rules(gate: GateBroker, mqtt_client: MqttClientFactory) -> None:
    gate1 = client(mqtt_client, gate, "gate-1")
    gate2 = client(mqtt_client, gate, "gate-2")
    barrier = client(mqtt_client, gate, "barrier.gate-1")
    backend = client(mqtt_client, gate, "consumer.backend")

    # A gate reads its own site (installers' `plate-edge events`), not another's.
    gate1.subscribe("plate-edge/gate-1/#")
    with contextlib.suppress(MqttProbeError):  # refused at SUBACK, or granted and never fed: both fine
        gate1.subscribe("plate-edge/gate-2/#")
    barrier.subscribe("plate-edge/#")  # only its own site's messages may reach it
    gate2.publish("plate-edge/gate-2/entry/events", b"site 2")
    gate1.publish("plate-edge/gate-1/entry/events", b"site 1")
    assert gate1.expect("plate-edge/gate-1/entry/events").payload == b"site 1"
    assert barrier.expect("plate-edge/gate-1/entry/events").payload == b"site 1"
    assert nothing_on(gate1, "plate-edge/gate-2/") and nothing_on(barrier, "plate-edge/gate-2/", 0)

    # Consumers and barriers read, never write: they cannot inject plate reads.
    backend.publish("plate-edge/gate-1/entry/events", b"forged by backend")
    barrier.publish("plate-edge/gate-1/entry/events", b"forged by barrier")
    assert nothing_on(gate1, "plate-edge/gate-1/")


def test_tls_listener(gate: GateBroker, mqtt_client: MqttClientFactory, pki: Pki) -> None:
    backend = client(mqtt_client, gate, "consumer.backend")
    backend.subscribe("plate-edge/gate-1/#")
    over_tls = MqttProbe(gate.host, gate.tls_port, username="gate-1", password=PASSWORDS["gate-1"])
    over_tls.client.tls_set(ca_certs=str(pki.ca.cert))
    try:
        over_tls.connect()
        over_tls.publish("plate-edge/gate-1/status", b"via tls", retain=True)
    finally:
        over_tls.close()
    assert backend.expect("plate-edge/gate-1/status").payload == b"via tls"
    anonymous_tls = MqttProbe(gate.host, gate.tls_port)
    anonymous_tls.client.tls_set(ca_certs=str(pki.ca.cert))
    try:
        code = anonymous_tls.connect(check=False)
        assert code is not None and code.is_failure
    finally:
        anonymous_tls.close()

    # Persistence on: the retained status survives a broker restart.
    gate.restart()
    late = client(mqtt_client, gate, "consumer.backend")
    late.subscribe("plate-edge/gate-1/status")
    received = late.expect("plate-edge/gate-1/status")
    assert received.payload == b"via tls" and received.retain


def test_bridge_forwards_own_site_through_a_central_outage(
    gate_factory: list[GateBroker],
    mosquitto_factory: MosquittoFactory,
    mqtt_client: MqttClientFactory,
    pki: Pki,
    tmp_path: Path,
) -> None:
    """bridge.conf.example against a central Mosquitto using the same acl file: the site's events reach
    the central consumer over TLS, other topics do not, and what is published while the central broker
    is down arrives after it comes back (gate persistence + cleansession false, QoS 1)."""
    central_dir = tmp_path / "central"
    central_dir.mkdir()
    passwd = write_password_file(central_dir / "passwd", PASSWORDS)
    acl = central_dir / "acl"
    acl.write_text((DEPLOY / "acl").read_text())
    central_tls = free_port()
    central = mosquitto_factory(
        f"password_file {passwd}\nacl_file {acl}\n"
        f"listener {central_tls} 127.0.0.1\ncafile {pki.ca.cert}\n"
        f"certfile {pki.server.cert}\nkeyfile {pki.server.key}\nrequire_certificate true\n",
        allow_anonymous=False,
    )
    bridge = render(
        (DEPLOY / "bridge.conf.example").read_text(),
        {
            "address": f"address 127.0.0.1:{central_tls}",
            "bridge_cafile": f"bridge_cafile {pki.ca.cert}",
            "bridge_certfile": f"bridge_certfile {pki.client.cert}",
            "bridge_keyfile": f"bridge_keyfile {pki.client.key}",
            "remote_password": f"remote_password {PASSWORDS['gate-1']}",
            "restart_timeout": "restart_timeout 1 2",  # reconnect fast in the test
        },
    )
    gate = start_gate(gate_factory, tmp_path, pki, bridge)

    consumer = client(mqtt_client, central, "consumer.backend", client_id="backend-test", clean_session=False)
    consumer.subscribe("plate-edge/#")
    gate1 = client(mqtt_client, gate, "gate-1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until the bridge is up and forwarding
        gate1.publish("plate-edge/gate-1/status", b"online", retain=True)
        try:
            consumer.expect("plate-edge/gate-1/status", timeout=0.5)
            break
        except MqttProbeError:
            continue
    else:
        pytest.fail(f"bridge never forwarded:\n{gate.log_text()[-3000:]}")

    gate1.publish("plate-edge/gate-1/entry/events", b"e0")
    assert consumer.expect("plate-edge/gate-1/entry/events", timeout=10).payload == b"e0"
    # The local barrier's or another site's topics never cross the bridge.
    gate2 = client(mqtt_client, gate, "gate-2")
    gate2.publish("plate-edge/gate-2/entry/events", b"site 2 stays local")

    central.stop()  # the WAN or the central cluster goes down
    for i in range(1, 4):
        gate1.publish("plate-edge/gate-1/entry/events", f"e{i}".encode())  # PUBACK from the gate broker
    central.start()  # same port; its persistence kept the consumer's session and subscription
    # QoS 1 is at-least-once: a message whose PUBACK was in flight when the central broker stopped
    # (e0 on the bridge or on the consumer's session) is sent again. A duplicate is allowed; a loss
    # or a reordering of the first arrivals is not. Consumers dedupe by event_id.
    got: list[bytes] = []
    while not {b"e1", b"e2", b"e3"} <= set(got):
        got.append(consumer.expect("plate-edge/gate-1/entry/events", timeout=20).payload)
    first_arrivals = [p for i, p in enumerate(got) if p not in got[:i] and p != b"e0"]
    assert first_arrivals == [b"e1", b"e2", b"e3"], got
    assert set(got) <= {b"e0", b"e1", b"e2", b"e3"}, got
    assert nothing_on(consumer, "plate-edge/gate-2/")
