"""edge.metrics: every metric exercised, then read back by parsing the exposition text (what Prometheus
scrapes), plus the same registry served by the HTTP API's /metrics."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from edge.metrics import CAMERA_STATES, DROP_REASONS, EVENT_TYPES, LATENCY_BUCKETS, Metrics, RateMeter

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(body: bytes | str) -> tuple[dict[str, str], Samples]:
    """Metric family types by name, and every sample keyed by (sample name, sorted labels)."""
    text = body.decode() if isinstance(body, bytes) else body
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, samples


def test_render_content_type_and_families() -> None:
    m = Metrics()
    m.add_camera("entry")
    body, content_type = m.render()
    assert content_type.startswith("text/plain; version=")
    types, _ = scrape(body)
    expected = {
        "plate_edge_camera_decoded_fps": "gauge",
        "plate_edge_camera_detect_fps": "gauge",
        "plate_edge_camera_reconnects": "counter",
        "plate_edge_frames_dropped": "counter",
        "plate_edge_detect_seconds": "histogram",
        "plate_edge_read_seconds": "histogram",
        "plate_edge_events_published": "counter",
        "plate_edge_outbox_depth": "gauge",
        "plate_edge_read_agreement": "histogram",
        "plate_edge_camera_state": "gauge",  # an Enum is a gauge per state in the text format
        "plate_edge_camera_up": "gauge",
        "plate_edge_broker_connected": "gauge",
        "plate_edge_build_info": "gauge",  # an Info is a constant-1 gauge in the text format
        "python_info": "gauge",
    }
    for name, kind in expected.items():
        assert types.get(name) == kind, (name, types.get(name))
    if os.path.exists("/proc/self/stat"):
        assert types.get("process_resident_memory_bytes") == "gauge"


def test_new_camera_series_exist_at_zero() -> None:
    m = Metrics()
    m.add_cameras(["entry", "exit"])
    m.add_camera("entry")  # idempotent
    _, s = scrape(m.render()[0])
    for cam in ("entry", "exit"):
        c = (("camera", cam),)
        assert s[("plate_edge_camera_reconnects_total", c)] == 0
        assert s[("plate_edge_camera_decoded_fps", c)] == 0
        assert s[("plate_edge_camera_up", c)] == 0
        for reason in DROP_REASONS:
            assert s[("plate_edge_frames_dropped_total", (("camera", cam), ("reason", reason)))] == 0
        for t in EVENT_TYPES:
            assert s[("plate_edge_events_published_total", (("camera", cam), ("type", t)))] == 0
        assert s[("plate_edge_detect_seconds_count", c)] == 0
        assert s[("plate_edge_camera_state", (("camera", cam), ("plate_edge_camera_state", "starting")))] == 1


def test_every_metric_round_trips() -> None:
    m = Metrics()
    m.add_camera("entry")
    m.decoded_fps.labels("entry").set(24.8)
    m.detect_fps.labels("entry").set(9.5)
    m.reconnects.labels("entry").inc()
    m.reconnects.labels("entry").inc()
    m.frames_dropped.labels("entry", "queue_full").inc(7)
    for v in (0.0015, 0.18, 0.25, 3.0):
        m.detect_seconds.labels("entry").observe(v)
    m.read_seconds.labels("entry").observe(0.002)
    m.events_published.labels("entry", "plate.read").inc()
    m.events_published.labels("entry", "vehicle.left").inc(2)
    m.outbox_depth.set(12)
    m.read_agreement.labels("entry").observe(0.86)
    m.read_agreement.labels("entry").observe(1.0)
    m.set_camera_state("entry", "streaming")
    m.broker_connected.set(1)
    m.set_build_info(device="cpu", providers="CPUExecutionProvider")

    _, s = scrape(m.render()[0])
    c = (("camera", "entry"),)
    assert s[("plate_edge_camera_decoded_fps", c)] == pytest.approx(24.8)
    assert s[("plate_edge_camera_detect_fps", c)] == pytest.approx(9.5)
    assert s[("plate_edge_camera_reconnects_total", c)] == 2
    assert s[("plate_edge_frames_dropped_total", (("camera", "entry"), ("reason", "queue_full")))] == 7
    assert s[("plate_edge_detect_seconds_count", c)] == 4
    assert s[("plate_edge_detect_seconds_sum", c)] == pytest.approx(3.4315)
    assert s[("plate_edge_detect_seconds_bucket", (("camera", "entry"), ("le", "0.0025")))] == 1
    assert s[("plate_edge_detect_seconds_bucket", (("camera", "entry"), ("le", "0.2")))] == 2
    assert s[("plate_edge_detect_seconds_bucket", (("camera", "entry"), ("le", "2.0")))] == 3
    assert s[("plate_edge_detect_seconds_bucket", (("camera", "entry"), ("le", "+Inf")))] == 4
    assert s[("plate_edge_read_seconds_count", c)] == 1
    assert s[("plate_edge_events_published_total", (("camera", "entry"), ("type", "plate.read")))] == 1
    assert s[("plate_edge_events_published_total", (("camera", "entry"), ("type", "vehicle.left")))] == 2
    assert s[("plate_edge_outbox_depth", ())] == 12
    assert s[("plate_edge_read_agreement_bucket", (("camera", "entry"), ("le", "0.9")))] == 1
    assert s[("plate_edge_read_agreement_bucket", (("camera", "entry"), ("le", "1.0")))] == 2
    for state in CAMERA_STATES:
        key = ("plate_edge_camera_state", (("camera", "entry"), ("plate_edge_camera_state", state)))
        assert s[key] == (1 if state == "streaming" else 0)
    assert s[("plate_edge_camera_up", c)] == 1
    assert s[("plate_edge_broker_connected", ())] == 1
    info = [k for k in s if k[0] == "plate_edge_build_info"]
    assert len(info) == 1 and dict(info[0][1])["device"] == "cpu" and "version" in dict(info[0][1])

    m.set_camera_state("entry", "reconnecting")
    _, s = scrape(m.render()[0])
    assert s[("plate_edge_camera_up", c)] == 0
    with pytest.raises(ValueError, match="unknown camera state"):
        m.set_camera_state("entry", "sleeping")


def test_latency_buckets_span_1ms_to_2s() -> None:
    assert LATENCY_BUCKETS[0] == 0.001 and LATENCY_BUCKETS[-1] == 2.0
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_own_registry_not_global() -> None:
    a, b = Metrics(), Metrics()  # would raise "Duplicated timeseries" on a shared registry
    assert a.registry is not b.registry
    shared = CollectorRegistry()
    Metrics(shared)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(shared)


def test_served_by_the_api_with_its_own_metrics() -> None:
    """The daemon passes ``registry=metrics.registry`` to create_app: one /metrics with both sets."""
    from edge.api import create_app
    from tests.support.fakes import fake_recognizer

    m = Metrics()
    m.add_camera("entry")
    m.outbox_depth.set(3)
    with TestClient(create_app(fake_recognizer(), registry=m.registry)) as client:
        client.get("/healthz")
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    types, s = scrape(response.text)
    assert s[("plate_edge_outbox_depth", ())] == 3
    assert "plate_edge_http_requests" in types
    assert "process_resident_memory_bytes" in types or not os.path.exists("/proc/self/stat")


def test_rate_meter() -> None:
    now = [0.0]
    meter = RateMeter(window_s=5.0, clock=lambda: now[0])
    assert meter.rate() == 0
    for _ in range(100):  # 10 s at 25 fps
        now[0] += 0.04
        meter.tick()
    assert meter.rate() == pytest.approx(25, abs=0.5)
    now[0] += 0.2
    meter.tick(10)  # burst counted
    assert meter.rate() > 25
    now[0] += 6  # stream stopped: window empties
    assert meter.rate() == 0
    fresh = RateMeter(window_s=5.0, clock=lambda: now[0])
    fresh.tick(5)  # 5 ticks right after start: min_span keeps it at 5/s, not infinite
    assert fresh.rate() == pytest.approx(5)
