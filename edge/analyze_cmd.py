"""`plate-edge analyze IMAGE... [--json OUT] [--draw OUT]`: the analysis JSON of still images on stdout.

Inputs are files, directories (their images, sorted, not recursive) or glob patterns (for shells that do
not expand them). One literal file prints one object; anything else (several arguments, a directory, a
pattern) prints an array, even of one, so a script gets the same shape for the same kind of call. A file
that cannot be analysed gets ``{"error": {"status", "message"}, "image": {"name"}}`` in its place and the
others are still analysed; the exit code is then 2 (bad input) or 1 (an internal failure).

Local files are trusted more than uploads: any format Pillow reads and any size are accepted (the API's
JPEG/PNG and 5 MB rules are about untrusted uploads); the pixel-count limit still applies.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.cmd_common import (
    add_recognition_options,
    load_config_arg,
    print_config_error,
    recognition_options,
)
from edge.config import ConfigError

if TYPE_CHECKING:  # heavy (Pillow, OpenCV): imported when the command runs, not when --help is built
    import numpy as np

    from edge.recognizer import Recognizer

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_SEVERITY = {EXIT_OK: 0, EXIT_USAGE: 1, EXIT_FAILURE: 2}  # an internal failure outranks bad input
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Input:
    """One thing to analyse: a file, or an argument that resolved to nothing (``error`` says why)."""

    name: str
    path: Path | None
    error: str | None = None


def expand_inputs(args: Sequence[str]) -> tuple[list[Input], bool]:
    """The inputs named by the arguments, and whether the output is a single object (one literal file)."""
    inputs: list[Input] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            inputs += [Input(p.name, p) for p in found] or [
                Input(path.name, None, f"no images in folder {arg}")
            ]
        elif not path.exists() and _GLOB_CHARS & set(arg):
            matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
            files = [m for m in matches if m.is_file()]
            inputs += [Input(p.name, p) for p in files] or [Input(arg, None, f"no file matches {arg}")]
        else:
            inputs.append(Input(path.name or arg, path))
    single = (
        len(args) == 1
        and not Path(args[0]).is_dir()
        and not (not Path(args[0]).exists() and _GLOB_CHARS & set(args[0]))
    )
    return inputs, single


def error_object(name: str, status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "message": message}, "image": {"name": name}}


def _worse(a: int, b: int) -> int:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _unique(path: Path, taken: set[Path]) -> Path:
    candidate, n = path, 1
    while candidate in taken:
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    taken.add(candidate)
    return candidate


def analyze_inputs(
    inputs: Iterable[Input],
    recognizer: Recognizer,
    draw_to: Path | None = None,
    draw_single: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Analyse every input (failures become error objects); returns the results and the exit code.

    ``draw_to`` is the drawing's file when ``draw_single``, else a folder receiving ``<stem>.png`` each.
    """
    from edge.draw import save_drawing
    from edge.imageio import ImageError, read_image

    results: list[dict[str, Any]] = []
    code = EXIT_OK
    taken: set[Path] = set()
    for item in inputs:
        if item.path is None:
            results.append(error_object(item.name, 422, item.error or "not found"))
            code = _worse(code, EXIT_USAGE)
            continue
        image: np.ndarray | None = None
        try:
            t0 = time.perf_counter()
            image = read_image(item.path, strict=False, max_bytes=None).image
            result = recognizer.analyze(image, item.name, (time.perf_counter() - t0) * 1e3)
        except ImageError as e:
            log.warning("%s: %s", item.path, e.message)
            results.append(error_object(item.name, e.status, e.message))
            code = _worse(code, EXIT_USAGE)
            continue
        except Exception as e:  # a bug or a model failure: report it in place, keep going
            log.exception("analysis of %s failed", item.path)
            results.append(error_object(item.name, 500, f"analysis failed: {type(e).__name__}: {e}"))
            code = _worse(code, EXIT_FAILURE)
            continue
        results.append(result)
        log.debug("%s: %d plate(s)", item.path, len(result["plates"]))
        if draw_to is not None:
            out = draw_to if draw_single else _unique(draw_to / f"{Path(item.name).stem}.png", taken)
            save_drawing(image, result, out)
    return results, code


def dumps(document: object) -> str:
    """The JSON text printed and written: UTF-8 (Hangul as is), indented, newline-terminated."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _emit(text: str) -> None:
    """Write to stdout as UTF-8 whatever the locale says (a C locale must not turn Hangul into an error)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:  # pragma: no cover - a replaced stdout without a binary layer
        sys.stdout.write(text)


def configure(parser: argparse.ArgumentParser) -> Any:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the JSON to this file")
    parser.add_argument(
        "--draw",
        type=Path,
        metavar="OUT",
        help="write the image with plates and text drawn: a file for one image, a folder for several",
    )
    add_recognition_options(parser)
    return run


def load_recognizer_for(args: argparse.Namespace) -> Recognizer:
    """The real recognizer for the command line's options (tests replace this function)."""
    from edge.recognizer import load_recognizer

    opts = recognition_options(args, load_config_arg(args))
    return load_recognizer(
        opts.models_dir,
        opts.device,
        opts.detector,
        reread_below=opts.reread_below,
        precision=opts.reader_precision,
    )


def run(args: argparse.Namespace) -> int:
    inputs, single = expand_inputs(args.images)
    try:
        recognizer = load_recognizer_for(args)
    except ConfigError as e:
        print_config_error(e)
        return EXIT_USAGE
    except Exception as e:  # ModelError and ONNX Runtime failures: a clear line, not a traceback
        log.error("cannot load the models: %s", e)
        return EXIT_FAILURE
    draw_to: Path | None = args.draw
    draw_single = single and draw_to is not None and not draw_to.is_dir()
    if draw_to is not None and not draw_single:
        draw_to.mkdir(parents=True, exist_ok=True)
    results, code = analyze_inputs(inputs, recognizer, draw_to, draw_single)
    text = dumps(results[0] if single else results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    _emit(text)
    failed = sum("error" in r for r in results)
    log.info("analysed %d image(s), %d failed", len(results) - failed, failed)
    return code
