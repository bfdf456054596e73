"""Text areas inside a plate: where each line sits, and how an area is cut out for the reader.

A plate is described by its quadrilateral (clockwise from top-left, image pixels) and its layout (one or
two lines). Areas are fixed fractions of the plate's own coordinate frame, so a perspective-correct
homography maps them into the image: the reader always sees a line the same way, whatever the camera
angle. The synthesizer cuts its training crops with these same functions; any change here must be
measured with the shipped reader on the seeded sets, and usually means retraining it (the pyramid of
`warp_area` was measured and needed none: README, Models).

The two-line split overlaps (top to 0.42, bottom from 0.36): a slightly wrong plate quad then clips no
character, and the reader is trained to ignore the slivers of the other line at the edge.

An area ends at the plate's left and right edges, but the reader is shown a little beyond them
(`READ_MARGIN`): cut flush, the printed border and the bolts sat at the very edge of every input, the
first and last characters right beside them, and the reader learnt to drop a thin stroke there (a
leading `1` was the most common casualty). With a margin the plate's edge is inside the input and a
character is never the outermost stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.contrast import lift_contrast
from edge.plate import LineRole

#: Reader input size (height, width), grayscale. Part of the model contract (manifest ``input_shape``).
READER_H = 32
READER_W = 128

#: Vertical extent (v0, v1) of each role in plate-normalised coordinates.
AREA_SPANS: dict[LineRole, tuple[float, float]] = {
    LineRole.SINGLE: (0.0, 1.0),
    LineRole.TOP: (0.0, 0.42),
    LineRole.BOTTOM: (0.36, 1.0),
}

#: Horizontal context the reader sees beyond each end of an area, as a share of the plate's width. Part
#: of the reader's input contract: recorded in its manifest entry (``read_margin``) and checked at load.
READ_MARGIN = 0.04

Quad = np.ndarray  # (4, 2) float32, clockwise from top-left


@dataclass(frozen=True)
class AreaCut:
    """One text line cut out of an image: its role, its quad in image pixels, and the reader input."""

    role: LineRole
    quad: Quad
    pixels: np.ndarray  # (READER_H, READER_W) uint8


def roles_for(two_line: bool) -> tuple[LineRole, ...]:
    """Areas of a plate in reading order (top line first)."""
    return (LineRole.TOP, LineRole.BOTTOM) if two_line else (LineRole.SINGLE,)


def unit_to_image(plate_quad: Quad) -> np.ndarray:
    """Homography from the plate's unit square (u, v in [0, 1]) to image pixels."""
    src = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, np.asarray(plate_quad, dtype=np.float32))


def area_quad(plate_quad: Quad, role: LineRole, margin: float = 0.0) -> Quad:
    """The image-pixel quad of one area of a plate, widened by ``margin`` plate widths at each end."""
    return _area_quad(unit_to_image(plate_quad), role, margin)


def unit_rect_to_image(to_image: np.ndarray, u0: float, v0: float, u1: float, v1: float) -> Quad:
    """The rectangle [u0, u1] x [v0, v1] of a plate's unit square as an image quad (clockwise from
    top-left), through the plate's homography ``to_image`` (`unit_to_image`)."""
    unit = np.array([[[u0, v0], [u1, v0], [u1, v1], [u0, v1]]], dtype=np.float32)
    quad: Quad = cv2.perspectiveTransform(unit, to_image)[0]
    return quad


def _area_quad(to_image: np.ndarray, role: LineRole, margin: float) -> Quad:
    v0, v1 = AREA_SPANS[role]
    return unit_rect_to_image(to_image, -margin, v0, 1.0 + margin, v1)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR or gray uint8 image to gray uint8."""
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


#: An area whose brightness spreads over less than this (2nd to 98th percentile, of 255) is stretched
#: to it (`edge.contrast`): the reader never saw the strokes of a dim or hazy plate that faint. Lower
#: than the locator's floor: a normal area, a line of text with some plate around it, spreads less than
#: a whole window does, and the reader was trained on those as they are. See `LOCATOR_MIN_SPREAD`
#: (edge.locator) for what the two floors did.
AREA_MIN_SPREAD = 60.0

#: An area more than this many times larger than the reader's input (in both directions) is first
#: halved through an image pyramid until it is not; below it the bilinear warp alone is used.
ANTIALIAS_ABOVE = 2.0


def warp_area(gray: np.ndarray, quad: Quad) -> np.ndarray:
    """Rectify one area to the reader's input size.

    warpPerspective samples bilinearly: scaling down by k it reads about one source pixel in k and
    averages nothing, so on a large, noisy crop (a 4K camera at night, a phone photo of a plate) the
    strokes break up into aliased noise. An area more than `ANTIALIAS_ABOVE` times the input is
    therefore first halved with `cv2.pyrDown` (a 5-tap Gaussian, then every other pixel) as often as
    that takes, and only then rectified. A pyramid rather than INTER_AREA: its samples stay centred on
    the source grid whatever the factor, so nothing shifts by part of a pixel. Cost: a few pyramid
    levels of the area's bounding box. An area up to twice the input, as most are at gate distances,
    is warped exactly as before. Last, a dim or flat area has its contrast lifted (`AREA_MIN_SPREAD`).
    """
    q = np.asarray(quad, dtype=np.float32)
    shrink = min(
        max(float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[2] - q[3]))) / READER_W,
        max(float(np.linalg.norm(q[3] - q[0])), float(np.linalg.norm(q[2] - q[1]))) / READER_H,
    )
    levels = 0
    while shrink / 2**levels > ANTIALIAS_ABOVE:
        levels += 1
    if levels:
        gray, q = _pyramid_around(gray, q, levels)
    dst = np.array([[0, 0], [READER_W, 0], [READER_W, READER_H], [0, READER_H]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    area = cv2.warpPerspective(
        gray, m, (READER_W, READER_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return lift_contrast(area, AREA_MIN_SPREAD)


def _pyramid_around(gray: np.ndarray, quad: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``gray`` around ``quad`` halved ``levels`` times, and the quad in it (pyrDown's pixel
    i is centred on its input's pixel 2i). The box is clipped to the image, so the warp's replicated
    border is still the image's own edge."""
    h, w = gray.shape[:2]
    pad = 3 * 2**levels  # the kernels' reach, and a pixel or two for the bilinear warp
    x0, y0 = (max(0, int(np.floor(v - pad))) for v in quad.min(axis=0))
    x1, y1 = min(w, int(np.ceil(quad[:, 0].max() + pad))), min(h, int(np.ceil(quad[:, 1].max() + pad)))
    if x1 - x0 < 2**levels or y1 - y0 < 2**levels:  # the quad lies (nearly) outside the image
        return gray, quad
    small = gray[y0:y1, x0:x1]
    for _ in range(levels):
        small = cv2.pyrDown(small)
    moved = (quad - np.array([x0, y0], dtype=np.float32)) / 2**levels
    return small, moved.astype(np.float32)


def cut_areas(image: np.ndarray, plate_quad: Quad, two_line: bool) -> list[AreaCut]:
    """Cut every text area of a plate out of an image, top line first: the area's own quad (what is
    reported) and its pixels with `READ_MARGIN` of context at each end (what the reader sees)."""
    gray, to_image = to_gray(image), unit_to_image(plate_quad)
    return [
        AreaCut(
            role, _area_quad(to_image, role, 0.0), warp_area(gray, _area_quad(to_image, role, READ_MARGIN))
        )
        for role in roles_for(two_line)
    ]


#: The main characters' height as a share of the plate's height: long single-line plates carry ~80 mm
#: digits on 110 mm, two-line plates ~85 mm bottom-line digits on 170 mm (the synthesizer's layout).
MAIN_TEXT_SHARE: dict[bool, float] = {False: 0.74, True: 0.5}


def plate_height(plate_quad: Quad) -> float:
    """The mean of a quad's left and right edge lengths: a plate seen at an angle counts at its middle."""
    q = np.asarray(plate_quad, np.float64)
    return float(np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2


def text_height(plate_quad: Quad, two_line: bool) -> float:
    """Estimated height in image pixels of a plate's main characters (two-line: the large bottom line;
    the top line is about half of it), from `plate_height`. An estimate from the layout, not a
    measurement of the glyphs."""
    return plate_height(plate_quad) * MAIN_TEXT_SHARE[two_line]
