"""Milliseconds per frame of both scene-detector backends, pre- and post-processing included.

`OwnDetector.detect` (letterbox resize, network, peak decoding) and `TextDetector.detect` (resize,
network, DB boxes, plate grouping) on seeded synthetic gate scenes (`models.training.scenes`, so the
post-processing sees real plates and real clutter), at 1280x720 and 1920x1080, with ONNX Runtime limited
to one intra-op thread (one camera worker on the edge box) and with all cores. Median of ``--repeats``
calls after a warm-up; numbers only, no assertions:

    python -m benchmarks.detector [--repeats 50] [--device cpu]

Last line: ``own_ms_1080p_all=N.N text_ms_1080p_all=N.N`` (all cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from edge.detector import PlateDetector
from edge.recognizer import load_detector
from models.training.scenes import scene

SIZES = ((1280, 720), (1920, 1080))


def _median_ms(det: PlateDetector, img: np.ndarray, repeats: int) -> tuple[float, dict[str, float]]:
    for _ in range(3):  # warm-up: ORT allocates buffers for a new input shape
        det.detect(img)
    total: list[float] = []
    parts: dict[str, list[float]] = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        det.detect(img)
        total.append((time.perf_counter() - t0) * 1e3)
        for k, v in getattr(det, "last_timing_ms", {}).items():
            parts.setdefault(k, []).append(v)
    return statistics.median(total), {k: statistics.median(v) for k, v in parts.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=50, help="timed calls per case (text: a fifth of it)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    a = ap.parse_args(argv)
    frames = {size: scene(np.random.default_rng(5), size, vehicles=2)[0] for size in SIZES}
    print(f"{'backend':<8}{'threads':>8}{'frame':>11}{'ms/frame':>10}  split")
    last: dict[str, float] = {}
    for backend in ("own", "text"):
        for threads in (1, 0):
            det = load_detector(backend, a.device, threads)  # type: ignore[arg-type]
            assert det is not None
            reps = a.repeats if backend == "own" else max(3, a.repeats // 5)
            for w, h in SIZES:
                ms, split = _median_ms(det, frames[(w, h)], reps)
                label = "1" if threads == 1 else "all"
                parts = " ".join(f"{k}={v:.1f}" for k, v in split.items())
                print(f"{backend:<8}{label:>8}{f'{w}x{h}':>11}{ms:>10.1f}  {parts}", flush=True)
                if threads == 0 and h == 1080:
                    last[backend] = ms
    print(f"own_ms_1080p_all={last['own']:.1f} text_ms_1080p_all={last['text']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
