"""Latency from the frame that made a read confident to the event at an MQTT subscriber, p50/p95.

A live gate in this process (`benchmarks.live`: real mosquitto, the bench clip over the real RTSP
server, `GateService` with the real publisher and its SQLite outbox). For every event: the arrival time
of the frame whose read triggered it (decoded, monotonic clock), the time the event was durable in the
outbox, and the time a subscriber on the same broker received it (the broker forwards before or while it
sends PUBACK, so this bounds the PUBACK time from above by a loopback hop). Goal: < 250 ms for
``plate.read``.

    python -m benchmarks.latency [--detector own|text] [--size 1280x720] [--seconds 40]

Last line: ``read_latency_p50_ms=NN read_latency_p95_ms=NN n=N``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from benchmarks.common import bench_clip, machine
from benchmarks.live import live_gate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("own", "text"))
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to watch (the clip loops)")
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.split("x"))
    clip, _ = bench_clip((w, h))
    print(f"# {machine()}")
    with live_gate(clip, 1, a.detector) as live:
        time.sleep(a.seconds)
        rows = []
        for event_id, (frame_mono, stored) in live.produced.items():
            got = live.received.get(event_id)
            if frame_mono is None or got is None:
                continue
            rows.append((got[1]["type"], got[1]["plate"]["text"], stored - frame_mono, got[0] - frame_mono))
    print("| event | plate | frame -> outbox ms | frame -> subscriber ms |\n|---|---|---|---|")
    for kind, text, to_outbox, to_sub in rows:
        print(f"| {kind} | {text} | {to_outbox * 1e3:.0f} | {to_sub * 1e3:.0f} |")
    reads = sorted(r[3] * 1e3 for r in rows if r[0] == "plate.read")
    if not reads:
        print("read_latency_p50_ms=nan read_latency_p95_ms=nan n=0")
        return 1
    p95 = reads[min(len(reads) - 1, round(0.95 * (len(reads) - 1)))]
    print(f"read_latency_p50_ms={statistics.median(reads):.0f} read_latency_p95_ms={p95:.0f} n={len(reads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
