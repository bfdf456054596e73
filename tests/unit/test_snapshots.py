"""Snapshots: private files, relative paths, retention purge, off when retention is 0."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from edge.snapshots import SnapshotStore

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
QUAD = np.array([[100, 100], [300, 100], [300, 150], [100, 150]], np.float32)


def frame() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)


def test_saves_a_private_crop_under_camera_and_day(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, retention_days=30, save_full_frame=True)
    rel = store.save("entry", "v-1", WHEN, frame(), QUAD)
    assert rel == "snapshots/entry/2026-11-24/v-1.jpg"
    path = tmp_path / rel
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert (path.parent / "v-1_frame.jpg").is_file()


def test_retention_zero_saves_nothing(tmp_path: Path) -> None:
    assert SnapshotStore(tmp_path, retention_days=0).save("entry", "v-1", WHEN, frame(), QUAD) is None
    assert not (tmp_path / "snapshots").exists()


def test_purge_removes_only_days_past_retention(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, retention_days=7)
    today = date(2026, 11, 24)
    for days_ago in (0, 7, 8, 30):
        when = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC)
        store.save("entry", f"v-{days_ago}", when, frame(), QUAD)
    (tmp_path / "snapshots" / "entry" / "notes").mkdir()  # not a day folder: left alone
    assert store.purge(today) == 2
    left = sorted(p.name for p in (tmp_path / "snapshots" / "entry").iterdir())
    assert left == ["2026-11-17", "2026-11-24", "notes"]


def test_unwritable_state_dir_returns_none(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where a folder should be")
    assert SnapshotStore(blocker, retention_days=1).save("entry", "v-1", WHEN, frame(), QUAD) is None
