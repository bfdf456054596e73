"""How many gate cameras one box carries: N simultaneous RTSP streams at 15 fps, N = 1, 2, 4, 8.

Each N runs a live gate in this process (`benchmarks.live`) for one pass of the bench clip per camera
(three cars each) and checks that it **keeps up**: every stream decoded at >= 95 % of its frame rate and
every camera published a ``plate.read`` for every car (no vehicle dropped). Reported per N: decoded fps
per stream, stale frames dropped, reads, process CPU (percent of one core) and resident memory per stream.

    python -m benchmarks.capacity [--detector own|text] [--size 1920x1080] [--max 8]

Last line: ``max_cameras=N`` (the largest N that kept up).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.common import bench_clip, machine
from benchmarks.live import live_gate, rss_mib

FPS = 15


def run(n: int, clip: object, plates: list[str], detector: str | None, detect_fps: float) -> tuple[bool, str]:
    base_rss = rss_mib()
    cpu0, t0 = os.times(), time.monotonic()
    with live_gate(clip, n, detector, detect_fps) as live:  # type: ignore[arg-type]
        seconds = len(plates) * 9.0 + 6.0  # one pass of the clip (9 s a car) and the start-up
        time.sleep(seconds)
        elapsed = time.monotonic() - t0
        cpu1 = os.times()
        rss = rss_mib()
        fps = [s.stats.decoded / elapsed for s in live.service.sources.values()]
        dropped = sum(s.stats.dropped_stale for s in live.service.sources.values())
        reads: dict[str, set[str]] = {cid: set() for cid in live.service.sources}
        for _, event in live.received.values():
            if event["type"] == "plate.read":
                reads[event["camera"]].add(event["plate"]["text"])
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
    read_all = all(set(plates) <= got for got in reads.values())
    ok = min(fps) >= 0.95 * FPS * (elapsed - 6) / elapsed and read_all
    n_read = sum(len(got & set(plates)) for got in reads.values())
    row = (
        f"| {n} | {min(fps):.1f} | {dropped} | {n_read}/{n * len(plates)} | {cpu / n:.0f} % | "
        f"{(rss - base_rss) / n:.0f} MiB | {'yes' if ok else 'no'} |"
    )
    return ok, row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("own", "text"))
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--detect-fps", type=float, default=5.0)
    ap.add_argument("--max", type=int, default=8)
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.split("x"))
    clip, plates = bench_clip((w, h), FPS)
    print(f"# {machine()}")
    columns = ["streams", "min decoded fps", "stale frames dropped", "cars read", "CPU per stream"]
    print("| " + " | ".join([*columns, "RSS per stream", "keeps up"]) + " |")
    print("|---|---|---|---|---|---|---|")
    best = 0
    n = 1
    while n <= a.max:
        ok, row = run(n, clip, plates, a.detector, a.detect_fps)
        print(row, flush=True)
        if not ok:
            break
        best = n
        n *= 2
    print(f"max_cameras={best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
