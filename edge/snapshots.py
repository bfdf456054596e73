"""Snapshots: the best plate crop (and optionally the whole frame) of each passage, kept for N days.

Plates are personal data: files are created 0600 inside 0700 folders under the state directory, nothing
is written when retention is 0, and `purge` deletes whole days past the retention. Layout:
``snapshots/<camera>/<YYYY-MM-DD>/<vehicle_id>.jpg`` (+ ``..._frame.jpg``), so a purge is a folder
removal and an operator can find a passage by date. The path stored in events is relative to the
state directory (the consumer knows where that is, or fetches it over its own channel).
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Margin around the plate quad in the saved crop, as a fraction of the plate's size.
CROP_MARGIN = 0.25


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def plate_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The axis-aligned region around ``quad`` with a `CROP_MARGIN` margin."""
    quad = np.asarray(quad, np.float32)
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    pad = (hi - lo) * CROP_MARGIN
    h, w = image.shape[:2]
    x1, y1 = np.maximum(0, np.floor(lo - pad)).astype(int)
    x2, y2 = np.minimum([w, h], np.ceil(hi + pad)).astype(int)
    return image[y1:y2, x1:x2]


class SnapshotStore:
    """Writes and purges snapshots under ``<state_dir>/snapshots``."""

    def __init__(self, state_dir: Path, retention_days: int, save_full_frame: bool = False) -> None:
        self.state_dir = Path(state_dir)
        self.root = self.state_dir / "snapshots"
        self.retention_days = retention_days
        self.save_full_frame = save_full_frame

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    def save(
        self, camera: str, vehicle_id: str, when: datetime, image: np.ndarray, quad: np.ndarray
    ) -> str | None:
        """Save the crop (and frame); returns the crop's path relative to the state dir, or None when
        snapshots are off or the write failed (logged: a full disk must not stop events)."""
        if not self.enabled:
            return None
        folder = self.root / camera / when.date().isoformat()
        crop_path = folder / f"{vehicle_id}.jpg"
        try:
            crop = plate_crop(image, quad)
            ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
            if not ok:
                raise OSError("JPEG encoding failed")
            _write_private(crop_path, buf.tobytes())
            if self.save_full_frame:
                ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
                if ok:
                    _write_private(folder / f"{vehicle_id}_frame.jpg", buf.tobytes())
        except OSError as e:
            log.error("snapshot for %s/%s not saved: %s", camera, vehicle_id, e)
            return None
        return crop_path.relative_to(self.state_dir).as_posix()

    def purge(self, today: date | None = None) -> int:
        """Delete day folders older than the retention; returns how many were removed.

        With retention 0 everything is deleted (snapshots were switched off: honour it for old ones too).
        """
        if not self.root.is_dir():
            return 0
        today = today or date.today()
        cutoff = today - timedelta(days=self.retention_days)
        removed = 0
        for camera_dir in self.root.iterdir():
            if not camera_dir.is_dir():
                continue
            for day_dir in camera_dir.iterdir():
                try:
                    day = date.fromisoformat(day_dir.name)
                except ValueError:
                    continue  # not ours: leave it
                if day < cutoff or self.retention_days == 0:
                    shutil.rmtree(day_dir, ignore_errors=True)
                    removed += 1
        if removed:
            log.info("snapshots: purged %d day folders older than %d days", removed, self.retention_days)
        return removed
