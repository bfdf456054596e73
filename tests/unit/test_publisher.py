"""Publisher behaviour that needs no broker: outbox location, events stored before any connection, bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.config import Config
from edge.outbox import OutboxFull
from edge.publisher import Publisher
from tests.support.events import assert_event, sample_event


def _config(tmp_path: Path, max_events: int = 100) -> Config:
    return Config.model_validate(
        {
            "site": "gate-1",
            "mqtt": {"host": "127.0.0.1", "port": 1},
            "storage": {"state_dir": str(tmp_path / "state"), "outbox_max_events": max_events},
        }
    )


def test_events_are_stored_before_any_connection(tmp_path: Path) -> None:
    publisher = Publisher.from_config(_config(tmp_path))
    assert publisher.cfg.client_id == "plate-edge-gate-1" and not publisher.connected
    event = sample_event()
    row_id = publisher.publish_event(event)
    assert (tmp_path / "state" / "outbox.sqlite3").is_file()
    [item] = publisher.outbox.pending()
    assert (item.id, item.topic, item.qos, item.retain) == (
        row_id,
        "plate-edge/gate-1/entry/events",
        1,
        False,
    )
    assert assert_event(item.payload)["event_id"] == event.event_id
    assert publisher.outbox_depth == 1
    publisher.outbox.close()


def test_full_outbox_refuses_the_event(tmp_path: Path) -> None:
    publisher = Publisher.from_config(_config(tmp_path, max_events=100))
    for i in range(100):
        publisher.publish_event(sample_event(i))
    with pytest.raises(OutboxFull):
        publisher.publish_event(sample_event(100))
    assert publisher.outbox_full and publisher.outbox_depth == 100
    assert json.loads(publisher.outbox.pending()[-1].payload)["vehicle_id"] == "entry-99"
    publisher.outbox.close()
