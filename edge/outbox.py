"""The on-disk outbox: every QoS 1 message is committed here BEFORE it is handed to the MQTT client, and
deleted only after the broker's PUBACK (design.md: at-least-once through an on-disk outbox).

Durability: SQLite in WAL mode with `synchronous=FULL`, so `put` returns only after the WAL is fsynced; a
`kill -9` or a power cut after `put` returned cannot lose the row, and SQLite's journal keeps the file
consistent across a crash in the middle of a write. Cost: one fsync per `put` and per `ack_many` batch
(about 1-20 ms on eMMC/SD), fine at gate event rates (a few per second at most).

Threads: ONE connection shared by all threads and serialised by a lock (`check_same_thread=False`). Camera
threads call `put` and the publisher thread calls `pending`/`ack_many`; a connection per thread would not
add concurrency (SQLite serialises writers anyway) but would leak connections as threads come and go, and
the lock makes "count, then insert" atomic for the bound. Readers wait behind an fsync; acceptable here.

Bound: at most `max_events` rows. When full, `put` raises `OutboxFull` (the caller decides; nothing is
dropped silently), `full` is True and one ERROR is logged per episode; the episode ends when acks bring
the depth below the bound again (logged once at WARNING).

Row ids come from AUTOINCREMENT and are never reused, so an id seen once names one message forever and
`pending(after=...)` can page through the rows in insertion order.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["Outbox", "OutboxFull", "OutboxItem"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


class OutboxFull(RuntimeError):
    """The outbox holds `max_events` undelivered messages (the broker has been unreachable for long)."""


@dataclass(frozen=True)
class OutboxItem:
    """One stored message."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created: float  # time.time() when put


class Outbox:
    """A bounded, crash-safe FIFO of MQTT messages in one SQLite file (created with its folder).

    `depth`, `full` and `refused` are plain attributes for metrics (a gauge, an alarm, a counter).
    """

    def __init__(self, path: str | Path, max_events: int = 100_000) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events}")
        self.path = Path(path)
        self.max_events = max_events
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit, each statement is its own (fsynced) transaction.
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{self.path}: cannot switch to WAL (journal_mode={mode})")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self.depth: int = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        self.full = False
        self.refused = 0
        if self.depth:
            log.info(
                "outbox has %d undelivered messages to replay", self.depth, extra={"path": str(self.path)}
            )

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"outbox {self.path} is closed")
        return self._db

    def put(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> int:
        """Store a message durably and return its row id; raise `OutboxFull` when at the bound."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        with self._lock:
            db = self._conn()
            if self.depth >= self.max_events:
                self.refused += 1
                if not self.full:
                    self.full = True
                    log.error(
                        "outbox full (%d undelivered messages): new events are refused until the broker "
                        "acknowledges some; is the broker reachable?",
                        self.depth,
                        extra={"path": str(self.path)},
                    )
                raise OutboxFull(f"outbox {self.path} is full ({self.depth} of {self.max_events} messages)")
            cursor = db.execute(
                "INSERT INTO outbox (topic, payload, qos, retain, created) VALUES (?, ?, ?, ?, ?)",
                (topic, data, qos, int(retain), time.time()),
            )
            self.depth += 1
            row_id = cursor.lastrowid
        assert row_id is not None
        return row_id

    def ack(self, row_id: int) -> bool:
        """Delete one delivered message; False when it was not there (already acknowledged)."""
        return self.ack_many([row_id]) == 1

    def ack_many(self, row_ids: Iterable[int]) -> int:
        """Delete delivered messages in one transaction (one fsync); return how many were there."""
        ids = [(row_id,) for row_id in row_ids]
        if not ids:
            return 0
        with self._lock:
            db = self._conn()
            before = db.total_changes
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("DELETE FROM outbox WHERE id = ?", ids)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            deleted = db.total_changes - before
            self.depth -= deleted
            if self.full and self.depth < self.max_events:
                self.full = False
                log.warning(
                    "outbox accepts events again (%d undelivered, %d refused so far)",
                    self.depth,
                    self.refused,
                )
        return deleted

    def pending(self, after: int = 0, limit: int | None = None) -> list[OutboxItem]:
        """Undelivered messages with id > `after`, oldest first, at most `limit` (None: all)."""
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    "SELECT id, topic, payload, qos, retain, created FROM outbox"
                    " WHERE id > ? ORDER BY id LIMIT ?",
                    (after, -1 if limit is None else limit),
                )
                .fetchall()
            )
        return [OutboxItem(r[0], r[1], bytes(r[2]), r[3], bool(r[4]), r[5]) for r in rows]

    def close(self) -> None:
        """Close the database (idempotent). A later call to any other method raises RuntimeError."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
