"""Whole-pipeline frame rate against decode-only, on the same 1080p H.264 clip, in one run.

decode-only: PyAV decodes every frame of the clip (frame threads on, as the daemon does) and nothing else:
the physical floor of a CPU box. pipeline: the daemon's camera path on the same file (`FrameSource` with
``pace: fast`` so no frame is skipped for time, `CameraWorker` with the configured detector, motion gate
and ``detect_fps``, tracking, reading, fusion, events into a list). The ratio is the issue's goal
(>= 0.9). Numbers only:

    python -m benchmarks.stream [--detector own|text] [--detect-fps 10] [--size 1920x1080]

Last line: ``decode_fps=NN.N pipeline_fps=NN.N ratio=0.NN reads=N/N``.
"""

from __future__ import annotations

import argparse
import sys
import time

import av

from benchmarks.common import bench_clip, machine


def decode_only(path: str) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
    return n, time.perf_counter() - t0


def pipeline(
    path: str, detector: str | None, detect_fps: float
) -> tuple[int, float, list[str], dict[str, float]]:
    from edge.camera import CameraWorker
    from edge.config_schema import CameraConfig, RecognitionConfig
    from edge.recognizer import load_recognizer
    from edge.source import FrameSource

    rec_cfg = RecognitionConfig(**({"detector": detector} if detector else {}))
    recognizer = load_recognizer(detector=rec_cfg.detector)
    assert recognizer.detector is not None
    camera = CameraConfig(id="bench", url=path, pace="fast", detect_fps=detect_fps)
    events: list[object] = []
    source = FrameSource(camera)
    worker = CameraWorker(
        "bench", camera, rec_cfg, source, recognizer.detector, recognizer.engine, events.append
    )
    t0 = time.perf_counter()
    source.start()
    worker.start()
    worker.finished.wait(3600)
    elapsed = time.perf_counter() - t0
    reads = [e.plate.text for e in events if e.type == "plate.read"]  # type: ignore[attr-defined]
    stats = {
        "detect_runs": worker.stats.detect_runs,
        "detect_ms": 1e3 * worker.stats.detect_s / max(1, worker.stats.detect_runs),
        "read_ms": 1e3 * worker.stats.read_s / max(1, worker.stats.detect_runs),
        "sampled": worker.stats.frames,
    }
    return source.stats.decoded, elapsed, reads, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("own", "text"), help="default: the config default")
    ap.add_argument("--detect-fps", type=float, default=10.0)
    ap.add_argument("--size", default="1920x1080")
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.split("x"))
    path, plates = bench_clip((w, h))
    print(f"# {machine()}")
    n_dec, t_dec = decode_only(str(path))
    n_pipe, t_pipe, reads, stats = pipeline(str(path), a.detector, a.detect_fps)
    decode_fps, pipe_fps = n_dec / t_dec, n_pipe / t_pipe
    print("| path | frames | seconds | frames/s |\n|---|---|---|---|")
    print(f"| decode only | {n_dec} | {t_dec:.1f} | {decode_fps:.1f} |")
    print(f"| pipeline (detect_fps {a.detect_fps:g}) | {n_pipe} | {t_pipe:.1f} | {pipe_fps:.1f} |")
    print(
        f"# pipeline: {stats['sampled']} frames sampled, {stats['detect_runs']} detector runs, "
        f"{stats['detect_ms']:.1f} ms detect + {stats['read_ms']:.1f} ms read per run"
    )
    right = sum(1 for p in plates if p in reads)
    print(f"# reads: {reads} (truth {plates})")
    print(
        f"decode_fps={decode_fps:.1f} pipeline_fps={pipe_fps:.1f} ratio={pipe_fps / decode_fps:.2f} "
        f"reads={right}/{len(plates)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
