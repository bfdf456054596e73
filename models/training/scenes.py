"""Gate-camera frames: procedural vehicles carrying synthetic plates, with the plates' true quads.

A frame is a backdrop (wall, booth, barrier arm, signs with Hangul and Latin text, kerbs, lane marks),
0-3 vehicles seen from the front or the rear (`models.training.vehicles`: cars, SUVs, vans, trucks,
buses, with grilles, lamps, badges and stickers around the plate), each with a plate from the reader's
synthesizer (`plates.render_plate` + `capture.weather_plate`, sometimes in a holder with dealer text),
and then the light and the camera: day, dusk (lamps on), night IR (grey, retro-reflective plates,
bloom), rain, glare, blur, noise and JPEG. Plates are 60-600 px wide (log-uniform) in 1280 x 720 to
1920 x 1080 frames; some frames have no plate, some vehicles have none. Everything is a pure function of
the seed.

    python -m models.training.scenes --out build/scenes-val --n 300 --seed 7001   # + manifest.csv
    python -m models.training.scenes --out demo --n 4 --seed 11 --demo               # the demo's styles

The manifest is design.md's format (``file,plate_text,x1,y1,x2,y2,kind=scene``, the box being the
plate quad's axis-aligned bounds), so ``plate-edge eval --task detect|e2e`` scores any such set.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.training.capture import _DEALER_TEXT, jpeg, weather_plate
from models.training.plates import STYLES, PlateSpec, render_plate, sample_spec
from models.training.vehicles import KIND_SPECS, KINDS, VehicleInfo, draw_vehicle, paste_text

SIZES = ((1280, 720), (1600, 900), (1920, 1080))
CONDITIONS = ("day", "dusk", "night_ir", "rain")
_CONDITION_P = (0.45, 0.15, 0.25, 0.15)
SIGNS = ("출구 EXIT", "입구", "주차장 P", "만차 FULL", "주차요금 1,000원/30분", "정산소", "SLOW",
         "STOP 정지", "30 km", "높이제한 2.3m", "경차전용", "CCTV 녹화중", "출차주의", "B1 B2",
         "방문객 주차", "02-123-4567", "OPEN 24H", "관리사무소", "진입금지", "PARKING 7")  # fmt: skip


@dataclass(frozen=True)
class ScenePlate:
    text: str
    style: str
    quad: np.ndarray  # (4, 2) float32 in frame pixels, clockwise from top-left


def _c(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _backdrop(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Wall or sky above a horizon, asphalt below, with the clutter of a car park's entrance (float32 BGR)."""
    horizon = rng.uniform(0.3, 0.55)
    hy = int(h * horizon)
    img = np.empty((h, w, 3), np.float32)
    wall = rng.uniform(70, 210, 3).astype(np.float32)
    ground = rng.uniform(45, 115) * np.array([1.0, 1.0, 1.02], np.float32)
    ramp_top = np.linspace(0.8, 1.1, hy, dtype=np.float32)[:, None, None]
    ramp_bot = np.linspace(0.7, 1.2, h - hy, dtype=np.float32)[:, None, None]
    img[:hy] = wall * ramp_top
    img[hy:] = ground * ramp_bot
    # low-frequency texture (stains, asphalt patches): made small and upscaled, cheap at 1080p
    tex = cv2.resize(rng.normal(0, 1, (h // 40 + 2, w // 40 + 2)).astype(np.float32), (w, h))
    img += (tex * rng.uniform(3, 12))[..., None]
    for _ in range(int(rng.integers(0, 4))):  # buildings, pillars, the booth
        x0, x1 = sorted(rng.integers(0, w, 2))
        y0 = int(rng.integers(0, max(1, hy - 10)))
        cv2.rectangle(img, (int(x0), y0), (int(x1), hy), _c(rng.uniform(40, 230, 3)), -1)
        for _ in range(int(rng.integers(0, 5))):  # windows
            wx, wy = int(rng.integers(x0, x1 + 1)), int(rng.integers(y0, hy + 1))
            s = int(rng.integers(10, 60))
            cv2.rectangle(img, (wx, wy), (wx + s, wy + s // 2), _c(rng.uniform(10, 90, 3)), -1)
    if rng.random() < 0.5:  # barrier arm, red and white
        y = int(rng.uniform(0.25, 0.6) * h)
        x0, x1 = int(rng.uniform(-0.2, 0.4) * w), int(rng.uniform(0.5, 1.2) * w)
        t = int(rng.integers(8, 24))
        cv2.rectangle(img, (x0, y), (x1, y + t), (235.0, 235.0, 235.0), -1)
        for x in range(x0, x1, 4 * t):
            cv2.rectangle(img, (x, y), (x + 2 * t, y + t), (40.0, 40.0, 200.0), -1)
    for _ in range(int(rng.integers(0, 4))):  # signs with text that is not a plate
        sh = int(rng.integers(16, max(17, h // 12)))
        sw = int(sh * rng.uniform(2.5, 9))
        x, y = int(rng.integers(-sw // 2, w)), int(rng.integers(0, max(1, int(h * 0.8))))
        bg = rng.uniform(180, 255, 3) if rng.random() < 0.5 else rng.uniform(0, 200, 3)
        cv2.rectangle(img, (x, y), (x + sw, y + sh), _c(bg), -1)
        ink = 255 - bg if rng.random() < 0.8 else rng.uniform(0, 255, 3)
        paste_text(
            img, rng, str(rng.choice(SIGNS)), x + sh // 6, y + sh // 8, int(sh * 0.7), _c(ink), sw - sh // 3
        )
    for _ in range(int(rng.integers(0, 3))):  # kerbs: a band with yellow/black stripes
        y = int(rng.integers(hy, h))
        t = int(rng.integers(6, 30))
        cv2.rectangle(img, (0, y), (w, y + t), _c(rng.uniform(110, 190) * np.ones(3)), -1)
        if rng.random() < 0.5:
            for x in range(int(rng.integers(-40, 0)), w, 4 * t):
                cv2.rectangle(img, (x, y), (x + 2 * t, y + t), (20.0, 190.0, 230.0), -1)
    for _ in range(int(rng.integers(0, 4))):  # lane marks, stop lines, arrows
        y = int(rng.integers(hy, h))
        x = int(rng.integers(0, w))
        colour = (225.0, 225.0, 220.0) if rng.random() < 0.7 else (40.0, 190.0, 230.0)
        if rng.random() < 0.6:
            cv2.rectangle(
                img, (x, y), (x + int(rng.integers(40, 500)), y + int(rng.integers(4, 16))), colour, -1
            )
        else:
            s = int(rng.integers(20, 80))
            pts = np.array([[x, y], [x + s, y], [x + s, y - s], [x + 2 * s, y - s], [x + s // 2, y - 2 * s],
                            [x - s, y - s], [x, y - s]], np.int32)  # fmt: skip
            cv2.fillPoly(img, [pts], colour)
    return img


def _vehicle(img: np.ndarray, rng: np.random.Generator, cx: int, bottom: int, width: int) -> tuple[int, int]:
    """Draw a random vehicle's front or rear; returns the plate centre (x, y) on it."""
    return draw_vehicle(img, rng, cx, bottom, width).plate_centre


def _holder(plate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The plate in a plastic/chrome holder with dealer text: (texture, alpha, plate offset in it)."""
    ph, pw = plate.shape[:2]
    t = max(2, int(ph * rng.uniform(0.04, 0.1)))
    bottom = max(t, int(ph * rng.uniform(0.1, 0.3)))
    tex = np.empty((ph + t + bottom, pw + 2 * t, 3), np.float32)
    tex[:] = _c(rng.uniform(10, 60, 3) if rng.random() < 0.7 else rng.uniform(150, 220, 3))
    if rng.random() < 0.7 and bottom >= 5:
        paste_text(tex, rng, str(rng.choice(_DEALER_TEXT)), t + pw // 4, ph + t, max(4, int(bottom * 0.7)),
                   (225.0, 225.0, 225.0), pw // 2)  # fmt: skip
    tex[t : t + ph, t : t + pw] = plate
    return tex, np.ones(tex.shape[:2], np.float32), (t, t)


def _mount(
    img: np.ndarray,
    rng: np.random.Generator,
    spec: PlateSpec,
    centre: tuple[int, int],
    plate_w: float,
    *,
    holder: bool | None = None,
) -> np.ndarray:
    """Render ``spec`` ``plate_w`` px wide centred on ``centre`` with a little yaw, roll and corner
    jitter, blend it into ``img`` (float32 BGR, in place); returns the plate's quad (4, 2) float32.

    Only the plate's bounding region is warped, so a 1080p frame costs no more than a small one."""
    w_mm, h_mm = STYLES[spec.style][1]
    plate = cv2.cvtColor(
        weather_plate(render_plate(spec, rng, max(0.35, 1.4 * plate_w / w_mm)), rng), cv2.COLOR_RGB2BGR
    ).astype(np.float32)
    ph, pw = plate.shape[:2]
    if holder if holder is not None else rng.random() < 0.4:
        tex, alpha, (ox, oy) = _holder(plate, rng)
    else:
        tex, alpha, (ox, oy) = plate, np.ones((ph, pw), np.float32), (0, 0)
    tw, th = plate_w, plate_w * h_mm / w_mm
    cx, cy = centre
    dst = np.array([[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]], np.float32)
    if rng.random() < 0.6:  # yaw: one side nearer the camera, taller
        side = rng.uniform(-0.15, 0.15) * th
        dst[[1, 2], 1] += np.array([-side, side], np.float32) / 2
        dst[[0, 3], 1] -= np.array([-side, side], np.float32) / 2
    a = np.deg2rad(rng.normal(0, 3))
    dst = dst @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]], np.float32)
    dst += np.array([cx, cy], np.float32) + rng.normal(0, th * 0.03, (4, 2)).astype(np.float32)
    src = np.array([[ox, oy], [ox + pw, oy], [ox + pw, oy + ph], [ox, oy + ph]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    th_, tw_ = tex.shape[:2]
    outline = cv2.perspectiveTransform(np.array([[[0, 0], [tw_, 0], [tw_, th_], [0, th_]]], np.float32), m)[0]
    h, w = img.shape[:2]
    x0, y0 = np.floor(np.maximum(outline.min(axis=0) - 2, 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(outline.max(axis=0) + 2, [w, h])).astype(int)
    if x1 > x0 and y1 > y0:
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ m
        size = (int(x1 - x0), int(y1 - y0))
        warped = cv2.warpPerspective(tex, shift, size, flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(alpha, shift, size, flags=cv2.INTER_LINEAR)[..., None]
        roi = img[y0:y1, x0:x1]
        roi[:] = roi * (1 - mask) + warped * mask
    return dst.astype(np.float32)


def _glow(shape: tuple[int, int], spots: list[tuple[int, int, int]], gain: float) -> np.ndarray:
    """Additive bloom around light sources, computed at 1/8 scale (a blur that size at 1080p is slow)."""
    h, w = shape
    small = np.zeros((h // 8 + 1, w // 8 + 1), np.float32)
    for x, y, r in spots:
        cv2.circle(small, (x // 8, y // 8), max(1, r // 8), 1.0, -1)
    small = cv2.GaussianBlur(small, (0, 0), 2.5)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) * gain


def _light_and_camera(
    img: np.ndarray,
    rng: np.random.Generator,
    condition: str,
    plates: list[np.ndarray],
    lamps: list[tuple[int, int, int]],
) -> np.ndarray:
    """Lighting, weather and the camera (blur, noise, JPEG) on the whole frame; uint8 BGR out."""
    h, w = img.shape[:2]
    if condition == "night_ir":  # IR illuminator: grey, dark surroundings, retro-reflective plates
        g = img.mean(axis=2) * rng.uniform(0.15, 0.4)
        yy, xx = np.ogrid[0:h, 0:w]
        g *= (1.3 - 0.6 * (((xx - w / 2) / w) ** 2 + ((yy - h * 0.6) / h) ** 2) * 2).astype(np.float32)
        mask = np.zeros((h, w), np.float32)
        for q in plates:
            cv2.fillConvexPoly(mask, q.astype(np.int32), 1.0)
        g = g * (1 + mask * rng.uniform(1.5, 3.5))
        g += _glow((h, w), lamps, rng.uniform(150, 400)) if lamps and rng.random() < 0.6 else 0
        g = g + rng.uniform(5, 40)
        img = np.repeat(g[..., None], 3, axis=2)
    elif condition == "dusk":
        img = img * rng.uniform(0.3, 0.6) * np.array([1.15, 1.0, 0.9], np.float32)
        if lamps:
            img += _glow((h, w), lamps, rng.uniform(80, 250))[..., None]
    elif condition == "rain":
        fog = rng.uniform(0.05, 0.35)
        img = img * (1 - fog) * rng.uniform(0.6, 0.95) + 150 * fog
        streaks = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(100, 600))):
            x, y = int(rng.integers(w)), int(rng.integers(h))
            ln = int(rng.integers(10, 60))
            cv2.line(streaks, (x, y), (x + int(rng.integers(-6, 7)), y + ln), 1.0, 1, cv2.LINE_AA)
        img += (streaks * rng.uniform(30, 90))[..., None]
    else:  # day: exposure and white balance
        img = img * rng.uniform(0.7, 1.2) + rng.uniform(-20, 25)
    if condition != "night_ir":
        img = img * (1 + rng.uniform(-0.08, 0.08, 3)).astype(np.float32)
    if rng.random() < 0.2:  # glare: sun or a lamp in the lens
        r = int(min(w, h) * rng.uniform(0.05, 0.3))
        img += _glow((h, w), [(int(rng.integers(w)), int(rng.integers(h)), r)], rng.uniform(60, 220))[
            ..., None
        ]
    img = np.clip(img, 0, 255)
    img = 255.0 * (img / 255.0) ** rng.uniform(0.75, 1.3)
    if rng.random() < 0.5:  # focus / motion
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.6))
    if rng.random() < 0.2:  # a lower-resolution sensor upscaled
        f = rng.uniform(1.3, 2.2)
        img = cv2.resize(cv2.resize(img, (int(w / f), int(h / f)), interpolation=cv2.INTER_AREA), (w, h))
    noise = rng.uniform(0, 9) * (2.0 if condition == "night_ir" else 1.0)
    if noise > 1:  # cheaper than a full-resolution normal draw, and sensor noise is spatially correlated
        n = rng.standard_normal((h // 2 + 1, w // 2 + 1), np.float32) * noise
        img += cv2.resize(n, (w, h), interpolation=cv2.INTER_NEAREST)[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    return jpeg(out, int(rng.integers(35, 96)))


def scene(
    rng: np.random.Generator,
    size: tuple[int, int] = (1280, 720),
    vehicles: int | None = None,
    styles: list[str] | None = None,
    *,
    condition: str | None = None,
    plate_widths: tuple[float, float] = (60.0, 600.0),
    p_no_plate: float = 0.04,
) -> tuple[np.ndarray, list[ScenePlate]]:
    """One frame (BGR uint8) and the truth for its plates.

    ``vehicles`` None draws 0-3 (no vehicle 6 % of the time); ``styles`` cycles plate styles over the
    vehicles; ``condition`` one of `CONDITIONS` (None: drawn). A vehicle carries no plate with
    probability ``p_no_plate`` (or when its plate would leave the frame)."""
    w, h = size
    img = _backdrop(rng, w, h)
    n = vehicles if vehicles is not None else int(rng.choice(4, p=[0.06, 0.52, 0.3, 0.12]))
    cond = condition or str(rng.choice(CONDITIONS, p=_CONDITION_P))
    lo = np.log(plate_widths[0])
    slots = np.linspace(0, w, n + 1)
    placed: list[tuple[float, int, str, PlateSpec, float]] = []
    for i in range(n):
        p = np.array([KIND_SPECS[k][0] for k in KINDS])
        kind = str(rng.choice(KINDS, p=p / p.sum()))
        spec = sample_spec(rng, styles[i % len(styles)] if styles else None)
        plate_mm = STYLES[spec.style][1][0]
        ratio = plate_mm / KIND_SPECS[kind][1]
        cap = plate_widths[1] if n == 1 else min(plate_widths[1], ratio * (w / n) * 0.95)
        plate_w = float(np.exp(rng.uniform(lo, max(lo, np.log(max(cap, plate_widths[0]))))))
        placed.append((plate_w, i, kind, spec, ratio))
    lamps: list[tuple[int, int, int]] = []
    plates: list[ScenePlate] = []
    quads: list[np.ndarray] = []
    for plate_w, i, kind, spec, ratio in sorted(placed, key=lambda t: t[0]):  # far (small) ones first
        width = int(plate_w / ratio)
        s = width / KIND_SPECS[kind][1]
        th = plate_w * STYLES[spec.style][1][1] / STYLES[spec.style][1][0]
        # the plate sits 330-1100 mm above the ground: keep it inside the frame with a margin
        b_lo, b_hi = th + 1100 * s + 4, h - th + 330 * s - 4
        bottom = int(rng.uniform(b_lo, b_hi)) if b_hi > b_lo else int((b_lo + b_hi) / 2)
        c_lo, c_hi = slots[i] + width * 0.3, slots[i + 1] - width * 0.3
        cx = int(rng.uniform(c_lo, c_hi)) if c_hi > c_lo else int((slots[i] + slots[i + 1]) / 2)
        cx = int(np.clip(cx, plate_w, w - plate_w)) if w > 2 * plate_w else w // 2
        info: VehicleInfo = draw_vehicle(img, rng, cx, bottom, width, kind)
        lamps += info.lamps
        if rng.random() < p_no_plate:
            continue
        quad = _mount(img, rng, spec, info.plate_centre, plate_w)
        if quad.min() < 1 or quad[:, 0].max() > w - 2 or quad[:, 1].max() > h - 2:
            # drawn anyway, but a plate cut by the frame edge has no box: redraw the region as bumper
            lo_xy = np.maximum(np.floor(quad.min(axis=0)).astype(int) - 2, 0)
            hi_xy = np.ceil(quad.max(axis=0)).astype(int) + 2
            img[lo_xy[1] : hi_xy[1], lo_xy[0] : hi_xy[0]] = rng.uniform(20, 80)
            continue
        # a nearer vehicle drawn later may hide a farther plate: drop plates it covers
        body = info.body
        keep = []
        for sp in plates:
            c = sp.quad.mean(axis=0)
            if not (body[0] <= c[0] <= body[2] and body[1] <= c[1] <= body[3]):
                keep.append(sp)
        plates = keep
        plates.append(ScenePlate(spec.text, spec.style, quad))
    quads = [p.quad for p in plates]
    return _light_and_camera(img, rng, cond, quads, lamps), plates


def write_set(out: Path, n: int, seed: int, demo: bool = False) -> list[str]:
    """Write ``n`` frames and ``manifest.csv`` into ``out``; returns the manifest rows."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    demo_styles = [["white7"], ["yellow_two", "white8_flag"], ["ev"], ["white_region", "green_two"]]
    rows = []
    for i in range(n):
        if demo:
            styles = demo_styles[i % len(demo_styles)]
            img, plates = scene(
                rng, styles=styles, vehicles=len(styles), condition="day", plate_widths=(90, 350)
            )
            name = f"gate-{i + 1:02d}.jpg"
        else:
            size = SIZES[int(rng.integers(len(SIZES)))]
            img, plates = scene(rng, size)
            name = f"scene-{i + 1:05d}.jpg"
        cv2.imwrite(str(out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        for p in plates:
            x1, y1 = p.quad.min(axis=0)
            x2, y2 = p.quad.max(axis=0)
            rows.append(f"{name},{p.text},{x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f},scene")
        if not plates:  # a frame with no plate still belongs to the set (false positives are scored)
            rows.append(f"{name},,,,,,scene")
    (out / "manifest.csv").write_text(
        "file,plate_text,x1,y1,x2,y2,kind\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.scenes")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--demo", action="store_true", help="the demo's four kinds of frame (day, 90-350 px plates)"
    )
    a = ap.parse_args(argv)
    rows = write_set(a.out, a.n, a.seed, a.demo)
    print(f"wrote {a.n} frames, {sum(1 for r in rows if r.split(',')[1])} plates, {a.out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
