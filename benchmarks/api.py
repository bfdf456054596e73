"""Throughput and latency of `POST /v1/analyze` on 1080p JPEGs, and of `plate-edge analyze` per image.

Starts `plate-edge serve` (real uvicorn, real models) on a free loopback port, sends ``--requests``
uploads at concurrency 1 and 4 (after ``--warmup`` each), and reports requests/s and p50/p95 latency as
the client sees them (upload + decode + analysis + response). Then times the analyze command: one image
(start-up included: Python, models, detector) and ``--images`` images in one run, giving the marginal
cost per image. Numbers only, no assertions; the last line is machine-readable:

    .venv/bin/python benchmarks/api.py [--requests 20] [--images 6] [--device cpu] [--url http://host:port]

Trade-off: the client runs on the same box as the server, so on a 2-core machine it takes some CPU from
the server; its work per request (building a multipart body from bytes in memory) is small next to an
analysis. ``--url`` benchmarks a server that is already running (anywhere) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the scene builder lives in tests/support

import httpx  # noqa: E402

from tests.support.ports import LOOPBACK, free_port, wait_for_port  # noqa: E402
from tests.support.scenes import jpeg, plate_scene  # noqa: E402

SCRIPT = Path(sys.executable).with_name("plate-edge")


def make_images(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        scene = plate_scene(100 + i, size=(1920, 1080), char_height=40, style=("white7", "white8")[i % 2])
        path = folder / f"frame{i:02d}.jpg"
        path.write_bytes(jpeg(scene.image, 90))
        paths.append(path)
    return paths


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def bench_api(
    url: str, images: list[bytes], requests: int, concurrency: int, warmup: int
) -> dict[str, float]:
    def one(i: int, client: httpx.Client) -> float:
        files = {"image": (f"frame{i}.jpg", images[i % len(images)], "image/jpeg")}
        t0 = time.perf_counter()
        response = client.post(f"{url}/v1/analyze", files=files)
        elapsed = time.perf_counter() - t0
        response.raise_for_status()
        return elapsed

    with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        for i in range(warmup):
            one(i, client)
        with ThreadPoolExecutor(concurrency) as pool:
            t0 = time.perf_counter()
            latencies = list(pool.map(lambda i: one(i, client), range(requests)))
            wall = time.perf_counter() - t0
    return {
        "rps": requests / wall,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p95_ms": percentile(latencies, 0.95) * 1e3,
    }


def bench_cli(paths: list[Path], device: str, detector: list[str]) -> dict[str, float]:
    def run(files: list[Path]) -> float:
        t0 = time.perf_counter()
        subprocess.run(
            [SCRIPT, "analyze", "--device", device, *detector, *map(str, files)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0

    one = run(paths[:1])
    many = run(paths)
    return {
        "one_image_s": one,
        "per_image_ms": (many - one) / max(len(paths) - 1, 1) * 1e3,
        "images": len(paths),
    }


def start_server(device: str, detector: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [str(SCRIPT), "serve", "--host", LOOPBACK, "--port", str(port), "--device", device, *detector]
    proc = subprocess.Popen(
        [*argv, "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    if not wait_for_port(LOOPBACK, port, timeout=120):
        proc.kill()
        raise SystemExit(f"plate-edge serve did not start: {proc.communicate()[1].decode(errors='replace')}")
    return proc, f"http://{LOOPBACK}:{port}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20, help="timed requests per concurrency level")
    ap.add_argument("--warmup", type=int, default=2, help="untimed requests first")
    ap.add_argument("--images", type=int, default=6, help="distinct 1080p JPEGs (and images per CLI run)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    ap.add_argument("--url", help="benchmark this running server instead of starting one")
    ap.add_argument("--no-cli", action="store_true", help="skip the analyze command timing")
    ap.add_argument(
        "--detector", choices=("own", "text"), help="scene detector (default: the config default)"
    )
    args = ap.parse_args(argv)
    detector = ["--detector", args.detector] if args.detector else []

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        paths = make_images(Path(tmp), max(2, args.images))
        payloads = [p.read_bytes() for p in paths]
        proc, url = (None, args.url) if args.url else start_server(args.device, detector)
        try:
            api = {c: bench_api(url, payloads, args.requests, c, args.warmup) for c in (1, 4)}
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
        cli = None if args.no_cli else bench_cli(paths, args.device, detector)

    size = sum(map(len, payloads)) / len(payloads) / 1024
    print(
        f"POST /v1/analyze, 1920x1080 JPEG (~{size:.0f} KB), {args.requests} requests, cores={os.cpu_count()}"
    )
    print(f"{'concurrency':>11} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for c, r in api.items():
        print(f"{c:>11} {r['rps']:>8.2f} {r['p50_ms']:>8.0f} {r['p95_ms']:>8.0f}")
    if cli is not None:
        print(f"plate-edge analyze: 1 image {cli['one_image_s']:.2f} s (start-up included), "
              f"{cli['per_image_ms']:.0f} ms per further image ({cli['images']} images)")  # fmt: skip
    result = {f"api_c{c}_{k}": round(v, 2) for c, r in api.items() for k, v in r.items()}
    if cli is not None:
        result.update(
            {
                "cli_one_image_s": round(cli["one_image_s"], 2),
                "cli_per_image_ms": round(cli["per_image_ms"], 1),
            }
        )
    print("RESULT " + json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
