"""Reader and locator speed on the CPU: ms per area (reader) and per plate (locator), batch 1 and 8,
with ONNX Runtime limited to one intra-op thread (one core, as one camera worker gets on the edge box)
and with its default (all cores).

    python -m benchmarks.reader [--repeats 200]

Prints a table and a last line `reader_ms_1core=N.NN locator_ms_1core=N.NN` (batch 1).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from edge.areas import READER_H, READER_W
from edge.locator import LOC_H, LOC_W
from edge.runtime import create_session, load_manifest


def _ms(session: object, feed: dict[str, np.ndarray], repeats: int) -> float:
    run = session.run  # type: ignore[attr-defined]
    for _ in range(10):
        run(None, feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.reader")
    ap.add_argument("--repeats", type=int, default=200)
    a = ap.parse_args(argv)
    manifest = load_manifest()
    rng = np.random.default_rng(0)
    rows = []
    results: dict[tuple[str, int, int], float] = {}
    for name, shape in (("reader", (1, READER_H, READER_W)), ("locator", (3, LOC_H, LOC_W))):
        for threads in (1, 0):
            session = create_session(manifest[name], "cpu", threads)
            inp = session.get_inputs()[0].name
            for batch in (1, 8):
                x = rng.uniform(0, 255, (batch, *shape)).astype(np.float32)
                ms = _ms(session, {inp: x}, a.repeats)
                results[(name, threads, batch)] = ms / batch
                rows.append((name, "1" if threads == 1 else "all", batch, ms, ms / batch))
    print(f"{'model':<9}{'threads':>8}{'batch':>7}{'ms/call':>10}{'ms/item':>10}")
    for name, threads, batch, ms, per in rows:
        print(f"{name:<9}{threads:>8}{batch:>7}{ms:>10.2f}{per:>10.2f}")
    print(
        f"reader_ms_1core={results[('reader', 1, 1)]:.2f} locator_ms_1core={results[('locator', 1, 1)]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
