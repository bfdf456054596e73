"""`plate-edge bench NAME [ARGS...]`: run one of the benchmarks in the source tree's `benchmarks/`.

The benchmarks live beside the package, not in it (they need the test servers in `tests/support` and
the training code's scene synthesizer), so this command works from a checkout (`pip install -e`), and
says so clearly elsewhere. Each benchmark prints a table and a last machine-readable line; see
`benchmarks/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2

#: name -> what it measures (the module is benchmarks.<name>)
BENCHMARKS = {
    "stream": "whole-pipeline fps vs decode-only on a 1080p clip",
    "capacity": "how many 15 fps cameras the box carries in real time",
    "latency": "frame of the confident read -> event at an MQTT subscriber, p50/p95",
    "image": "still-image latency per stage at 720p, 1080p and 4K",
    "api": "still-image HTTP API and analyze command: latency and requests/s",
    "reader": "reader and locator ms per area / plate, threads and batch sizes",
    "detector": "ms per frame of both scene-detector backends",
    "text_detector": "the text detector's network and post-processing",
}
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def configure(parser: argparse.ArgumentParser) -> Any:
    parser.add_argument(
        "name", choices=sorted(BENCHMARKS), help="; ".join(f"{k}: {v}" for k, v in BENCHMARKS.items())
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark (see its --help)")
    return run


def run(args: argparse.Namespace) -> int:
    if not (SOURCE_ROOT / "benchmarks" / "__init__.py").is_file():
        print(
            "plate-edge bench: the benchmarks ship with the source tree (benchmarks/ beside edge/); "
            "run it from a checkout installed with `pip install -e .`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT))
    module = importlib.import_module(f"benchmarks.{args.name}")
    code: int = module.main(list(args.args))
    return code
