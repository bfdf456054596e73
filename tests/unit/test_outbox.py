"""The SQLite outbox: order, acknowledgement, bound, persistence, threads."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.outbox import Outbox, OutboxFull


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "state" / "outbox.sqlite3", max_events=5)
    yield box
    box.close()


def test_pending_in_insertion_order_and_ack(outbox: Outbox) -> None:
    ids = [outbox.put(f"t/{i}", f"payload-{i}", retain=i == 2) for i in range(4)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert outbox.ack(ids[1]) is True
    assert outbox.ack(ids[1]) is False  # a second PUBACK for the same row is harmless
    items = outbox.pending()
    assert [(i.id, i.topic, i.payload, i.qos, i.retain) for i in items] == [
        (ids[0], "t/0", b"payload-0", 1, False),
        (ids[2], "t/2", b"payload-2", 1, True),
        (ids[3], "t/3", b"payload-3", 1, False),
    ]
    assert outbox.depth == 3


@pytest.mark.parametrize(
    ("after_index", "limit", "expected_indexes"),
    [(None, None, [0, 1, 2, 3, 4]), (None, 2, [0, 1]), (1, None, [2, 3, 4]), (1, 2, [2, 3]), (4, None, [])],
)
def test_pending_pages(
    outbox: Outbox, after_index: int | None, limit: int | None, expected_indexes: list[int]
) -> None:
    ids = [outbox.put("t", str(i)) for i in range(5)]
    after = 0 if after_index is None else ids[after_index]
    assert [item.id for item in outbox.pending(after=after, limit=limit)] == [
        ids[i] for i in expected_indexes
    ]


def test_ids_are_never_reused(outbox: Outbox) -> None:
    first = outbox.put("t", "a")
    outbox.ack(first)
    assert outbox.put("t", "b") > first  # AUTOINCREMENT: a stale mapping can never hit a new row


def test_bound_refuses_loudly_once_per_episode(outbox: Outbox, caplog: pytest.LogCaptureFixture) -> None:
    ids = [outbox.put("t", str(i)) for i in range(5)]
    with caplog.at_level(logging.WARNING, logger="edge.outbox"):
        for _ in range(3):
            with pytest.raises(OutboxFull, match="full"):
                outbox.put("t", "refused")
        assert outbox.full and outbox.refused == 3 and outbox.depth == 5
        outbox.ack_many(ids[:2])
        assert not outbox.full
        outbox.put("t", "accepted")
        outbox.put("t", "accepted")
        with pytest.raises(OutboxFull):
            outbox.put("t", "refused again")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    recovered = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(errors) == 2 and len(recovered) == 1  # one alarm per episode, not one per event
    assert [item.payload for item in outbox.pending()] == [b"2", b"3", b"4", b"accepted", b"accepted"]


def test_survives_reopen_and_uses_wal_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as box:
        box.put("t", "kept")
        assert box._conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with Outbox(path) as box:
        assert box.depth == 1
        assert [item.payload for item in box.pending()] == [b"kept"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_closed_outbox_raises(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.close()
    box.close()
    with pytest.raises(RuntimeError, match="closed"):
        box.put("t", "x")


def test_concurrent_puts_and_acks(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3", max_events=10_000) as box:
        ids: list[int] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            for i in range(25):
                row = box.put("t", f"{n}-{i}")
                with lock:
                    ids.append(row)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(ids)) == 100 and box.depth == 100
        assert box.ack_many(ids[:60]) == 60
        assert box.depth == 40 == len(box.pending())
