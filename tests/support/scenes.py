"""Seeded synthetic plate images for tests and benchmarks that run the real models.

`plate_crop` is one plate as `models.training.dataset.film` films it (a close-up with some bumper around
it, as people upload crops; its degradations are random, so some seeds are hard to read). `plate_scene`
renders a clean plate (`render_plate`, no capture degradations: the scene tests the pipeline, not the
reader's limits), tilts it slightly and pastes it at gate-camera size into a frame (default 1280x720)
with a car-like body, a grille and lamps. Both return the truth: the text and the plate's quadrilateral.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.training.dataset import film
from models.training.plates import STYLES, render_plate, sample_spec


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # BGR uint8
    text: str
    quad: np.ndarray  # (4, 2) float32, clockwise from top-left, in image pixels
    style: str


def plate_crop(seed: int, style: str | None = None) -> Sample:
    spec, image, quad, _ = film(np.random.default_rng(seed), style)
    return Sample(image, spec.text, quad.astype(np.float32), spec.style)


def plate_scene(
    seed: int, size: tuple[int, int] = (1280, 720), char_height: float = 34.0, style: str = "white7"
) -> Sample:
    """A frame of ``size`` (w, h) with one plate whose characters are about ``char_height`` px tall."""
    rng = np.random.default_rng(seed)
    w, h = size
    spec = sample_spec(rng, style)
    plate_mm_h = STYLES[style][1][1]
    scale = char_height / (0.6 * plate_mm_h)  # pixels per mm: characters are ~60 % of the plate height
    plate = cv2.cvtColor(render_plate(spec, rng, scale), cv2.COLOR_RGB2BGR)
    ph, pw = plate.shape[:2]

    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([120 + 60 * y / h, 125 + 50 * y / h, 130 + 40 * y / h + 10 * x / w], -1)
    frame = sky + rng.normal(0, 3, (h, w, 3))
    body = tuple(float(v) for v in rng.uniform(40, 200, 3))
    cx, cy = w // 2 + int(rng.integers(-w // 10, w // 10)), int(h * 0.64)
    cv2.rectangle(frame, (cx - int(w * 0.3), int(h * 0.3)), (cx + int(w * 0.3), h), body, -1)
    for k in range(6):  # grille bars above the plate
        yy = int(h * 0.36) + k * int(h * 0.025)
        cv2.rectangle(frame, (cx - int(w * 0.15), yy), (cx + int(w * 0.15), yy + 6), (30, 30, 30), -1)
    for side in (-1, 1):  # lamps
        lx = cx + side * int(w * 0.24)
        cv2.ellipse(frame, (lx, int(h * 0.4)), (int(w * 0.04), int(h * 0.03)), 0, 0, 360, (220, 230, 240), -1)
    image = np.clip(frame, 0, 255).astype(np.uint8)

    angle = np.deg2rad(rng.uniform(-4, 4))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) - [pw / 2, ph / 2]
    quad = (corners @ rot.T + [cx, cy]).astype(np.float32)
    m = cv2.getPerspectiveTransform(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), quad)
    warped = cv2.warpPerspective(plate, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h))
    image[mask > 127] = warped[mask > 127]
    blurred: np.ndarray = cv2.GaussianBlur(image, (3, 3), 0.6)
    return Sample(blurred, spec.text, quad, style)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()
