"""The demo gate clip: vehicles drive up to a barrier, stop, and drive through, one after another.

Made by the project's own scene synthesizer (`models.training.scenes`): each vehicle is drawn once, with
its plate, as a large sprite; every frame then scales and moves the sprite along the lane (a car
approaching a camera grows and moves down the frame), adds motion blur proportional to its speed while
it moves, a little sensor noise, and the whole clip is H.264-encoded (the codec's artefacts come for
free). The truth (plate texts in order, with the frames each vehicle is visible) goes to a JSON file
next to the clip.

    python -m models.training.clip --out demo/gate.mp4 --seed 5

Timeline per vehicle at ``fps``: approach (scale 0.45 -> 1, blurred), stop at the barrier, drive on and
out of the frame at the bottom (blurred), then an empty lane for longer than the daemon's track timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from models.training.plates import sample_spec
from models.training.scenes import _backdrop, _mount, _vehicle

#: (style) of each demo vehicle: a 2020 flag plate, a two-line yellow commercial plate, a blue EV plate.
DEMO_STYLES = ("white8_flag", "yellow_two", "ev")
SPRITE_WIDTH = 720  # vehicle width in sprite pixels (the largest it appears)
KEY = -1.0


@dataclass(frozen=True)
class ClipVehicle:
    text: str
    style: str
    first_frame: int
    last_frame: int


def _sprite(rng: np.random.Generator, style: str) -> tuple[np.ndarray, np.ndarray, str]:
    """A vehicle with its plate on a transparent canvas: (BGR float32, alpha float32, plate text)."""
    w = SPRITE_WIDTH
    h = int(w * 1.3)
    canvas = np.full((h, int(w * 1.3), 3), KEY, np.float32)
    cx, bottom = canvas.shape[1] // 2, h - 2
    centre = _vehicle(canvas, rng, cx, bottom, w)
    spec = sample_spec(rng, style)
    plate_w = w * (0.2 if spec.two_line else 0.3)
    _mount(canvas, rng, spec, centre, plate_w, holder=False)
    alpha = (canvas != KEY).any(axis=2).astype(np.float32)
    canvas[alpha == 0] = 0
    return canvas, alpha, spec.text


def _motion_blur(img: np.ndarray, length: float) -> np.ndarray:
    n = round(length)
    if n < 2:
        return img
    kernel = np.zeros((n, n), np.float32)
    kernel[:, n // 2] = 1.0 / n  # vertical: the car moves down the frame towards the camera
    return cv2.filter2D(img, -1, kernel)


def _path(fps: int) -> list[tuple[float, float, float]]:
    """Per frame (scale, bottom as a fraction of the frame height, speed in px per frame at 720p)."""
    approach, stop, leave, gap = int(2.6 * fps), int(1.8 * fps), int(1.6 * fps), int(3.0 * fps)
    out = []
    for i in range(approach):
        u = i / approach
        ease = 1 - (1 - u) ** 2  # braking towards the barrier
        out.append((0.42 + 0.58 * ease, 0.62 + 0.3 * ease, 14.0 * (1 - u) + 1.0))
    out += [(1.0, 0.92, 0.0)] * stop
    for i in range(leave):
        u = (i + 1) / leave
        out.append((1.0 + 0.9 * u * u, 0.92 + 0.9 * u * u, 6.0 + 30.0 * u))
    out += [(0.0, 0.0, 0.0)] * gap
    return out


def make_clip(
    out: Path,
    seed: int,
    fps: int = 15,
    size: tuple[int, int] = (1280, 720),
    *,
    crf: int = 24,
    noise: float = 2.0,
    bitrate: int | None = None,
) -> list[ClipVehicle]:
    """Write the clip to ``out`` (H.264 in MP4) and return the vehicles it shows.

    ``noise`` (sensor noise, grey levels) and ``crf`` set the quality: the demo's defaults make a small
    file (~0.5 Mbit/s at 720p). ``bitrate`` (bit/s) instead encodes at a fixed rate like an IP camera
    (4-8 Mbit/s at 1080p): benchmarks use it, because decoding cost grows with the bitrate and
    decode-only speed is their yardstick."""
    rng = np.random.default_rng(seed)
    w, h = size
    background = _backdrop(rng, w, h).astype(np.float32)
    vehicles: list[ClipVehicle] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    frame_no = 0
    with av.open(str(out), "w") as container:
        options = {"preset": "medium", "bf": "0", "g": str(fps * 2)}
        if bitrate is None:
            options["crf"] = str(crf)
        else:  # constant bitrate, as a camera's encoder does
            options |= {"b": str(bitrate), "maxrate": str(bitrate), "bufsize": str(bitrate // 2)}
        stream = container.add_stream("libx264", rate=fps, options=options)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for style in DEMO_STYLES:
            sprite, alpha, text = _sprite(rng, style)
            first = last = -1
            lane_x = w * rng.uniform(0.42, 0.58)
            for scale, bottom, speed in _path(fps):
                frame = background.copy()
                if scale > 0:
                    sw = max(2, int(sprite.shape[1] * scale * w / 1280 * 0.75))
                    sh = max(2, int(sprite.shape[0] * sw / sprite.shape[1]))
                    spr = cv2.resize(sprite, (sw, sh), interpolation=cv2.INTER_AREA)
                    alp = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
                    spr = _motion_blur(spr, speed * 0.6)
                    alp = _motion_blur(alp, speed * 0.6)
                    x0, y0 = int(lane_x - sw / 2), int(bottom * h - sh)
                    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + sw), min(h, y0 + sh)
                    if fx1 > fx0 and fy1 > fy0:
                        a = alp[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
                        region = frame[fy0:fy1, fx0:fx1]
                        region[:] = region * (1 - a) + spr[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] * a
                        first = frame_no if first < 0 else first
                        last = frame_no
                frame += rng.normal(0, noise, frame.shape).astype(np.float32)
                image = np.clip(frame, 0, 255).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    container.mux(packet)
                frame_no += 1
            vehicles.append(ClipVehicle(text, style, first, last))
        for packet in stream.encode():
            container.mux(packet)
    return vehicles


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.clip", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="the clip (.mp4); the truth goes to <out>.json")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--fps", type=int, default=15)
    a = ap.parse_args(argv)
    vehicles = make_clip(a.out, a.seed, a.fps)
    truth = {"clip": a.out.name, "seed": a.seed, "fps": a.fps, "vehicles": [asdict(v) for v in vehicles]}
    a.out.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", "utf-8")
    for v in vehicles:
        print(f"{v.text} ({v.style}) frames {v.first_frame}-{v.last_frame}")
    print(f"{a.out}: {a.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
