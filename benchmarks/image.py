"""Still-image latency per stage (decode, detect, read, total), p50/p95, at 720p, 1080p and 4K.

Seeded synthetic gate scenes (`models.training.scenes`, one to two vehicles each) encoded as JPEG
(quality 90), decoded exactly as the API does (`edge.imageio.decode`: Pillow, EXIF, bounds) and analysed
by the same `StillRecognizer` the API and the analyze command use. In process, no HTTP: the HTTP API's
requests/s at concurrency 1 and 4 are `benchmarks/api.py`. Goal: total < 40 ms at 1080p on 2 cores.

    python -m benchmarks.image [--detector own|text] [--images 12]

Last line: ``p50_ms_720p=N p50_ms_1080p=N p50_ms_4k=N``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
import numpy as np

from benchmarks.common import machine

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main(argv: list[str] | None = None) -> int:
    from edge.imageio import decode
    from edge.recognizer import load_recognizer
    from models.training.scenes import scene

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("own", "text"), default=None)
    ap.add_argument("--images", type=int, default=12, help="distinct images per size")
    a = ap.parse_args(argv)
    from edge.config_schema import RecognitionConfig

    detector = a.detector or RecognitionConfig().detector
    recognizer = load_recognizer(detector=detector)
    print(f"# {machine()}; detector {detector}")
    print("| size | JPEG KB | decode p50 | detect p50 | read p50 | total p50 | total p95 | plates found |")
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    for label, size in SIZES.items():
        rng = np.random.default_rng(42)
        blobs, truths = [], 0
        for _ in range(a.images):
            img, plates = scene(rng, size)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            assert ok
            blobs.append(buf.tobytes())
            truths += len(plates)
        recognizer.analyze(decode(blobs[0]).image, "warm-up")
        parts: dict[str, list[float]] = {"decode": [], "detect": [], "read": [], "total": []}
        found = 0
        for i, blob in enumerate(blobs):
            t0 = time.perf_counter()
            decoded = decode(blob)
            decode_ms = (time.perf_counter() - t0) * 1e3
            result = recognizer.analyze(decoded.image, f"{i}.jpg", decode_ms)
            total = (time.perf_counter() - t0) * 1e3
            timing = result["timing_ms"]
            parts["decode"].append(decode_ms)
            parts["detect"].append(timing.get("detect", 0.0))
            parts["read"].append(timing.get("read", 0.0))
            parts["total"].append(total)
            found += len(result["plates"])
        kb = statistics.mean(len(b) for b in blobs) / 1024
        med = {k: statistics.median(v) for k, v in parts.items()}
        print(
            f"| {label} | {kb:.0f} | {med['decode']:.1f} | {med['detect']:.1f} | {med['read']:.1f} | "
            f"{med['total']:.1f} | {_pct(parts['total'], 0.95):.1f} | {found}/{truths} |"
        )
        summary.append(f"p50_ms_{label}={med['total']:.1f}")
    print(" ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
