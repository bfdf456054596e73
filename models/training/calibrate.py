"""Calibrate the reader's plate confidence on a labelled synthetic set and store it in the manifest.

The raw joint confidence (product of per-character peaks) is over-confident on hard plates. We bin
reads by raw confidence, measure how often each bin is exactly right, make the curve monotone (pool
adjacent violators), and store the (raw, accuracy) knots; `edge.ocr.Calibration` interpolates them. A
read reported at 0.95 is then right about 95 % of the time on the synthetic test set — real plates may
differ, which the private real-set reports will tell.

    python -m models.training.calibrate --manifest build/calibset/manifest.csv [--precision int8]

Each copy of the reader is calibrated on its own reads (``--precision``; the int8 copy's curve goes in
its own manifest entry): quantization moves confidences a little, and near 0.95 a little is the
difference between a confident read and an unsure one.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from edge.engine import Engine
from edge.evaluate import read_manifest
from edge.imageio import read_image
from edge.ocr import INT8_ENTRY, Calibration
from edge.runtime import PRECISIONS
from models.training import manifest as mf


def pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing fit of y with weights w."""
    blocks = [[float(v), float(c), 1] for v, c in zip(y, w, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            a, b = blocks[i], blocks[i + 1]
            tot = a[1] + b[1]
            blocks[i] = [(a[0] * a[1] + b[0] * b[1]) / max(tot, 1e-9), tot, a[2] + b[2]]
            del blocks[i + 1]
            i = max(i - 1, 0)
        else:
            i += 1
    return np.concatenate([[v] * n for v, _, n in blocks])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.calibrate")
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--bins", type=int, default=12)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--precision", choices=PRECISIONS, default="float", help="the reader copy")
    a = ap.parse_args(argv)
    engine = Engine.load(device="cpu", precision=a.precision)
    engine.calibration = Calibration()  # measure raw confidences
    raws, hits = [], []
    for i, row in enumerate(read_manifest(a.manifest)):
        if a.limit and i >= a.limit:
            break
        plate = engine.read_plate(read_image(row.path, strict=False, max_bytes=None).image)
        raws.append(plate.confidence)
        hits.append(plate.text == row.text)
    r, h = np.array(raws), np.array(hits, np.float64)
    edges = np.unique(np.quantile(r, np.linspace(0, 1, a.bins + 1)))
    xs, ys, ws = [], [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (r >= lo) & (r <= hi)
        if sel.any():
            xs.append(float(r[sel].mean()))
            ys.append(float(h[sel].mean()))
            ws.append(float(sel.sum()))
    fitted = pav(np.array(ys), np.array(ws))
    knots_x = [0.0, *xs, 1.0]
    knots_y = [0.0, *[round(float(v), 4) for v in fitted], float(fitted[-1])]
    data = mf.load()
    data["models"]["reader" if a.precision == "float" else INT8_ENTRY]["calibration"] = {
        "x": [round(v, 5) for v in knots_x],
        "y": knots_y,
        "fitted_on": str(a.manifest),
        "n": len(r),
    }
    mf.save(data)
    cal = Calibration(knots_x, knots_y)
    conf = np.array([cal(v) for v in r])
    for lo in (0.5, 0.8, 0.9, 0.95):
        sel = conf >= lo
        if sel.any():
            print(f"calibrated >= {lo:.2f}: n={int(sel.sum())} accuracy={h[sel].mean():.3f}")
    print(f"overall exact={h.mean():.3f} n={len(r)}; knots x={knots_x} y={knots_y}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
