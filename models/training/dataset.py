"""Synthetic reader data: plates filmed, areas cut exactly as the product cuts them, stored as shards.

Each sample is one text area (a whole single-line plate, or one line of a two-line plate) rectified to
the reader's input size from a plate quad that is deliberately a little wrong (corner noise, loose or
tight), because at run time the quad comes from a detector, not from ground truth.

    python -m models.training.dataset shards --out build/reader-data --plates 120000 --seed 1
    python -m models.training.dataset shards --out build/reader-tune --plates 60000 --seed 5 \
        --focus 0.5 --locator models
    python -m models.training.dataset testset --out build/testset --plates 4500 --seed 9001
    python -m models.training.dataset testset --out build/testset-loose --plates 1500 --seed 9201 --loose
    python -m models.training.dataset sheet --out models/contact_sheet.png --seed 7
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.areas import AREA_MIN_SPREAD, cut_areas, plate_height
from edge.locator import OnnxLocator, PlateLocator
from edge.plate import CHARSET, HIDDEN
from models.training import provenance
from models.training.capture import (
    LOOSE_WINDOW,
    WINDOW_MARGIN,
    degrade,
    mount,
    render_scale,
    sample_char_height,
)
from models.training.glyphs import TYPEFACES
from models.training.legibility import MIN_LEGIBILITY, plate_legibility, wiped_labels
from models.training.occluders import occlude as occlude_plate
from models.training.plates import STYLES, Box, PlateSpec, render_plate, sample_spec

MAX_LABEL = 12
#: Draws tried for a plate that should come out wiped (`film_labelled`'s ``wiped``): about 4 % of draws
#: fail the legibility gate, so about a fifth of such plates find one; the rest keep their last draw.
WIPED_ATTEMPTS = 6


def film(
    rng: np.random.Generator,
    style: str | None = None,
    min_legibility: float = MIN_LEGIBILITY,
    window: tuple[float, float] = WINDOW_MARGIN,
    typefaces: str = "standard",
) -> tuple[PlateSpec, np.ndarray, np.ndarray, float]:
    """One plate, filmed: (spec, image BGR, true quad, character height px).

    A draw whose degradations left a line illegible (`legibility`) is redrawn, degradations and all:
    the plate text, size and geometry are kept, so the kind and size mix is unchanged. After 8 draws
    the last is kept whatever its score, so a pathological plate cannot stall generation. ``window``:
    how much of the car the image keeps around the plate (`capture.mount`); ``typefaces``: the fonts
    (`plates.render_plate`).
    """
    spec, image, quad, char_h, _score = film_scored(rng, style, min_legibility, window, typefaces)
    return spec, image, quad, char_h


def film_scored(
    rng: np.random.Generator,
    style: str | None = None,
    min_legibility: float = MIN_LEGIBILITY,
    window: tuple[float, float] = WINDOW_MARGIN,
    typefaces: str = "standard",
) -> tuple[PlateSpec, np.ndarray, np.ndarray, float, float]:
    """`film`, plus the legibility score of the plate's least legible line."""
    spec, image, quad, char_h, score, _lines = _film(rng, style, min_legibility, window, typefaces, 0.0, 0.0)
    return spec, image, quad, char_h, score


def film_labelled(
    rng: np.random.Generator,
    style: str | None = None,
    typefaces: str = "standard",
    occlude: float = 0.0,
    video: float = 0.0,
    window: tuple[float, float] = WINDOW_MARGIN,
    wiped: float = 0.0,
) -> tuple[PlateSpec, np.ndarray, np.ndarray, float, tuple[str, ...]]:
    """`film`, with an occluder in front of the share ``occlude`` of plates (`occluders`), and the
    labels of the plate's lines: `edge.plate.HIDDEN` where a character is hidden. ``video``: the share
    of plates filmed through H.264 rather than JPEG (`capture.degrade`). ``wiped``: the share of plates
    whose draw is sought among those the legibility gate would refuse (`WIPED_ATTEMPTS`), each character
    the capture wiped out labelled hidden (`legibility.wiped_labels`). With all three 0 it draws
    exactly what `film` draws."""
    spec, image, quad, char_h, _score, lines = _film(
        rng, style, MIN_LEGIBILITY, window, typefaces, occlude, video, wiped
    )
    return spec, image, quad, char_h, lines


def _film(
    rng: np.random.Generator,
    style: str | None,
    min_legibility: float,
    window: tuple[float, float],
    typefaces: str,
    occlude: float,
    video: float,
    wiped: float = 0.0,
) -> tuple[PlateSpec, np.ndarray, np.ndarray, float, float, tuple[str, ...]]:
    spec = sample_spec(rng, style)
    char_h = sample_char_height(rng)
    # collecting boxes draws nothing from rng
    boxes: list[Box] | None = [] if occlude > 0 or wiped > 0 else None
    plate = render_plate(
        spec, rng, render_scale(char_h, spec.two_line, STYLES[spec.style][1][1]), typefaces, boxes
    )
    lines = spec.lines
    if occlude > 0 and rng.random() < occlude:
        assert boxes is not None
        plate, lines = occlude_plate(plate, spec, boxes, rng)
    seek_wiped = wiped > 0 and rng.random() < wiped
    for _attempt in range(WIPED_ATTEMPTS if seek_wiped else 8):
        scene, quad = mount(plate, rng, spec.two_line, char_h, window)
        image = degrade(scene, rng, quad, char_h, video)
        score = plate_legibility(scene, image, quad, spec.two_line)
        if (score < min_legibility) if seek_wiped else (score >= min_legibility):
            break
    if seek_wiped:
        assert boxes is not None
        spans = [(float(b.x), float(b.x + b.w)) for b in boxes]
        lines = wiped_labels(scene, image, quad, lines, spans, plate.shape[1])  # keeps an occluder's
    return spec, image, quad, char_h, score, lines


def detector_error(quad: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible run-time quad: corner noise plus a loose or tight fit, scaled to the plate."""
    h = plate_height(quad)
    centre = quad.mean(axis=0)
    grow = np.array([rng.uniform(-0.02, 0.08), rng.uniform(-0.04, 0.15)], np.float32)
    out = centre + (quad - centre) * (1 + grow)
    return (out + rng.normal(0, 0.03 * h, (4, 2))).astype(np.float32)


#: The reader's classes after the blank: `CHARSET`, then the hidden class of occluded shards.
LABEL_CHARSET = CHARSET + HIDDEN


def encode(text: str) -> np.ndarray:
    idx = np.zeros(MAX_LABEL, np.int16)
    for i, ch in enumerate(text):
        idx[i] = LABEL_CHARSET.index(ch) + 1
    return idx


#: Styles with a region name, the reader's weakest characters (small top lines, the stacked column).
REGION_STYLES = ("green_two", "yellow_two", "yellow_long", "white_region")


@dataclass(frozen=True)
class ShardJob:
    """One shard to write. ``focus``: share of plates drawn from `REGION_STYLES` (else the natural mix);
    ``locator``: a models folder whose locator finds the quad for half the plates, so the reader learns
    the errors of the quads it is given at run time (else every quad is `detector_error`'s);
    ``typefaces``: `glyphs.TYPEFACES` (the shipped reader trained on "standard" only; README, Models);
    ``occlude``: share of plates with an occluder in front (`film_labelled`), labelled `HIDDEN`;
    ``video``: share of plates filmed through H.264 rather than JPEG (`video_codec`); ``wiped``: share
    of plates drawn wiped out in part, those characters labelled `HIDDEN` (`film_labelled`)."""

    seed: int
    plates: int
    out: str
    focus: float = 0.0
    locator: str | None = None
    typefaces: str = "standard"
    occlude: float = 0.0
    video: float = 0.0
    wiped: float = 0.0


def _run_quad(
    locator: PlateLocator | None, image: np.ndarray, quad: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The quad the reader is trained to read from: the shipped locator's answer or a noisy true quad.

    A locator answer off by more than a sixth of the plate's height at some corner is a miss the
    reader could not read through (the label would be noise): the noisy true quad stands in."""
    if locator is not None and rng.random() < 0.5:
        found = locator.locate(image).quad
        height = float(np.linalg.norm(quad[3] - quad[0]))
        if np.linalg.norm(found - quad, axis=1).max() < height / 6:
            return np.asarray(found, np.float32)
    return detector_error(quad, rng)


def _shard(job: ShardJob) -> str:
    rng = np.random.default_rng(job.seed)
    locator = OnnxLocator(job.locator, "cpu", threads=1) if job.locator else None
    images, labels, lengths, char_hs, kinds = [], [], [], [], []
    for _ in range(job.plates):
        style = str(rng.choice(REGION_STYLES)) if job.focus and rng.random() < job.focus else None
        spec, image, quad, char_h, lines = film_labelled(
            rng, style, job.typefaces, job.occlude, job.video, wiped=job.wiped
        )
        cuts = cut_areas(image, _run_quad(locator, image, quad, rng), spec.two_line)
        for cut, text in zip(cuts, lines, strict=True):
            images.append(cut.pixels)
            labels.append(encode(text))
            lengths.append(len(text))
            char_hs.append(char_h * (0.55 if cut.role.value == "top" else 1.0))
            kinds.append(list(STYLES).index(spec.style))
    path = Path(job.out) / f"shard-{job.seed}.npz"
    tmp = Path(job.out) / f".tmp-{job.seed}.npz"  # renamed when complete: the trainer may be reading
    np.savez(
        tmp,
        images=np.stack(images),
        labels=np.stack(labels),
        lengths=np.array(lengths, np.int16),
        char_h=np.array(char_hs, np.float32),
        style=np.array(kinds, np.int8),
        area_min_spread=np.float32(AREA_MIN_SPREAD),  # its areas are lifted: train_reader.load knows
    )
    tmp.replace(path)
    return str(path)


def make_shards(
    out: Path,
    plates: int,
    seed: int,
    per_shard: int = 5000,
    workers: int = 2,
    start: int = 0,
    focus: float = 0.0,
    locator: Path | None = None,
    typefaces: str = "standard",
    occlude: float = 0.0,
    video: float = 0.0,
    wiped: float = 0.0,
) -> list[str]:
    """Shards ``start`` .. ``start + plates / per_shard`` of a seed; existing complete shards are kept."""
    out.mkdir(parents=True, exist_ok=True)
    where = str(locator) if locator else None
    jobs = [
        ShardJob(seed * 100_000 + i, per_shard, str(out), focus, where, typefaces, occlude, video, wiped)
        for i in range(start, start + max(1, plates // per_shard))
        if not (out / f"shard-{seed * 100_000 + i}.npz").exists()
    ]
    with mp.Pool(workers) as pool:
        return list(pool.imap_unordered(_shard, jobs))


def make_testset(
    out: Path,
    plates: int,
    seed: int,
    ext: str = "png",
    window: tuple[float, float] = WINDOW_MARGIN,
    typefaces: str = "standard",
    occlude: float = 0.0,
) -> Path:
    """Plate crops (as filmed: loose, any size) with a manifest in the eval format of design.md.

    PNG by default: `capture` already applied its own JPEG round, a second one would skew the set.
    ``window``: how much of the car each crop keeps (`LOOSE_WINDOW` for crops with half the car in them).
    ``typefaces``: "unseen" draws the set in fonts no training set holds (`glyphs.UNSEEN_HANGUL_FONTS`),
    the synthetic stand-in for the real plate typeface. ``occlude``: the share of plates with an
    occluder in front (`film_labelled`); each is labelled with its full text, which the product cannot
    read, so what such a set measures is how often a read of it is wrong and sure.
    """
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    styles = list(STYLES)
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate_text", "x1", "y1", "x2", "y2", "kind"])
        for i in range(plates):
            style = styles[i % len(styles)]  # every kind as often
            if occlude > 0:
                spec, image, _quad, _h, _lines = film_labelled(rng, style, typefaces, occlude, window=window)
            else:
                spec, image, _quad, _ = film(rng, style, window=window, typefaces=typefaces)
            name = f"{i:05d}_{spec.style}.{ext}"
            cv2.imwrite(
                str(out / "images" / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == "jpg" else []
            )
            w.writerow([name, spec.text, "", "", "", "", "crop"])
    return manifest


def contact_sheet(out: Path, seed: int, n: int = 48) -> Path:
    """A grid of filmed plates with the areas the reader sees beneath each, for eyeballing realism."""
    rng = np.random.default_rng(seed)
    tiles = []
    for _ in range(n):
        spec, image, quad, _ = film(rng)
        vis = cv2.resize(image, (256, max(8, int(256 * image.shape[0] / image.shape[1]))))
        vis = cv2.copyMakeBorder(vis, 0, max(0, 150 - vis.shape[0]), 0, 0, cv2.BORDER_CONSTANT)[:150]
        cuts = cut_areas(image, detector_error(quad, rng), spec.two_line)
        lines = np.vstack([np.pad(c.pixels, ((1, 1), (0, 0))) for c in cuts])
        lines = cv2.cvtColor(
            cv2.resize(lines, (256, int(256 * lines.shape[0] / lines.shape[1]))), cv2.COLOR_GRAY2BGR
        )
        lines = cv2.copyMakeBorder(lines, 0, max(0, 140 - lines.shape[0]), 0, 0, cv2.BORDER_CONSTANT)[:140]
        tiles.append(
            cv2.copyMakeBorder(np.vstack([vis, lines]), 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(60, 60, 60))
        )
    rows = [np.hstack(tiles[i : i + 8]) for i in range(0, n, 8)]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack(rows))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.training.dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("what", choices=["shards", "testset", "sheet"])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--plates", type=int, default=120_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-shard", type=int, default=5000, help="shards: plates per shard")
    ap.add_argument("--ext", choices=["png", "jpg"], default="png", help="testset image format")
    ap.add_argument("--focus", type=float, default=0.0, help="shards: share of region-name plates")
    ap.add_argument("--locator", type=Path, help="shards: models folder whose locator cuts half the areas")
    ap.add_argument("--loose", action="store_true", help="testset: crops with half the car in them")
    ap.add_argument(
        "--occlude",
        type=float,
        default=0.0,
        help="share of plates with an occluder (shards: labelled hidden)",
    )
    ap.add_argument(
        "--video", type=float, default=0.0, help="shards: share of plates filmed through H.264, not JPEG"
    )
    ap.add_argument(
        "--wiped",
        type=float,
        default=0.0,
        help="shards: share of plates drawn wiped out in part, those characters labelled hidden",
    )
    ap.add_argument(
        "--typefaces",
        choices=list(TYPEFACES),
        default="standard",
        help="fonts: standard (the seeded sets), varied (training: more fonts, bent glyphs), unseen "
        "(fonts no training set holds), built (training: half the plates' Hangul built from strokes), "
        "built-letters (as built, region names kept in the fonts), built-hieut (as built-letters, "
        "ㅎ in more shapes), built-digits (as built-letters, half the plates' digits built too), "
        "built-all (as built-digits, region names built), built-many (as built-digits, in the fonts "
        "of many more families)",
    )
    a = ap.parse_args(argv)
    if a.what == "shards":
        shards = make_shards(
            a.out,
            a.plates,
            a.seed,
            a.per_shard,
            a.workers,
            focus=a.focus,
            locator=a.locator,
            typefaces=a.typefaces,
            occlude=a.occlude,
            video=a.video,
            wiped=a.wiped,
        )
        for p in shards:  # resumable: existing shards are skipped
            print(p, flush=True)
    elif a.what == "testset":
        if a.video:
            ap.error("--video is for shards: probe a set's codec with `probes h264`")
        if a.wiped:
            ap.error("--wiped is for shards: a seeded set keeps the legibility gate")
        window = LOOSE_WINDOW if a.loose else WINDOW_MARGIN
        print(make_testset(a.out, a.plates, a.seed, a.ext, window, a.typefaces, a.occlude))
        # what drew these pixels, so that figures measured on another draw are not mixed with them
        provenance.write(a.out, sys.argv[1:] if argv is None else list(argv))
    else:
        print(contact_sheet(a.out, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
