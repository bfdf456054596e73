"""`plate-edge events`: an installer watches a site's messages."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from edge import cli
from edge.events import CameraState, SiteStatus, now
from edge.events_cmd import format_message
from tests.support.events import T0, sample_event
from tests.support.fixtures import MqttClientFactory
from tests.support.mosquitto import MosquittoBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def test_events_command_prints_what_the_site_publishes(
    mosquitto: MosquittoBroker,
    mqtt_client: MqttClientFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "site.yaml"
    config.write_text(f"site: {site}\nmqtt:\n  host: {mosquitto.host}\n  port: {mosquitto.port}\n")
    pub = mqtt_client()
    pub.publish(f"plate-edge/{site}/status", SiteStatus("online", now()).to_json(), retain=True)
    codes: list[int] = []
    argv = ["events", "--config", str(config), "--count", "2", "--timeout", "10"]
    thread = threading.Thread(target=lambda: codes.append(cli.main(argv)))
    thread.start()
    out = ""
    deadline = time.monotonic() + 10
    while "daemon online (retained)" not in out and time.monotonic() < deadline:  # subscribed
        time.sleep(0.02)
        out += capsys.readouterr().out
    events = [sample_event(i, site=site) for i in range(2)]
    for event in events:
        pub.publish(f"plate-edge/{site}/entry/events", event.to_json())
    thread.join(10)
    out += capsys.readouterr().out
    assert codes == [0], out
    lines = out.splitlines()
    assert lines[0].endswith(f"plate-edge/{site}  daemon online (retained)")
    assert [line.split("id=")[1] for line in lines[1:]] == [e.event_id[:8] for e in events]
    assert all(f"{site}/entry  plate.read     12가3456" in line for line in lines[1:])


def test_events_command_needs_a_broker(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["events"]) == 2
    assert "give --config FILE or --host HOST" in capsys.readouterr().err


def test_format_message_lines() -> None:
    event = sample_event()
    line = format_message("plate-edge/gate-1/entry/events", event.to_json().encode())
    assert line == (
        f"2024-05-01T08:00:00.123+09:00  gate-1/entry  plate.read     12가3456  conf=0.99  valid  private  "
        f"dir=entry  list=allow  vehicle=entry-0  id={event.event_id[:8]}"
    )
    state = CameraState("entry", "streaming", T0, fps=9.8).to_json().encode()
    assert format_message("plate-edge/gate-1/entry/state", state, retained=True) == (
        "2024-05-01T08:00:00.123+09:00  plate-edge/gate-1/entry  camera streaming  9.8 fps (retained)"
    )
    status = SiteStatus("offline", T0).to_json().encode()
    assert format_message("plate-edge/gate-1/status", status) == (
        "2024-05-01T08:00:00.123+09:00  plate-edge/gate-1  daemon offline"
    )
    assert format_message("x/y", b"\xffjunk") == "x/y \ufffdjunk"
    assert json.loads(format_message("x/y", b'{"a": 1}').split(" ", 1)[1]) == {"a": 1}
