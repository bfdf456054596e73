"""`plate-edge eval --task detect|e2e`: score a stage-1 backend, and the whole pipeline, on scene photos.

Both tasks read any manifest in design.md's format and group its rows by image (a frame with two plates
has two rows; a frame listed with an empty ``plate_text`` and no box has no plate, so anything found in
it is a false positive).

* ``detect``: recall and precision at IoU >= 0.5 between the backend's plate boxes and the manifest's
  boxes, and the mean time per frame. The box scored is the plate's own extent: for the *own* backend the
  bounds of its predicted quad; for the *text* backend, whose raw candidates are loose boxes around any
  text (signs included), the candidates confirmed by the reader and the grammar, boxed by the locator's
  quad, because that confirmation is part of that backend (its time is included). ``--confirm`` applies
  the same confirmation to the own backend. Frames with a plate that has text but no box cannot be scored
  for detection and are skipped (and counted).
* ``e2e``: the product's path (`edge.analysis.find_plates`: detect, confirm, locate, read). A labelled
  plate is read exactly when a reported plate with the same text overlaps its box (IoU >= 0.5), or, for
  rows without a box, when any plate of the image reads that text. Failures split into *detection
  misses* (no raw candidate covers the plate) and *misreads* (a candidate did, but the read is wrong or
  was rejected by the grammar).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.detector import Detection, PlateDetector, box_iou, confirm_candidates
from edge.evaluate import Row, read_manifest
from edge.imageio import ImageError, read_image
from edge.plate import strip_region

Box = tuple[float, float, float, float]
IOU_MIN = 0.5


@dataclass
class Frame:
    """One image of the manifest and its labelled plates (rows with text or a box)."""

    path: Path
    name: str
    plates: list[Row] = field(default_factory=list)


def frames_of(rows: Iterable[Row]) -> list[Frame]:
    """Rows grouped by image, in manifest order; an image listed only with an empty row has no plates."""
    out: dict[Path, Frame] = {}
    for r in rows:
        f = out.setdefault(r.path, Frame(r.path, r.name))
        if r.text or r.box is not None:
            f.plates.append(r)
    return list(out.values())


def as_box(b: Sequence[float]) -> Box:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def quad_box(quad: np.ndarray) -> Box:
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def detection_box(det: Detection) -> Box:
    """The plate's extent as a backend reports it: its quad's bounds when it predicts corners."""
    return quad_box(det.quad) if det.quad is not None else as_box(det.box)


def match(pred: Sequence[Box], truth: Sequence[Box], iou_min: float = IOU_MIN) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, highest IoU first: (pred index, truth index) pairs at >= ``iou_min``."""
    pairs = sorted(
        ((box_iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)), reverse=True
    )
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for v, i, j in pairs:
        if v < iou_min:
            break
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def covers(det: Box, truth: Box) -> bool:
    """A raw candidate that overlaps the plate at IoU >= 0.5 or holds >= 80 % of it (loose boxes)."""
    iw = max(0.0, min(det[2], truth[2]) - max(det[0], truth[0]))
    ih = max(0.0, min(det[3], truth[3]) - max(det[1], truth[1]))
    area = (truth[2] - truth[0]) * (truth[3] - truth[1])
    return box_iou(det, truth) >= IOU_MIN or (area > 0 and iw * ih / area >= 0.8)


class _Recording:
    """A `PlateDetector` that remembers its last raw detections (to tell misses from misreads)."""

    def __init__(self, inner: PlateDetector) -> None:
        self.inner, self.name = inner, inner.name
        self.last: list[Detection] = []
        self.ms = 0.0

    def detect(self, image: np.ndarray) -> list[Detection]:
        t0 = time.perf_counter()
        self.last = self.inner.detect(image)
        self.ms += (time.perf_counter() - t0) * 1e3
        return self.last


def _load(
    backend: str, models_dir: Path | None, device: str, threads: int, precision: str = "float"
) -> tuple[Any, PlateDetector]:
    from edge.engine import Engine
    from edge.recognizer import load_detector
    from edge.runtime import DEFAULT_MODELS_DIR

    mdir = models_dir or DEFAULT_MODELS_DIR
    engine = Engine.load(mdir, device, threads, precision=precision)  # type: ignore[arg-type]
    detector = load_detector(backend, device, threads, mdir)  # type: ignore[arg-type]
    assert detector is not None
    return engine, detector


def eval_detect(
    manifest: Path,
    backend: str,
    models_dir: Path | None,
    device: str,
    threads: int = 0,
    confirm: bool = False,
    precision: str = "float",
) -> int:
    engine, detector = _load(backend, models_dir, device, threads, precision)
    confirm = confirm or backend == "text"
    frames = frames_of(read_manifest(manifest))
    tp = fp = n = skipped = scored = timed = 0
    ms = 0.0
    by_width: dict[str, list[int]] = {"<100 px": [0, 0], "100-200 px": [0, 0], ">=200 px": [0, 0]}
    for f in frames:
        if any(r.box is None for r in f.plates) or any(r.kind != "scene" for r in f.plates):
            skipped += 1
            continue
        try:
            image = read_image(f.path, strict=False, max_bytes=None).image
        except ImageError as e:
            print(f"{f.name}: unreadable ({e}); its plates count as missed")
            n += len(f.plates)
            scored += 1
            continue
        t0 = time.perf_counter()
        dets = detector.detect(image)
        if confirm:
            pred = [quad_box(read.quad) for _, read in confirm_candidates(image, dets, engine)]
        else:
            pred = [detection_box(d) for d in dets]
        ms += (time.perf_counter() - t0) * 1e3
        scored += 1
        timed += 1
        truth = [as_box(r.box) for r in f.plates if r.box is not None]
        hits = {j for _, j in match(pred, truth)}
        tp += len(hits)
        fp += len(pred) - len(hits)
        n += len(truth)
        for j, t in enumerate(truth):
            w = t[2] - t[0]
            key = "<100 px" if w < 100 else "100-200 px" if w < 200 else ">=200 px"
            by_width[key][0] += 1
            by_width[key][1] += j in hits
    if scored == 0:
        print("manifest has no scene rows with boxes to score")
        return 2
    print(f"backend: {detector.name}{' + reader/grammar confirmation' if confirm else ''}")
    print(f"frames scored: {scored} (skipped {skipped} without boxes), plates: {n}")
    print(f"{'plate width':<12}{'n':>7}{'recall':>9}")
    for k, (cnt, hit) in by_width.items():
        if cnt:
            print(f"{k:<12}{cnt:>7}{hit / cnt:>9.3f}")
    print(f"false positives: {fp} ({fp / scored:.2f} per frame)")
    print(
        f"recall={tp / max(n, 1):.3f} precision={tp / max(tp + fp, 1):.3f} ms={ms / max(timed, 1):.1f} n={n}"
    )
    return 0


def eval_e2e(
    manifest: Path,
    backend: str,
    models_dir: Path | None,
    device: str,
    threads: int = 0,
    failures: Path | None = None,
    precision: str = "float",
) -> int:
    from edge.analysis import find_plates

    engine, inner = _load(backend, models_dir, device, threads, precision)
    detector = _Recording(inner)
    frames = frames_of(read_manifest(manifest))
    n = exact = exact_nr = miss = misread = images = 0
    ms = 0.0
    bad: list[list[str]] = []
    for f in frames:
        rows = [r for r in f.plates if r.text]
        if not rows:
            continue
        try:
            image = read_image(f.path, strict=False, max_bytes=None).image
        except ImageError as e:
            n += len(rows)
            miss += len(rows)
            bad += [[f.name, r.text, "", "unreadable", str(e)] for r in rows]
            continue
        t0 = time.perf_counter()
        found = find_plates(image, engine, detector)
        ms += (time.perf_counter() - t0) * 1e3
        images += 1
        reads = [(quad_box(read.quad), read.text) for _, read in found]
        raw = [detection_box(d) for d in detector.last] + [as_box(d.box) for d in detector.last]
        boxed = [(r, as_box(r.box)) for r in rows if r.box is not None]
        pairs = match([b for b, _ in reads], [tb for _, tb in boxed])
        got = {j: reads[i][1] for i, j in pairs}
        used = {i for i, _ in pairs}
        for j, (r, tb) in enumerate(boxed):
            n += 1
            text = got.get(j, "")
            if text == r.text:
                exact += 1
                exact_nr += 1
                continue
            exact_nr += bool(text) and strip_region(text) == strip_region(r.text)
            detected = text != "" or any(covers(d, tb) for d in raw)
            miss += not detected
            misread += detected
            bad.append([f.name, r.text, text, "misread" if detected else "detection miss", ""])
        free = [reads[i][1] for i in range(len(reads)) if i not in used]
        for r in (r for r in rows if r.box is None):  # text-only rows: any unmatched read of the image
            n += 1
            if r.text in free:
                free.remove(r.text)
                exact += 1
                exact_nr += 1
                continue
            exact_nr += any(strip_region(t) == strip_region(r.text) for t in free)
            detected = bool(found) or bool(detector.last)
            miss += not detected
            misread += detected
            bad.append([f.name, r.text, " ".join(free), "misread" if detected else "detection miss", ""])
    if n == 0:
        print("manifest has no labelled plates")
        return 2
    print(f"backend: {detector.name}; plates: {n} in {images} images")
    print(f"read exactly:   {exact:>6} ({exact / n:.3f})")
    print(f"detection miss: {miss:>6} ({miss / n:.3f})")
    print(f"misread:        {misread:>6} ({misread / n:.3f})")
    print(f"exact ignoring region prefix: {exact_nr / n:.3f}")
    per = max(images, 1)
    print(f"mean ms per image: {ms / per:.1f} (of which detection {detector.ms / per:.1f})")
    if failures is not None:
        failures.parent.mkdir(parents=True, exist_ok=True)
        with failures.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "truth", "read", "reason", "error"])
            w.writerows(bad)
        print(f"failures: {len(bad)} rows in {failures}")
    print(f"exact={exact / n:.3f} n={n}")
    return 0
