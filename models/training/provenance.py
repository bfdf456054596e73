"""Where a seeded set's pixels came from, so that figures measured on two draws are never mixed up.

A seed fixes the synthesizer's random draws, not its pixels. OpenCV's resampling and JPEG codec,
Pillow's FreeType rasteriser, FFmpeg's encoders and the font files all shape them, and nothing pins
them: on OpenCV 5.1 only 41 of the 600 built-digit images came out as OpenCV 4.14 drew them, and reader
v11 read that set 0.952 where it had read 0.970 (HISTORY, "Reader v12"). A figure is only comparable
with one measured on the same draw.

So `dataset testset` writes ``provenance.json`` beside each set's manifest: the command, a digest of the
manifest and every image, the versions of the libraries that draw, and the sha256 of every font file the
synthesizer may use (a missing font is skipped silently by `glyphs.available`, which changes the draws
too). ``models/testsets.json`` keeps the provenance of the draws that the shipped figures (README,
manifest metrics) were measured on, and ``check`` says of a set here whether it is that draw and, when it
is not, which ingredient differs:

    python -m models.training.provenance check build/testset build/testset-built
    python -m models.training.provenance record build/testset ...   # when shipping figures on new draws

Trade-off: recording instead of pinning. Pinning the drawing libraries would pin the runtime's too (the
product decodes and resamples with the same numpy and OpenCV), and an old pin goes stale on a new
Python; a record costs nothing and turns a silent drift into a sentence.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.training import glyphs

PROVENANCE = "provenance.json"
RECORDS = Path(__file__).resolve().parents[1] / "testsets.json"
# Arguments that change where or how fast a set is written, never what is drawn.
_PLACE_ONLY = {"--out", "--workers"}


def libraries() -> dict[str, str]:
    """Versions of everything between the seed and the pixels."""
    import av
    import cv2
    import numpy as np
    import PIL
    from PIL import features

    build = cv2.getBuildInformation()
    jpeg = next((line.split(":", 1)[1].strip() for line in build.splitlines() if "JPEG:" in line), "?")
    codec = ".".join(str(v) for v in av.library_versions.get("libavcodec", ()))
    return {
        "python": ".".join(str(v) for v in sys.version_info[:3]),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "opencv_jpeg": jpeg,
        "pillow": PIL.__version__,
        "freetype": features.version("freetype2") or "?",
        "pyav": av.__version__,
        "libavcodec": codec,
    }


def fonts() -> dict[str, str | None]:
    """sha256 of every font file any typeface set may draw from; None where it is not installed."""
    lists = [v for k, v in vars(glyphs).items() if k.endswith("_FONTS") and isinstance(v, tuple)]
    paths = sorted({p for fonts_ in lists for p, _ in fonts_})
    out: dict[str, str | None] = {}
    for rel in paths:
        path = glyphs._FONT_ROOT / rel
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    return out


def digest(set_dir: Path) -> tuple[str, int]:
    """sha256 over the manifest and each image it names, in its order; and the number of images.

    The set's folder is not in it, so the same draw written anywhere has the same digest."""
    manifest = set_dir / "manifest.csv"
    h = hashlib.sha256(manifest.read_bytes())
    with manifest.open(encoding="utf-8", newline="") as f:
        names = [row["file"] for row in csv.DictReader(f)]
    for name in names:
        h.update((set_dir / "images" / name).read_bytes())
    return h.hexdigest(), len(names)


def key(args: list[str]) -> str:
    """The command that says what is drawn: ``args`` less those that only say where (``--out``)."""
    kept: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if name in _PLACE_ONLY:
            skip = "=" not in a
            continue
        kept.append(a)
    return " ".join(kept)


def git_commit() -> str:
    """The checked-out commit, "-dirty" when tracked files are modified; "unknown" outside a checkout.
    Recorded with every seeded set and every model (`manifest.record`)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe(set_dir: Path, args: list[str]) -> dict[str, Any]:
    """The provenance of the set in ``set_dir``, drawn here by ``python -m models.training.dataset ARGS``."""
    sha, n = digest(set_dir)
    return {
        "key": key(args),
        "command": "python -m models.training.dataset " + " ".join(args),
        "digest": sha,
        "images": n,
        "libraries": libraries(),
        "fonts": fonts(),
        "git_commit": git_commit(),
        "drawn": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(set_dir: Path, args: list[str]) -> Path:
    path = set_dir / PROVENANCE
    path.write_text(json.dumps(describe(set_dir, args), indent=1, ensure_ascii=False) + "\n")
    return path


def differences(here: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """What differs between two draws' ingredients, in words; empty when every ingredient is the same."""
    out = []
    for lib in sorted(set(here["libraries"]) | set(recorded["libraries"])):
        a, b = recorded["libraries"].get(lib), here["libraries"].get(lib)
        if a != b:
            out.append(f"{lib} {a} (recorded) -> {b} (here)")
    # a font listed only after the record was made belongs to a typeface set added since, which draws
    # after every older one: it cannot have changed an older set's draw, installed or not
    for font in sorted(recorded["fonts"]):
        a, b = recorded["fonts"][font], here["fonts"].get(font)
        if a != b:
            what = "missing here" if b is None else "not installed then" if a is None else "another file"
            out.append(f"font {font}: {what}")
    return out


def load_records(path: Path = RECORDS) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def read(set_dir: Path) -> dict[str, Any]:
    path = set_dir / PROVENANCE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the set was drawn before provenance was recorded")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def verdict(set_dir: Path, records: dict[str, dict[str, Any]]) -> tuple[bool, str]:
    """(same draw as recorded, one line saying so or what differs).

    The images are digested again, so a set edited after it was drawn is not taken for the record."""
    here = read(set_dir)
    sha, _ = digest(set_dir)
    if sha != here["digest"]:
        return False, f"{set_dir}: its images changed after they were drawn (digest {sha[:12]})"
    rec = records.get(here["key"])
    if rec is None:
        return False, f"{set_dir}: no recorded draw of {here['key']!r} to compare with"
    if rec["digest"] == sha:
        return True, f"{set_dir}: the recorded draw (digest {sha[:12]}, {rec['images']} images)"
    why = differences(here, rec) or ["the same ingredients: the synthesizer's code changed"]
    return False, (
        f"{set_dir}: NOT the recorded draw (digest {sha[:12]}, recorded {rec['digest'][:12]}); figures "
        f"measured on it do not compare with the shipped ones. Differs: " + "; ".join(why)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.training.provenance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("what", choices=["check", "record"])
    ap.add_argument("sets", type=Path, nargs="+", help="set folders (manifest.csv, provenance.json)")
    ap.add_argument("--records", type=Path, default=RECORDS)
    ap.add_argument("--strict", action="store_true", help="check: exit 1 unless every set is its record")
    a = ap.parse_args(argv)
    records = load_records(a.records)
    if a.what == "record":
        for s in a.sets:
            here = read(s)
            if digest(s)[0] != here["digest"]:
                ap.error(f"{s}: its images changed after they were drawn; draw it again")
            records[here["key"]] = here
            print(f"{s}: recorded as {here['key']!r} (digest {here['digest'][:12]})")
        a.records.write_text(json.dumps(records, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        return 0
    same = True
    for s in a.sets:
        try:
            ok, line = verdict(s, records)
        except FileNotFoundError as e:
            ok, line = False, str(e)
        same &= ok
        print(line)
    return 1 if a.strict and not same else 0


if __name__ == "__main__":
    sys.exit(main())
