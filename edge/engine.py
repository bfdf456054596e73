"""The recognition engine shared by every entry point: a plate candidate in, a plate read out.

locate (exact quad + layout) -> cut the text areas -> read each area -> assemble the plate. The same code
path serves the eval command, the still-image analysis and (per track crop) the gate daemon, so what we
measure is what we ship.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.areas import Quad, cut_areas, to_gray, unit_to_image
from edge.locator import OnnxLocator, PlateLocator
from edge.ocr import Calibration, LineReader, OnnxReader
from edge.plate import LineRead, is_valid, join_lines, plate_kind
from edge.reread import REREAD_BELOW, look_left, reread, should_reread
from edge.runtime import DEFAULT_MODELS_DIR, Device, Precision


@dataclass(frozen=True)
class AreaRead:
    """One text line: where it is, what it says, and how sure we are per character."""

    quad: Quad
    text: str
    confidence: float
    chars: tuple[tuple[str, float], ...]
    role: str


@dataclass(frozen=True)
class PlateRead:
    """A whole plate as the product reports it (analysis JSON, events)."""

    text: str
    confidence: float
    valid: bool
    kind: str
    colour: str
    quad: Quad
    two_line: bool
    areas: tuple[AreaRead, ...]
    raw_text: str
    timing_ms: dict[str, float] = field(default_factory=dict)
    reread: bool = False  # read again through other framings (edge.reread): unsure, no plate, a digit short


def plate_colour(image: np.ndarray, quad: Quad) -> str:
    """Background colour of a plate from the hue and saturation of its pixels (text is a minority and
    mostly unsaturated). Grey images (IR at night) say white: colour cannot be known there."""
    if image.ndim == 2:
        return "white"
    m = unit_to_image(quad)
    # sample the plate on a small grid instead of warping it: 192 pixels are plenty for a colour
    uv = np.stack(np.meshgrid(np.linspace(0.08, 0.92, 24), np.linspace(0.1, 0.9, 8)), -1).reshape(1, -1, 2)
    pts = cv2.perspectiveTransform(uv.astype(np.float32), m)[0]
    h, w = image.shape[:2]
    xs = np.clip(pts[:, 0].round().astype(int), 0, w - 1)
    ys = np.clip(pts[:, 1].round().astype(int), 0, h - 1)
    px = image[ys, xs].astype(np.float32)[None]
    hsv = cv2.cvtColor(px.astype(np.uint8), cv2.COLOR_BGR2HSV)[0].astype(np.float32)
    sat = hsv[:, 1] / 255.0
    if float(np.median(sat)) < 0.22:
        return "white"
    hue = hsv[:, 0] * 2.0  # degrees
    coloured = hue[sat > 0.22]
    h_med = float(np.median(coloured))
    if 25 <= h_med < 75:
        return "yellow"
    if 75 <= h_med < 170:
        return "green"
    if 170 <= h_med < 260:
        return "blue"
    return "white"


def joint_confidence(reads: Sequence[LineRead]) -> float:
    """A plate's raw confidence: the product of its areas' joint confidences (0 with no area)."""
    return float(np.prod([r.confidence for r in reads])) if reads else 0.0


def grammatical(reads: Sequence[LineRead]) -> bool:
    """Whether a plate's area reads are each valid for their line and together one grammatical plate."""
    return is_valid(join_lines(reads)) and all(r.valid for r in reads)


class Engine:
    """Locator + reader, loaded once and shared (ONNX Runtime sessions are thread-safe for `run`)."""

    def __init__(
        self,
        locator: PlateLocator,
        reader: LineReader,
        calibration: Calibration | None = None,
        reread_below: float = REREAD_BELOW,
    ) -> None:
        """``reread_below``: plates whose raw confidence is under it are re-read through other framings
        (`edge.reread`; 0 turns that off). The bundled calibration was fitted with the default."""
        self.locator = locator
        self.reader = reader
        self.calibration = calibration or getattr(reader, "calibration", None) or Calibration()
        self.reread_below = reread_below

    @classmethod
    def load(
        cls,
        models_dir: object = DEFAULT_MODELS_DIR,
        device: Device = "auto",
        threads: int = 0,
        reread_below: float = REREAD_BELOW,
        precision: Precision = "float",
    ) -> Engine:
        return cls(
            OnnxLocator(models_dir, device, threads),
            OnnxReader(models_dir, device, threads, precision),
            reread_below=reread_below,
        )

    def read_plate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> PlateRead:
        """Read the plate inside ``box`` of ``image`` (BGR), or the whole image when it is a plate crop."""
        t0 = time.perf_counter()
        geo = self.locator.locate(image, box)
        t1 = time.perf_counter()
        gray = to_gray(image)  # once: a re-read cuts the plate six more times
        cuts = cut_areas(gray, geo.quad, geo.two_line)
        reads = self.reader.read(cuts)
        raw = joint_confidence(reads)
        reread_done = should_reread(raw, self.reread_below, grammatical(reads))  # no area: raw is 0
        if reread_done:
            reads = reread(gray, geo.quad, geo.two_line, reads, self.reader)
            raw = joint_confidence(reads)
        if self.reread_below > 0.0 and not geo.two_line and len(reads) == 1:
            longer = look_left(gray, geo.quad, reads[0], self.reader)
            if longer is not None:
                reads, raw, reread_done = [longer], longer.confidence, True
        t2 = time.perf_counter()
        text = join_lines(reads)
        valid = grammatical(reads)
        colour = plate_colour(image, geo.quad)
        areas = tuple(
            AreaRead(
                c.quad,
                r.text,
                self.calibration(r.confidence),
                tuple(zip(r.text, r.char_conf, strict=True)),
                c.role.value,
            )
            for c, r in zip(cuts, reads, strict=True)
        )
        return PlateRead(
            text=text,
            confidence=self.calibration(raw) if valid else min(self.calibration(raw), 0.5),
            valid=valid,
            kind=plate_kind(text, colour) if valid else "unknown",
            colour=colour,
            quad=geo.quad,
            two_line=geo.two_line,
            areas=areas,
            raw_text="".join(r.raw_text for r in reads),
            timing_ms={"locate": (t1 - t0) * 1e3, "read": (t2 - t1) * 1e3},
            reread=reread_done,
        )
