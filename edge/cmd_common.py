"""Options shared by the commands that load the recognizer (`analyze`, `serve`): config file, models folder,
device and detector, with the command line winning over the config's ``recognition`` section."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge.config import Config, ConfigError, load_config
from edge.config_schema import RecognitionConfig
from edge.runtime import DEFAULT_MODELS_DIR, DEVICES, PRECISIONS, Device, Precision

if TYPE_CHECKING:  # edge.recognizer pulls in OpenCV; `plate-edge --help` must stay instant
    from edge.recognizer import DetectorKind


@dataclass(frozen=True)
class RecognitionOptions:
    """Where the models are and how to run them, after merging the command line with the config."""

    models_dir: Path
    device: Device
    detector: DetectorKind
    reread_below: float
    reader_precision: Precision


def add_recognition_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="site config (its recognition section)")
    parser.add_argument(
        "--models-dir", type=Path, help="models folder (default: config, else the bundled models)"
    )
    parser.add_argument("--device", choices=DEVICES, help="ONNX Runtime device (default: auto)")
    parser.add_argument(
        "--reader-precision",
        choices=PRECISIONS,
        help="reader copy: float (the reference) or int8 (1.5-1.8x faster per line on a CPU, see README; "
        "default: the config's, else float)",
    )
    parser.add_argument(
        "--detector",
        choices=["own", "text", "none"],
        help="plate candidates in scenes: own (the project's plate detector, ~5 ms a frame, trained on "
        "synthetic scenes), text (PP-OCR text detector + reader/grammar confirmation, ~110 ms, trained on "
        "real photos) or none (whole-image plate crops only); default: the config's, else "
        "recognition.detector's default",
    )


def load_config_arg(args: argparse.Namespace) -> Config | None:
    """The ``--config`` file, or None; raises `ConfigError` (callers print it and exit 2)."""
    path: Path | None = args.config
    return load_config(path) if path is not None else None


def print_config_error(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(problem.format(exc.file), file=sys.stderr)


def recognition_options(args: argparse.Namespace, config: Config | None) -> RecognitionOptions:
    rec = config.recognition if config is not None else None
    models_dir: Path = args.models_dir or (rec.models_dir if rec is not None else DEFAULT_MODELS_DIR)
    device: Device = args.device or (rec.device if rec is not None else "auto")
    detector: DetectorKind = args.detector or (
        rec.detector if rec is not None else RecognitionConfig.model_fields["detector"].default
    )
    reread_below: float = (
        rec.reread_below if rec is not None else RecognitionConfig.model_fields["reread_below"].default
    )
    precision: Precision = getattr(args, "reader_precision", None) or (
        rec.reader_precision
        if rec is not None
        else RecognitionConfig.model_fields["reader_precision"].default
    )
    return RecognitionOptions(models_dir, device, detector, reread_below, precision)
