"""Bad uploads must not make the server grow: 120 hostile requests, resident memory measured around them."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from fastapi.testclient import TestClient

from edge.api import create_app
from tests.support.fakes import fake_recognizer
from tests.support.images import jpeg_bytes, noise_jpeg, png_bomb


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_hostile_uploads_keep_memory_bounded() -> None:
    good = jpeg_bytes()
    bomb = png_bomb()
    big = noise_jpeg(6 * 1024 * 1024)
    truncated = good[: len(good) // 2]
    cases = [(bomb, 422), (big, 413), (truncated, 422), (os.urandom(4096), 415), (b"", 422)]
    with TestClient(create_app(fake_recognizer())) as client:

        def send(data: bytes) -> int:
            return client.post("/v1/analyze", files={"image": ("x.jpg", data, "image/jpeg")}).status_code

        for data, status in cases:  # warm-up: imports, allocator pools, first-call caches
            assert send(data) == status
        gc.collect()
        before = _rss_mib()
        for _ in range(24):
            for data, status in cases:
                assert send(data) == status
        gc.collect()
        grown = _rss_mib() - before
        assert send(good) == 200  # still serving
    # a decoded 30000x30000 bomb alone would be 2.5 GiB; 120 requests must not leave more than a few MB
    print(f"RSS growth over 120 hostile requests: {grown:.1f} MiB")
    assert grown < 64, f"RSS grew by {grown:.1f} MiB over 120 hostile requests"
