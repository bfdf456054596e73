"""Reader and locator speed on the CPU: ms per area (reader, both copies: float, the default, and its
int8 copy, `recognition.reader_precision`) and per plate (locator), batch 1 and 8, with ONNX Runtime
limited to one intra-op thread (one core, as one camera worker gets on the edge box) and with its
default (all cores).

    python -m benchmarks.reader [--repeats 200]

Then the cost of re-reading an unsure plate (`edge.reread`): the engine on the committed sample crops
(`tests/data/plates`), one thread, with re-reading off, at the default threshold (sure plates read
once, plus `look_left`'s one area for those read in the 2-digit form) and forced on every plate.

Prints tables and a last line `reader_ms_1core=N.NN reader_int8_ms_1core=N.NN int8_speedup=N.NN
locator_ms_1core=N.NN reread_cost_ratio=N.NN` (batch 1; the speed-up: float ms / int8 ms per area,
measured in the same run; the re-read ratio: ms per plate re-read / ms per plate read once, decoding
excluded, float reader).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from edge.areas import READER_H, READER_W
from edge.engine import Engine
from edge.evaluate import read_manifest
from edge.imageio import read_image
from edge.locator import LOC_H, LOC_W
from edge.reread import REREAD_BELOW
from edge.runtime import Precision, create_session, load_manifest

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "plates" / "manifest.csv"


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
    models = (
        ("reader", (1, READER_H, READER_W)),
        ("reader_int8", (1, READER_H, READER_W)),
        ("locator", (3, LOC_H, LOC_W)),
    )
    for name, shape in models:
        for threads in (1, 0):
            session = create_session(manifest[name], "cpu", threads)
            inp = session.get_inputs()[0].name
            for batch in (1, 8):
                x = rng.uniform(0, 255, (batch, *shape)).astype(np.float32)
                ms = _ms(session, {inp: x}, a.repeats)
                results[(name, threads, batch)] = ms / batch
                rows.append((name, "1" if threads == 1 else "all", batch, ms, ms / batch))
    print(f"{'model':<12}{'threads':>8}{'batch':>7}{'ms/call':>10}{'ms/item':>10}")
    for name, threads, batch, ms, per in rows:
        print(f"{name:<12}{threads:>8}{batch:>7}{ms:>10.2f}{per:>10.2f}")
    once, default, again, default_int8 = _reread_cost(max(1, a.repeats // 40))
    print(
        f"engine per plate crop, 1 thread: read once {once:.2f} ms, default {default:.2f} ms, "
        f"re-read {again:.2f} ms; default with the int8 copy {default_int8:.2f} ms"
    )
    fp32, int8 = results[("reader", 1, 1)], results[("reader_int8", 1, 1)]
    print(
        f"reader_ms_1core={fp32:.2f} reader_int8_ms_1core={int8:.2f} int8_speedup={fp32 / int8:.2f} "
        f"locator_ms_1core={results[('locator', 1, 1)]:.2f} reread_cost_ratio={again / once:.2f}"
    )
    return 0


def _reread_cost(rounds: int) -> tuple[float, float, float, float]:
    """Median ms per plate over the sample crops: re-reading off, at the default threshold, then forced
    (threshold above 1), float reader; then the default threshold with the int8 copy."""
    images = [read_image(r.path, strict=False, max_bytes=None).image for r in read_manifest(SAMPLES)]
    medians = []
    runs: tuple[tuple[float, Precision], ...] = (
        (0.0, "float"),
        (REREAD_BELOW, "float"),
        (1.01, "float"),
        (REREAD_BELOW, "int8"),
    )
    for below, precision in runs:
        engine = Engine.load(device="cpu", threads=1, reread_below=below, precision=precision)
        for image in images:  # warm-up
            engine.read_plate(image)
        times = []
        for _ in range(rounds):
            for image in images:
                t0 = time.perf_counter()
                engine.read_plate(image)
                times.append((time.perf_counter() - t0) * 1e3)
        medians.append(statistics.median(times))
    return medians[0], medians[1], medians[2], medians[3]


if __name__ == "__main__":
    raise SystemExit(main())
