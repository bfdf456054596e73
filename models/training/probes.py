"""Probe sets made from a seeded set: its plates changed one way each, to measure one question each.

    python -m models.training.probes turned --manifest build/testset/manifest.csv --first 400 \\
        --degrees 20 --out build/probe-rot20
    python -m models.training.probes dim --manifest build/testset/manifest.csv --first 400 \\
        --out build/probe-dim

``turned``: each crop turned about its centre by ``--degrees`` (the sign alternating from row to row) on
a canvas grown to hold all of it, the new corners filled by repeating the edge pixels. This is how the
README's turned-plate figures (locator v4) were measured, with the first 400 plates of the test set at
10, 20 and 30 degrees.

``dim``: each crop at `DIM_GAIN` of its exposure with the sensor's own noise added (`DIM_NOISE`), a
dark lane without IR; ``hazy``: each crop at `HAZE_CONTRAST` of its contrast about its mean, haze or a
dirty window. Both lie outside the synthesizer's exposures and stay legible to a person; they measured
`edge.contrast`.

``occluded``: a dark bar over each crop's full height, `BAR_WIDTH` of its width, somewhere in its middle
three fifths (a tow bar, a bike rack, tape over a character). No reader can read such a plate; the
question is how often it says it is sure of a wrong read. ``letterboxed``: each crop centred on a
black square, as a data set prepared for a square-input network would hand it over.

``h264``/``hevc``: each crop through H.264 / H.265 at quantizer ``--qp`` (`video_codec`), as a key
frame or, with ``--motion PX``, as a frame predicted from the previous one, the plate moved ``PX``
pixels sideways (alternating in sign row by row). The crops were drawn with their own JPEG round, so
this is a second codec on top of the first; compare with ``jpeg --quality Q`` at the same PSNR (both
print it), not with the set as drawn.

The labels are the source's; the seeded sets themselves stay as drawn.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge.evaluate import read_manifest
from models.training.capture import jpeg
from models.training.video_codec import h264, hevc


def turn(image: np.ndarray, degrees: float) -> np.ndarray:
    """``image`` turned by ``degrees`` counter-clockwise on a canvas that holds all of it."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), borderMode=cv2.BORDER_REPLICATE)


#: ``dim``: the share of the exposure kept, and the sensor noise (std, grey levels) added to it.
DIM_GAIN, DIM_NOISE = 0.12, 2.0
#: ``hazy``: the share of the contrast kept, about the crop's mean.
HAZE_CONTRAST = 0.25
#: The seed of the dim probe's noise, drawn row after row.
DIM_SEED = 5


def relit(image: np.ndarray, light: str, rng: np.random.Generator) -> np.ndarray:
    """``image`` (uint8) as a dark lane (``dim``, noise from ``rng``) or haze (``hazy``) films it."""
    x = image.astype(np.float32)
    if light == "dim":
        x = x * DIM_GAIN + rng.normal(0.0, DIM_NOISE, x.shape)
    elif light == "hazy":
        x = 128.0 + (x - x.mean()) * HAZE_CONTRAST
    else:
        raise ValueError(f"unknown light {light!r}: dim or hazy")
    return np.clip(x, 0, 255).astype(np.uint8)


#: ``occluded``: the bar's width as a share of the crop's, its grey level, and the seed of its places.
BAR_WIDTH, BAR_GREY, BAR_SEED = 0.06, 20, 7


def occluded(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image`` with a dark bar over its full height at a place drawn from ``rng``."""
    w = image.shape[1]
    x = int(rng.uniform(0.2, 0.8) * w)
    out = image.copy()
    out[:, x : x + max(2, int(BAR_WIDTH * w))] = BAR_GREY
    return out


def letterboxed(image: np.ndarray) -> np.ndarray:
    """``image`` centred on a black square canvas as wide as its longer side."""
    h, w = image.shape[:2]
    side = max(h, w)
    out = np.zeros((side, side, *image.shape[2:]), image.dtype)
    y0, x0 = (side - h) // 2, (side - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = image
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of ``b`` against ``a`` (uint8, same shape), in dB; 99 when equal."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 99.0 if mse == 0.0 else 10.0 * float(np.log10(255.0**2 / mse))


def codec_set(
    manifest: Path, out: Path, change: Callable[[int, np.ndarray], np.ndarray], first: int | None
) -> float:
    """`probe_set` with a codec ``change``; returns the median PSNR of the changed crops (dB)."""
    scores: list[float] = []

    def scored(i: int, image: np.ndarray) -> np.ndarray:
        changed = change(i, image)
        scores.append(psnr(image, changed))
        return changed

    probe_set(manifest, out, scored, first)
    return float(np.median(scores))


def turned_set(manifest: Path, out: Path, degrees: float, first: int | None = None) -> Path:
    """The crops of ``manifest`` (its first ``first`` rows) turned by +-``degrees``, with a manifest."""
    return probe_set(manifest, out, lambda i, image: turn(image, degrees if i % 2 else -degrees), first)


def relit_set(manifest: Path, out: Path, light: str, first: int | None = None) -> Path:
    """The crops of ``manifest`` (its first ``first`` rows) `relit`, with a manifest."""
    rng = np.random.default_rng(DIM_SEED)
    return probe_set(manifest, out, lambda _i, image: relit(image, light, rng), first)


def probe_set(
    manifest: Path,
    out: Path,
    change: Callable[[int, np.ndarray], np.ndarray],
    first: int | None = None,
) -> Path:
    """Each crop of ``manifest`` (its first ``first`` rows) passed through ``change(row, image)`` and
    written under ``out/images`` with the source's name, and a manifest of them with the source's labels."""
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
            cv2.imwrite(str(out / "images" / row.name), change(i, image))
            w.writerow([row.name, row.text, "", "", "", "", "crop"])
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.probes", description=__doc__)
    ap.add_argument(
        "what", choices=["turned", "dim", "hazy", "occluded", "letterboxed", "h264", "hevc", "jpeg"]
    )
    ap.add_argument("--manifest", type=Path, required=True, help="a set of crops (kind crop) to change")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--degrees", type=float, help="turned: by how much")
    ap.add_argument("--first", type=int, help="only the first N rows")
    ap.add_argument("--qp", type=int, help="h264, hevc: the quantizer (0-51; cameras send 28-38)")
    ap.add_argument(
        "--motion", type=float, help="h264, hevc: a predicted frame, the plate moved this many px"
    )
    ap.add_argument("--quality", type=int, help="jpeg: the quality (1-100)")
    a = ap.parse_args(argv)
    if a.what == "turned":
        if a.degrees is None:
            ap.error("turned needs --degrees")
        print(turned_set(a.manifest, a.out, a.degrees, a.first))
    elif a.what == "occluded":
        rng = np.random.default_rng(BAR_SEED)
        print(probe_set(a.manifest, a.out, lambda _i, image: occluded(image, rng), a.first))
    elif a.what in ("h264", "hevc"):
        if a.qp is None:
            ap.error(f"{a.what} needs --qp")
        qp, motion, codec = a.qp, a.motion, h264 if a.what == "h264" else hevc

        def coded(i: int, image: np.ndarray) -> np.ndarray:
            return codec(image, qp, None if motion is None else (motion if i % 2 else -motion, 0.0))

        print(f"median PSNR {codec_set(a.manifest, a.out, coded, a.first):.1f} dB")
    elif a.what == "jpeg":
        if a.quality is None:
            ap.error("jpeg needs --quality")
        quality = a.quality
        median = codec_set(a.manifest, a.out, lambda _i, image: jpeg(image, quality), a.first)
        print(f"median PSNR {median:.1f} dB")
    elif a.what == "letterboxed":
        print(probe_set(a.manifest, a.out, lambda _i, image: letterboxed(image), a.first))
    else:
        print(relit_set(a.manifest, a.out, a.what, a.first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
