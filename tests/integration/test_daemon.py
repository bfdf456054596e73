"""`plate-edge run` end to end: the demo clip over a real RTSP server, events through a real mosquitto.

These run the daemon as a user does (a child process with a YAML config) and judge it only by what
arrives over MQTT: the barrier controller's view.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.daemon import DEMO_CLIP, Daemon, SiteWatcher, demo_plates, site_config
from tests.support.fixtures import MosquittoFactory, RtspServerFactory, SilentServerFactory
from tests.support.mosquitto import MosquittoBroker
from tests.support.page_driver import live_section, require_browser
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _by_vehicle(watcher: SiteWatcher, camera: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in watcher.events:
        if e["camera"] == camera:
            out.setdefault(e["vehicle_id"], []).append(f"{e['type']} {e['plate']['text']}")
    return out


def _left(camera: str, n: int):  # type: ignore[no-untyped-def]
    return lambda w: len(w.of_type("vehicle.left", camera)) >= n


@pytest.mark.slow
def test_demo_clip_gives_one_read_and_one_left_per_vehicle(
    tmp_path: Path, mosquitto: MosquittoBroker, rtsp_server: RtspServerFactory
) -> None:
    plates = demo_plates()
    server = rtsp_server(DEMO_CLIP, loop=False)
    http = free_port()
    cams = [{"id": "entry", "url": server.url, "direction": "entry"}]
    config = site_config(tmp_path, mosquitto.port, cams, http_port=http)
    with SiteWatcher(mosquitto.host, mosquitto.port) as watcher, Daemon(config) as daemon:
        done = watcher.wait(_left("entry", len(plates)), timeout=150)
        watcher.wait(lambda w: False, timeout=3)  # anything extra would arrive now
        assert done, f"events: {_by_vehicle(watcher, 'entry')}\n{daemon.log()}"
        vehicles = _by_vehicle(watcher, "entry")
        expected = {p: [f"plate.read {p}", f"vehicle.left {p}"] for p in plates}
        assert sorted(vehicles.values()) == sorted(expected.values()), daemon.log()
        reads = watcher.of_type("plate.read")
        assert [e["plate"]["text"] for e in reads] == plates  # in the order they drove up
        for event in watcher.events:
            assert event["site"] == "gate-1" and event["direction"] == "entry"
            assert event["plate"]["valid"] and event["plate"]["confidence"] >= 0.8
            assert event["snapshot"] and (tmp_path / "state" / event["snapshot"]).is_file()
        kinds = {e["plate"]["text"]: e["plate"]["kind"] for e in reads}
        assert kinds[plates[1]] == "commercial" and kinds[plates[2]] == "ev"
        two_line = next(e for e in reads if e["plate"]["text"] == plates[1])
        assert len(two_line["plate"]["areas"]) == 2  # the yellow two-line plate: two areas, top first
        assert "streaming" in watcher.camera_states("entry")
        # the daemon's HTTP side: readiness names cameras and broker; metrics count what happened
        ready = httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=10)
        body = ready.json()
        assert body["broker"]["ready"] is True and "entry" in body["cameras"]["cameras"]
        metrics = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=10).text
        reads_metric = 'plate_edge_events_published_total{camera="entry",type="plate.read"}'
        assert f"{reads_metric} {len(plates)}.0" in metrics
        assert 'plate_edge_detect_seconds_count{camera="entry"}' in metrics
        assert "process_resident_memory_bytes" in metrics
        build = next(line for line in metrics.splitlines() if line.startswith("plate_edge_build_info{"))
        for label in ('device="auto"', 'providers="CPU"', 'reader_precision="float"', "version="):
            assert label in build, build
        live = httpx.get(f"http://127.0.0.1:{http}/v1/live", timeout=10).json()  # what the page shows
        assert [e["plate"]["text"] for e in live["events"] if e["type"] == "plate.read"] == plates[::-1]
        assert live["cameras"]["entry"]["state"] in ("streaming", "reconnecting")
        require_browser()
        cameras, rows = live_section(f"http://127.0.0.1:{http}", min_rows=2 * len(plates))
        assert cameras and cameras[0].startswith("entry: ")
        assert [r[3] for r in rows if r[2] == "plate.read"] == plates[::-1]  # newest first
        assert daemon.stop() == 0


@pytest.mark.slow
def test_camera_drop_reconnects_without_restart_or_duplicate_read(
    tmp_path: Path, mosquitto: MosquittoBroker, rtsp_server: RtspServerFactory
) -> None:
    first = demo_plates()[0]
    server = rtsp_server(DEMO_CLIP, loop=True)
    config = site_config(tmp_path, mosquitto.port, [{"id": "entry", "url": server.url}])
    with SiteWatcher(mosquitto.host, mosquitto.port) as watcher, Daemon(config) as daemon:
        assert watcher.wait(lambda w: len(w.of_type("plate.read")) >= 1, timeout=90), daemon.log()
        server.kill()  # the camera dies with the first car still in view
        assert watcher.wait(lambda w: "reconnecting" in w.camera_states("entry"), timeout=15), daemon.log()
        server.start()  # same address; the stream restarts from the first car
        assert watcher.wait(lambda w: w.camera_states("entry")[-1:] == ["streaming"], timeout=30), (
            daemon.log()
        )
        # the first car is in view again after the reconnect: same plate within the de-dup window
        assert watcher.wait(_left("entry", 2), timeout=90), daemon.log()
        assert daemon.proc.poll() is None  # no process restart
        reads = Counter(e["plate"]["text"] for e in watcher.of_type("plate.read"))
        assert reads[first] == 1, (reads, daemon.log())
        assert max(reads.values()) == 1


def test_silent_camera_is_detected_within_the_timeout(
    tmp_path: Path, mosquitto: MosquittoBroker, silent_server: SilentServerFactory
) -> None:
    server = silent_server("silent")
    cam = {"id": "gate", "url": server.url, "open_timeout_s": 2, "read_timeout_s": 2}
    config = site_config(tmp_path, mosquitto.port, [cam])
    with SiteWatcher(mosquitto.host, mosquitto.port) as watcher, Daemon(config) as daemon:
        assert watcher.wait(lambda w: any(s["state"] == "online" for s in w.status), timeout=60), daemon.log()
        online = next(s["_at"] for s in watcher.status if s["state"] == "online")
        assert watcher.wait(lambda w: bool(w.camera_states("gate")), timeout=15), daemon.log()
        state = next(s for s in watcher.states if s["camera"] == "gate")
        assert state["state"] == "reconnecting" and "timed out" in state["reason"]
        assert state["_at"] - online < 2 + 2.5  # the open timeout, plus start-up slack
        assert server.url.split("@")[-1] not in state["reason"]  # no URL (passwords) in reasons
        # it keeps trying and, after repeated failures, says error
        assert watcher.wait(lambda w: "error" in w.camera_states("gate"), timeout=30), daemon.log()
        assert daemon.proc.poll() is None


@pytest.mark.slow
def test_two_cameras_in_one_process(
    tmp_path: Path, mosquitto: MosquittoBroker, rtsp_server: RtspServerFactory
) -> None:
    plates = demo_plates()
    entry = rtsp_server(DEMO_CLIP, mount="/entry")
    exit_ = rtsp_server(DEMO_CLIP, mount="/exit")
    cameras = [
        {"id": "entry", "url": entry.url, "direction": "entry", "detect_fps": 4},
        {"id": "exit", "url": exit_.url, "direction": "exit", "detect_fps": 4},
    ]
    config = site_config(tmp_path, mosquitto.port, cameras)
    with SiteWatcher(mosquitto.host, mosquitto.port) as watcher, Daemon(config) as daemon:
        both = watcher.wait(lambda w: _left("entry", 3)(w) and _left("exit", 3)(w), timeout=180)
        assert both, f"{_by_vehicle(watcher, 'entry')} {_by_vehicle(watcher, 'exit')}\n{daemon.log()}"
        for camera, direction in (("entry", "entry"), ("exit", "exit")):
            reads = watcher.of_type("plate.read", camera)
            assert sorted(e["plate"]["text"] for e in reads) == sorted(plates), camera
            assert {e["direction"] for e in reads} == {direction}
        ids = {e["vehicle_id"] for e in watcher.events}
        assert len(ids) == 2 * len(plates)  # a vehicle id is per camera passage


@pytest.mark.slow
def test_broker_outage_loses_no_event(
    tmp_path: Path, mosquitto_factory: MosquittoFactory, rtsp_server: RtspServerFactory
) -> None:
    """The broker is down while the cars pass: every event waits in the outbox and arrives afterwards."""
    plates = demo_plates()
    broker = mosquitto_factory()
    server = rtsp_server(DEMO_CLIP, loop=False)
    config = site_config(tmp_path, broker.port, [{"id": "entry", "url": server.url}])
    watcher = SiteWatcher(broker.host, broker.port, persistent_id="barrier-controller")
    with watcher, Daemon(config) as daemon:
        assert watcher.wait(lambda w: "streaming" in w.camera_states("entry"), timeout=60), daemon.log()
        broker.stop()  # persistence on: the watcher's session and subscription survive the restart
        deadline = time.monotonic() + 120
        while daemon.log(400).count("vehicle.left") < len(plates) and time.monotonic() < deadline:
            time.sleep(1)
        assert daemon.log(400).count("vehicle.left") == len(plates), daemon.log()
        assert watcher.events == []  # nothing could be delivered yet
        broker.start()  # same port; the daemon reconnects and replays its outbox
        assert watcher.wait(_left("entry", len(plates)), timeout=60), daemon.log()
        watcher.wait(lambda w: False, timeout=2)
        assert sorted(e["plate"]["text"] for e in watcher.of_type("plate.read")) == sorted(plates)
        assert len({e["event_id"] for e in watcher.events}) == 2 * len(plates)


def test_http_port_taken_fails_the_start(tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    """A daemon that cannot serve /readyz and /metrics exits 1 naming the setting, not half-running."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = site_config(
            tmp_path, mosquitto.port, [{"id": "entry", "url": str(DEMO_CLIP)}], http_port=port
        )
        daemon = Daemon(config)
        assert daemon.proc.wait(60) == 1, daemon.log()
        assert "cannot serve HTTP on 127.0.0.1" in daemon.log() and "http.port" in daemon.log()
