"""One reader training stage with its data drawn alongside it.

The synthesizer writes shards into ``--data`` on ``--workers`` processes while `train_reader` trains on
whatever has landed (it picks up each new shard as it completes and keeps the first complete one for
validation). Made for a machine with many cores and a GPU, where drawing first and training after would
leave the GPU idle for most of the stage; on the CPU box it works the same, with fewer new plates per
minute. The generator is stopped when the training budget is spent, so ``--plates`` is a ceiling, not
a promise: the last line says how many shards landed.

    python -m models.training.reader_stage --data build/reader-g1 --plates 2000000 --seed 61 \\
        --focus 0.35 --workers 14 -- --minutes 8.2 --init models/reader.pt --lr 1.2e-3 --batch 1024
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from models.training import train_reader


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.training.reader_stage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--data", type=Path, required=True, help="shard folder (new shards are added)")
    ap.add_argument("--plates", type=int, required=True, help="at most this many new plates")
    ap.add_argument("--seed", type=int, required=True, help="generator seed (and train_reader's default)")
    ap.add_argument("--focus", type=float, default=0.0, help="share of region-name plates")
    ap.add_argument("--workers", type=int, default=2, help="generator processes")
    ap.add_argument("--per-shard", type=int, default=2500, help="plates per shard (smaller lands sooner)")
    ap.add_argument("--locator", type=Path, default=Path("models"), help="models folder cutting half")
    ap.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then train_reader's arguments")
    a = ap.parse_args(argv)
    rest = a.train_args[1:] if a.train_args[:1] == ["--"] else a.train_args
    if "--seed" not in rest:
        rest += ["--seed", str(a.seed)]
    a.data.mkdir(parents=True, exist_ok=True)
    generator_cmd = [
        sys.executable, "-m", "models.training.dataset", "shards", "--out", str(a.data),
        "--plates", str(a.plates), "--seed", str(a.seed), "--focus", str(a.focus),
        "--locator", str(a.locator), "--workers", str(a.workers), "--per-shard", str(a.per_shard),
    ]  # fmt: skip
    with (a.data / "generator.log").open("a") as log:
        # a process group of its own, so that stopping it stops the pool's workers with it
        generator = subprocess.Popen(
            generator_cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            rc = train_reader.main(["--data", str(a.data), "--wait-minutes", "10", *rest])
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(generator.pid, signal.SIGTERM)  # the group: the pool's workers too
            generator.wait(timeout=60)
    print(f"shards landed: {len(list(a.data.glob('shard-*.npz')))}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
