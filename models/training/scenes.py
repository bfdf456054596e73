"""Gate-camera frames: procedural vehicles carrying synthetic plates, with the plates' true quads.

A first scene synthesizer (the own-detector issue will grow it: trucks, buses, night IR, rain, several
lanes). Vehicles are drawn as a front or rear view: body, windscreen, lamps, grille or boot lid, bumper,
with the plate mounted on the bumper at a realistic scale for a gate camera (plates 90-350 px wide in a
1280 x 720 frame). The whole frame then goes through the same optics/sensor/codec model as the reader's
data (`capture._photometric`).

    python -m models.training.scenes --out demo --n 4 --seed 11
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.training.capture import _CAR_PAINT, _photometric, weather_plate
from models.training.plates import STYLES, PlateSpec, render_plate, sample_spec


@dataclass(frozen=True)
class ScenePlate:
    text: str
    style: str
    quad: np.ndarray  # (4, 2) float32 in frame pixels, clockwise from top-left


def _backdrop(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    wall = rng.uniform(90, 200, 3).astype(np.float32)
    ground = rng.uniform(50, 110) * np.ones(3, np.float32)
    horizon = rng.uniform(0.35, 0.55)
    img = np.where(y < horizon, wall * (0.8 + 0.3 * y), ground * (0.7 + 0.5 * y)) * np.ones(
        (h, w, 3), np.float32
    )
    for _ in range(int(rng.integers(1, 4))):  # lane marks, kerbs, signs
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(int(h * horizon), h))
        cv2.rectangle(
            img,
            (x0, y0),
            (x0 + int(rng.integers(40, 300)), y0 + int(rng.integers(4, 12))),
            (220.0, 220.0, 210.0),
            -1,
        )
    return img


def _vehicle(img: np.ndarray, rng: np.random.Generator, cx: int, bottom: int, width: int) -> tuple[int, int]:
    """Draw a vehicle's front/rear; returns the plate centre (x, y) on its bumper."""
    h_body = int(width * rng.uniform(0.55, 0.8))
    top = bottom - h_body
    paint = tuple(float(v) for v in _CAR_PAINT[rng.integers(len(_CAR_PAINT))] * rng.uniform(0.8, 1.05))
    x0, x1 = cx - width // 2, cx + width // 2
    cv2.rectangle(img, (x0, top + h_body // 4), (x1, bottom), paint, -1)
    glass = np.array(
        [
            [x0 + width * 0.12, top],
            [x1 - width * 0.12, top],
            [x1 - width * 0.04, top + h_body * 0.38],
            [x0 + width * 0.04, top + h_body * 0.38],
        ],
        np.int32,
    )
    cv2.fillConvexPoly(img, glass, tuple(float(v) for v in rng.uniform(20, 70, 3)))
    lamp_y = top + int(h_body * 0.5)
    lamp = (
        (230.0, 235.0, 240.0) if rng.random() < 0.5 else (40.0, 40.0, 200.0)
    )  # head or tail lamps (BGR red)
    for side in (-1, 1):
        lx = cx + side * int(width * 0.36)
        cv2.ellipse(img, (lx, lamp_y), (int(width * 0.1), int(h_body * 0.06)), 0, 0, 360, lamp, -1)
    if rng.random() < 0.6:  # grille
        for k in range(4):
            yy = lamp_y - int(h_body * 0.05) + k * int(h_body * 0.035)
            cv2.rectangle(
                img,
                (cx - int(width * 0.2), yy),
                (cx + int(width * 0.2), yy + max(2, h_body // 60)),
                (25.0, 25.0, 25.0),
                -1,
            )
    bumper_y = top + int(h_body * 0.78)
    cv2.rectangle(
        img, (x0, bumper_y - h_body // 30), (x1, bumper_y + h_body // 30), tuple(v * 0.7 for v in paint), -1
    )
    return cx, bumper_y


def _mount(
    img: np.ndarray, rng: np.random.Generator, spec: PlateSpec, centre: tuple[int, int], plate_w: float
) -> np.ndarray:
    w_mm, h_mm = STYLES[spec.style][1]
    plate = cv2.cvtColor(
        weather_plate(render_plate(spec, rng, max(0.35, 1.4 * plate_w / w_mm)), rng), cv2.COLOR_RGB2BGR
    )
    ph, pw = plate.shape[:2]
    tw, th = plate_w, plate_w * h_mm / w_mm
    cx, cy = centre
    dst = np.array(
        [
            [cx - tw / 2, cy - th / 2],
            [cx + tw / 2, cy - th / 2],
            [cx + tw / 2, cy + th / 2],
            [cx - tw / 2, cy + th / 2],
        ],
        np.float32,
    )
    dst += rng.normal(0, th * 0.05, (4, 2)).astype(np.float32)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    h, w = img.shape[:2]
    warped = cv2.warpPerspective(plate.astype(np.float32), m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    img[:] = img * (1 - mask) + warped * mask
    return dst


def scene(
    rng: np.random.Generator,
    size: tuple[int, int] = (1280, 720),
    vehicles: int | None = None,
    styles: list[str] | None = None,
) -> tuple[np.ndarray, list[ScenePlate]]:
    """One frame (BGR uint8) with 1-2 vehicles, and the truth for their plates."""
    w, h = size
    img = _backdrop(rng, w, h)
    n = vehicles or int(rng.integers(1, 3))
    plates: list[ScenePlate] = []
    slots = np.linspace(0, w, n + 2)[1:-1]
    for i in range(n):
        width = int(w * rng.uniform(0.35, 0.6) / n**0.5)
        cx = int(slots[i] + rng.uniform(-0.05, 0.05) * w)
        centre = _vehicle(img, rng, cx, int(h * rng.uniform(0.85, 1.0)), width)
        spec = sample_spec(rng, styles[i % len(styles)] if styles else None)
        plate_w = width * rng.uniform(0.28, 0.36) * (0.65 if spec.two_line else 1.0)
        quad = _mount(img, rng, spec, centre, plate_w)
        plates.append(ScenePlate(spec.text, spec.style, quad))
    char_h = min(float(np.ptp(p.quad[:, 1])) for p in plates) * 0.6
    quad0 = plates[0].quad
    out = _photometric(img.astype(np.float32)[..., ::-1], rng, quad0, char_h)  # it expects RGB
    return out, plates


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.scenes")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    demo_styles = [["white7"], ["yellow_two", "white8_flag"], ["ev"], ["white_region", "green_two"]]
    rows = []
    for i in range(a.n):
        styles = demo_styles[i % len(demo_styles)]
        img, plates = scene(rng, styles=styles, vehicles=len(styles))
        name = f"gate-{i + 1:02d}.jpg"
        cv2.imwrite(str(a.out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        for p in plates:
            x1, y1 = p.quad.min(axis=0)
            x2, y2 = p.quad.max(axis=0)
            rows.append(f"{name},{p.text},{x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f},scene")
        print(name, " ".join(p.text for p in plates))
    # the truth, in the eval manifest format: `plate-edge eval --manifest demo/manifest.csv`
    (a.out / "manifest.csv").write_text(
        "file,plate_text,x1,y1,x2,y2,kind\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
