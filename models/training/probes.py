"""Probe sets made from a seeded set: its plates turned, to measure one question each.

    python -m models.training.probes turned --manifest build/testset/manifest.csv --first 400 \\
        --degrees 20 --out build/probe-rot20

``turned``: each crop turned about its centre by ``--degrees`` (the sign alternating from row to row) on
a canvas grown to hold all of it, the new corners filled by repeating the edge pixels. The labels are
the source's. This is how the README's turned-plate figures (locator v4) were measured, with the first
400 plates of the test set at 10, 20 and 30 degrees. The seeded sets themselves stay as drawn.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

from edge.evaluate import read_manifest


def turn(image: np.ndarray, degrees: float) -> np.ndarray:
    """``image`` turned by ``degrees`` counter-clockwise on a canvas that holds all of it."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), borderMode=cv2.BORDER_REPLICATE)


def turned_set(manifest: Path, out: Path, degrees: float, first: int | None = None) -> Path:
    """The crops of ``manifest`` (its first ``first`` rows) turned by +-``degrees``, with a manifest."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    written = out / "manifest.csv"
    with written.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate_text", "x1", "y1", "x2", "y2", "kind"])
        for i, row in enumerate(read_manifest(manifest)):
            if first is not None and i >= first:
                break
            image = cv2.imread(str(row.path))
            if image is None:
                raise SystemExit(f"cannot read {row.path}")
            cv2.imwrite(str(out / "images" / row.name), turn(image, degrees if i % 2 else -degrees))
            w.writerow([row.name, row.text, "", "", "", "", "crop"])
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.probes", description=__doc__)
    ap.add_argument("what", choices=["turned"])
    ap.add_argument("--manifest", type=Path, required=True, help="a set of crops (kind crop) to turn")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--degrees", type=float, required=True)
    ap.add_argument("--first", type=int, help="only the first N rows")
    a = ap.parse_args(argv)
    print(turned_set(a.manifest, a.out, a.degrees, a.first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
