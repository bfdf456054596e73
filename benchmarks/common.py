"""Shared pieces of the pipeline benchmarks: the benchmark clip, the machine description, a site config.

The clip is the demo scene synthesizer's (`models.training.clip`) at the requested size, cached under
``build/bench/`` (making a 1080p clip takes about a minute on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "build" / "bench"


#: An IP camera's H.264 bitrate at 1080p (typical settings are 4-8 Mbit/s); scaled by pixel count.
BITRATE_1080P = 6_000_000


def bench_clip(size: tuple[int, int] = (1920, 1080), fps: int = 15, seed: int = 5) -> tuple[Path, list[str]]:
    """The cached benchmark clip at ``size`` and its plates (made on first use).

    Encoded at a camera-like constant bitrate with sensor noise: decoding cost grows with the bitrate,
    and the demo clip's 0.5 Mbit/s would make decode-only look several times faster than a real camera.
    """
    from models.training.clip import make_clip

    bitrate = int(BITRATE_1080P * size[0] * size[1] / (1920 * 1080))
    path = BENCH_DIR / f"gate-{size[0]}x{size[1]}-{fps}fps-s{seed}-{bitrate // 1000}k.mp4"
    truth = path.with_suffix(".json")
    if not (path.is_file() and truth.is_file()):
        print(f"# making {path.name} (once) ...", flush=True)
        vehicles = make_clip(path, seed, fps, size, noise=4.0, bitrate=bitrate)
        truth.write_text(json.dumps([v.text for v in vehicles], ensure_ascii=False), encoding="utf-8")
    return path, json.loads(truth.read_text(encoding="utf-8"))


def machine() -> str:
    """CPU model, usable cores and library versions, for the results table."""
    import av
    import onnxruntime as ort

    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    return (
        f"{cpu}, {cores} cores; Python {platform.python_version()}, ONNX Runtime {ort.__version__} "
        f"({', '.join(ort.get_available_providers())}), PyAV {av.__version__}"
    )


def site(
    state_dir: Path, broker_port: int, cameras: list[dict[str, Any]], detector: str | None = None
) -> Any:
    """A validated `edge.config.Config` for a local broker and ``cameras``."""
    from edge.config_schema import Config

    # A short de-duplication window: the clip loops, and every pass should count as new vehicles.
    recognition: dict[str, Any] = {"dedup_window_s": 1}
    if detector is not None:
        recognition["detector"] = detector
    return Config.model_validate(
        {
            "site": "bench",
            "mqtt": {"host": "127.0.0.1", "port": broker_port, "reconnect": {"initial_s": 0.5, "max_s": 2}},
            "cameras": cameras,
            "recognition": recognition,
            "storage": {"state_dir": str(state_dir), "snapshot_retention_days": 0},
            "http": {"enabled": False},
        }
    )
