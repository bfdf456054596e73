"""Milliseconds per frame of the text-detector backend (`edge.text_detector.TextDetector.detect`).

Prints the median of ``--repeats`` timed calls (after one warm-up) for a 1280x720 and a 1920x1080 frame,
with the split into pre-processing, network and post-processing. Numbers only, no assertions:

    .venv/bin/python benchmarks/text_detector.py [--limit-side 1280] [--threads 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
import numpy as np

from edge.text_detector import TextDetector


def frame(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A textured frame with some text on it (post-processing cost depends on how much text there is)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(40, 220, (9, 16, 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
    for i, text in enumerate(("12가3456", "PARKING", "EXIT 24H", "서울", "GATE 2")):
        org = (int(w * (0.1 + 0.15 * i)), int(h * (0.2 + 0.13 * i)))
        cv2.putText(
            img, text, org, cv2.FONT_HERSHEY_SIMPLEX, h / 500, (10, 10, 10), max(1, h // 300), cv2.LINE_AA
        )
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit-side", type=int, default=1280, help="network input long side (default 1280)")
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args(argv)

    det = TextDetector(device=args.device, threads=args.threads, limit_side=args.limit_side)
    print(
        f"text detector, limit_side={args.limit_side}, threads={args.threads or 'all'}, device={args.device}"
    )
    for w, h in ((1280, 720), (1920, 1080)):
        img = frame(w, h)
        det.detect(img)  # warm-up: ORT allocates buffers for the new input shape
        total: list[float] = []
        parts: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            det.detect(img)
            total.append((time.perf_counter() - t0) * 1e3)
            for k, v in det.last_timing_ms.items():
                parts.setdefault(k, []).append(v)
        split = " ".join(f"{k}={statistics.median(v):.1f}" for k, v in parts.items())
        print(f"{w}x{h}: {statistics.median(total):.1f} ms/frame (median of {args.repeats}; {split})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
