"""`plate-edge eval`: score the models on any labelled set in the manifest format of design.md.

The reader is scored exactly as the product runs it: each crop goes through the locator (quad and
layout from the pixels), the areas are cut and read, and the joined text is compared with the label.
Nothing about the label (length, layout, kind) is given to the engine.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge.areas import text_height
from edge.imageio import ImageError, read_image
from edge.misread_parts import breakdown, confusions
from edge.plate import normalize_text, plate_kind, strip_region
from edge.runtime import DEVICES, PRECISIONS

log = logging.getLogger(__name__)

FIELDS = ("file", "plate_text", "x1", "y1", "x2", "y2", "kind")


class ManifestError(ValueError):
    """The manifest itself is unusable (missing, wrong header, bad row)."""


@dataclass(frozen=True)
class Row:
    line: int
    path: Path
    name: str
    text: str
    box: tuple[int, int, int, int] | None
    kind: str


def read_manifest(path: Path) -> Iterator[Row]:
    """Rows of a manifest; ``file`` resolves against the CSV's folder, then its ``images/`` subfolder."""
    try:
        f = path.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise ManifestError(f"cannot read manifest {path}: {e.strerror or e}") from e
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in FIELDS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: header must be {','.join(FIELDS)}; missing {', '.join(missing)}")
        for i, rec in enumerate(reader, start=2):
            name = (rec["file"] or "").strip()
            kind = (rec["kind"] or "crop").strip() or "crop"
            if not name or kind not in ("crop", "scene"):
                raise ManifestError(f"{path}:{i}: need a file and kind crop|scene, got {name!r}, {kind!r}")
            coords = [(rec[k] or "").strip() for k in ("x1", "y1", "x2", "y2")]
            box = None
            if all(coords):
                try:
                    x1, y1, x2, y2 = (round(float(c)) for c in coords)
                except ValueError as e:
                    raise ManifestError(f"{path}:{i}: bad box {coords}") from e
                box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
            resolved = _resolve(path.parent, name)
            text = normalize_text(rec["plate_text"] or "")  # a label made on macOS is NFD
            if not text and kind == "crop":  # a real set's unlabelled row would silently lower exact
                log.warning("%s:%d: %s has no plate_text: scored as a plate with no text", path, i, name)
            yield Row(i, resolved, name, text, box, kind)


def _resolve(folder: Path, name: str) -> Path:
    """``name`` in ``folder`` or its ``images/``, also under the other Unicode form of the name (a set
    copied from macOS keeps decomposed Hangul file names that a CSV written elsewhere spells composed)."""
    names = dict.fromkeys((name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)))
    for base in (folder, folder / "images"):
        for n in names:
            if (base / n).exists():
                return base / n
    return folder / "images" / name


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the number of character edits `misread_parts.confusions` aligns."""
    return len(confusions(a, b))


def expand_box(
    box: tuple[int, int, int, int], w: int, h: int, margin: float = 0.15
) -> tuple[int, int, int, int]:
    """A labelled plate box with some surroundings, as the locator was trained to see plates."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin * 2
    return (max(0, int(x1 - mx)), max(0, int(y1 - my)), min(w, int(x2 + mx) + 1), min(h, int(y2 + my) + 1))


#: Upper edges (px) of the character-height bins of the size table; the last bin is open.
SIZE_BINS = (20, 30, 45)


def size_bin(height: float) -> str:
    """The size-table label of a main character height in pixels: ``<20``, ``20-30``, ``30-45``, ``45+``."""
    lo = 0
    for hi in SIZE_BINS:
        if height < hi:
            return f"<{hi}" if lo == 0 else f"{lo}-{hi}"
        lo = hi
    return f"{lo}+"


def size_table(cells: dict[tuple[str, str], list[int]]) -> list[str]:
    """Lines of the exact-by-size table: a row per character-height bin, one-line and two-line plates
    side by side (``cells[(bin, layout)] = [n, exact]``); an empty cell prints ``-``."""
    labels = [size_bin(lo) for lo in (0, *SIZE_BINS)]
    lines = [f"{'char height':<12}{'one-line n':>12}{'exact':>8}{'two-line n':>12}{'exact':>8}"]
    for label in labels:
        row = f"{label + ' px':<12}"
        for layout in ("one-line", "two-line"):
            n, hit = cells.get((label, layout), (0, 0))
            row += f"{n:>12}{hit / n:>8.3f}" if n else f"{0:>12}{'-':>8}"
        lines.append(row)
    return lines


def prepare_outputs(failures: Path | None, sheet: Path | None) -> str:
    """Make the output folders before any crop is read, so a path that cannot be written fails at once
    rather than after the whole set; the problem as a sentence, or "" when there is none."""
    for folder, what in ((failures.parent if failures else None, "--failures"), (sheet, "--sheet")):
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return f"{what}: cannot create folder {folder}: {e.strerror or e}"
    return ""


def eval_ocr(
    manifest: Path,
    failures: Path | None,
    models_dir: Path | None,
    device: str,
    precision: str = "float",
    sheet: Path | None = None,
) -> int:
    """Read every crop of ``manifest`` and print the figures; ``failures``: the misread rows as CSV;
    ``sheet``: a folder for contact sheets of the misreads (`edge.misread_sheet`), surest first."""
    from edge.engine import Engine, PlateRead
    from edge.misread_sheet import Misread, make_tile, write_pages
    from edge.runtime import DEFAULT_MODELS_DIR

    problem = prepare_outputs(failures, sheet)
    if problem:
        print(f"error: {problem}")
        return 2
    engine = Engine.load(models_dir or DEFAULT_MODELS_DIR, device, precision=precision)  # type: ignore[arg-type]
    n = exact = exact_nr = 0
    edits = chars = 0
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_size: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    bad: list[tuple[str, str, str, float, str, str, str, str]] = []  # failure rows, confidence as read
    tiles: list[Misread] = []
    t_total = 0.0
    for row in read_manifest(manifest):
        n += 1
        read, conf, two, err = "", 0.0, "", ""
        image = None
        plate: PlateRead | None = None
        box = None
        size_key: tuple[str, str] | None = None  # (height bin, layout), once the locator found a plate
        height = ""
        try:
            image = read_image(row.path, strict=False, max_bytes=None).image
            box = expand_box(row.box, image.shape[1], image.shape[0]) if row.box else None
            t0 = time.perf_counter()
            plate = engine.read_plate(image, box)
            t_total += time.perf_counter() - t0
            read, conf, two = plate.text, plate.confidence, str(plate.two_line)
            px = text_height(plate.quad, plate.two_line)
            height = f"{px:.1f}"
            size_key = (size_bin(px), "two-line" if plate.two_line else "one-line")
        except (ImageError, ValueError) as e:
            err = str(e)
        ok = read == row.text
        exact += ok
        exact_nr += strip_region(read) == strip_region(row.text)
        edits += edit_distance(read, row.text)
        chars += max(len(row.text), 1)
        k = plate_kind(row.text)
        per_kind[k][0] += 1
        per_kind[k][1] += ok
        if size_key is not None:  # as the locator measured it: the same on a real set with no truth quad
            per_size[size_key][0] += 1
            per_size[size_key][1] += ok
        if not ok:
            bad.append((row.name, row.text, read, conf, two, k, err, height))
            if sheet is not None:
                tiles.append(make_tile(n, row.name, row.text, read, conf, image, plate, err, box))
    if n == 0:
        print("manifest has no rows")
        return 2
    print(f"{'kind':<12}{'n':>7}{'exact':>9}")
    for k, (cnt, hit) in sorted(per_kind.items()):
        print(f"{k:<12}{cnt:>7}{hit / cnt:>9.3f}")
    print("\n".join(size_table(per_size)))
    print(f"exact ignoring region prefix: {exact_nr / n:.3f}")
    print(f"mean engine time per crop: {1e3 * t_total / n:.1f} ms")
    print("\n".join(breakdown([(truth, read, conf) for _name, truth, read, conf, *_rest in bad])))
    if failures is not None:  # its folder was made by prepare_outputs
        with failures.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "truth", "read", "confidence", "two_line", "kind", "error", "char_height_px"])
            w.writerows([*r[:3], f"{r[3]:.3f}", *r[4:]] for r in bad)
        print(f"failures: {len(bad)} rows in {failures}")
    if sheet is not None:
        pages = write_pages(tiles, sheet)
        print(f"sheet: {len(tiles)} misreads, surest first, on {len(pages)} pages in {sheet}")
    print(f"exact={exact / n:.3f} cer={edits / chars:.3f} n={n}")
    return 0


def configure(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    parser.add_argument("--manifest", type=Path, required=True, help="CSV: file,plate_text,x1,y1,x2,y2,kind")
    parser.add_argument(
        "--task",
        choices=["ocr", "detect", "e2e"],
        default="ocr",
        help="ocr: read every crop (scene rows: the labelled box) end to end through locator and reader; "
        "detect: recall/precision of the scene detector at IoU >= 0.5; e2e: plates read exactly from whole "
        "images (detector, locator, reader), misses split into detection misses and misreads",
    )
    parser.add_argument(
        "--backend",
        choices=["own", "text"],
        help="scene detector for detect/e2e (default: the configuration's default, recognition.detector)",
    )
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="detect: score only candidates the reader and grammar confirm (always on for the text backend)",
    )
    parser.add_argument("--failures", type=Path, help="write the misread rows to this CSV (ocr, e2e)")
    parser.add_argument(
        "--sheet",
        type=Path,
        metavar="DIR",
        help="ocr: write contact sheets of the misreads to this folder (misreads-NN.png, surest first): "
        "each crop with the located plate and areas, the areas as the reader saw them, truth and read",
    )
    parser.add_argument("--models-dir", type=Path, help="models folder (default: the bundled models)")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument(
        "--reader-precision",
        choices=PRECISIONS,
        default="float",
        help="reader copy: float (the reference) or its int8 copy for CPUs",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime threads per model (0: all cores)"
    )
    return run


def run(args: argparse.Namespace) -> int:
    from edge.runtime import ModelError

    if args.sheet is not None and args.task != "ocr":
        print("error: --sheet is for --task ocr (the crops read one by one)")
        return 2
    try:
        if args.task == "ocr":
            return eval_ocr(
                args.manifest, args.failures, args.models_dir, args.device, args.reader_precision, args.sheet
            )
        from edge import eval_scenes
        from edge.config_schema import RecognitionConfig

        backend = args.backend or str(RecognitionConfig.model_fields["detector"].default)
        if args.task == "detect":
            return eval_scenes.eval_detect(
                args.manifest,
                backend,
                args.models_dir,
                args.device,
                args.threads,
                args.confirm,
                args.reader_precision,
            )
        return eval_scenes.eval_e2e(
            args.manifest,
            backend,
            args.models_dir,
            args.device,
            args.threads,
            args.failures,
            args.reader_precision,
        )
    except ManifestError as e:
        print(f"error: {e}")
        return 2
    except ModelError as e:
        print(f"error: {e}")
        return 1
