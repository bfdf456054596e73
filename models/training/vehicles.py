"""Procedural vehicles as a gate camera sees them: front or rear of cars, SUVs, vans, trucks and buses.

Everything is laid out in millimetres (x from the vehicle's centre line, y above the ground) and scaled
by the vehicle's pixels per millimetre, so a plate mounted on it has the real proportion to its bumper,
lamps and grille whatever the size in the frame. The point is not realism of the body, it is the
*clutter around a plate* a detector must not fire on: grille bars and meshes, lamp clusters, chrome
badges, model names, stickers with Hangul and digits, a bus's destination sign, a truck's company name.
Nothing here draws a plate (`models.training.scenes._mount` does); `draw_vehicle` only says where the
plate goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from models.training.capture import _CAR_PAINT
from models.training.glyphs import HANGUL_FONTS, LATIN_FONTS, available, text_mask

KINDS = ("car", "suv", "van", "truck", "bus")
#: kind -> (probability, width mm, height mm)
KIND_SPECS: dict[str, tuple[float, int, int]] = {
    "car": (0.45, 1820, 1450),
    "suv": (0.22, 1900, 1720),
    "van": (0.13, 1960, 1980),
    "truck": (0.12, 2200, 2600),
    "bus": (0.08, 2490, 3200),
}

BRANDS = ("HYUNDAI", "KIA", "GENESIS", "SsangYong", "RENAULT", "CHEVROLET", "BMW", "TOYOTA", "VOLVO",
          "현대", "기아", "쌍용")  # fmt: skip
MODELS = ("SONATA", "AVANTE", "GRANDEUR", "K5", "K8", "SORENTO", "TUCSON", "Santa Fe", "CARNIVAL",
          "STARIA", "PORTER II", "BONGO III", "HYBRID", "4WD", "그랜저", "쏘나타", "아반떼", "카니발",
          "포터", "e-tron", "GV80", "1.6 TURBO")  # fmt: skip
STICKERS = ("초보운전", "아기가 타고 있어요", "BABY IN CAR", "정기주차", "입주민 2024-0153", "방문차량",
            "장애인", "경차", "택배", "CJ대한통운", "로젠택배", "010-1234-5678", "1588-1255", "OO렌터카",
            "No. 4528", "A-1234", "B2 0153", "주차허가 0427", "안전운전", "LPG")  # fmt: skip
BUS_SIGNS = ("150 서울역", "7016 광화문", "N26 강서", "9401 분당", "602 시청", "마을 07", "공항버스 6001",
             "간선 472", "지선 6514", "회송")  # fmt: skip
CARGO = ("OO물류", "대한통운", "냉동탑차", "이사전문 1588-2424", "한진택배", "SAMSUNG", "생수 배달",
         "KOREA EXPRESS", "화물 02-333-4444")  # fmt: skip

Colour = tuple[float, float, float]


@dataclass
class VehicleInfo:
    """Where a drawn vehicle put things, in frame pixels."""

    plate_centre: tuple[int, int]
    px_per_mm: float
    kind: str
    view: str  # "front" or "rear"
    body: tuple[int, int, int, int]  # x1, y1, x2, y2
    lamps: list[tuple[int, int, int]] = field(default_factory=list)  # x, y, radius: light sources


def _c(v: np.ndarray | tuple[float, ...]) -> Colour:
    return (float(v[0]), float(v[1]), float(v[2]))


def paste_text(
    img: np.ndarray,
    rng: np.random.Generator,
    text: str,
    x: int,
    y: int,
    height: int,
    colour: Colour,
    max_w: int | None = None,
) -> None:
    """Alpha-blend ``text`` (a random installed Hangul or Latin font) with its top-left at (x, y)."""
    if height < 4:
        return
    fonts = available(HANGUL_FONTS) + available(LATIN_FONTS)
    m = text_mask(fonts[int(rng.integers(len(fonts)))], text, height)
    if max_w is not None and m.shape[1] > max_w > 4:
        m = cv2.resize(m, (max_w, max(2, int(m.shape[0] * max_w / m.shape[1]))), interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + m.shape[1], w), min(y + m.shape[0], h)
    if x1 <= x0 or y1 <= y0:
        return
    mm = m[y0 - y : y1 - y, x0 - x : x1 - x, None]
    sub = img[y0:y1, x0:x1]
    sub[:] = sub * (1 - mm) + np.asarray(colour, np.float32) * mm


class _Body:
    """Millimetre layout helper: x from the centre line, y above the ground."""

    def __init__(self, img: np.ndarray, cx: int, bottom: int, s: float) -> None:
        self.img, self.cx, self.bottom, self.s = img, cx, bottom, s

    def pt(self, x: float, y: float) -> tuple[int, int]:
        return round(self.cx + x * self.s), round(self.bottom - y * self.s)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour, thick: int = -1) -> None:
        cv2.rectangle(self.img, self.pt(x0, y1), self.pt(x1, y0), colour, thick)

    def poly(self, pts: list[tuple[float, float]], colour: Colour) -> None:
        cv2.fillPoly(self.img, [np.array([self.pt(x, y) for x, y in pts], np.int32)], colour, cv2.LINE_AA)

    def ellipse(self, x: float, y: float, rx: float, ry: float, colour: Colour) -> None:
        r = (max(1, int(rx * self.s)), max(1, int(ry * self.s)))
        cv2.ellipse(self.img, self.pt(x, y), r, 0, 0, 360, colour, -1, cv2.LINE_AA)

    def text(self, rng: np.random.Generator, s: str, x: float, y: float, h_mm: float, colour: Colour) -> None:
        """Text centred at (x, y) mm, ``h_mm`` high."""
        hp = int(h_mm * self.s)
        if hp < 4:
            return
        px, py = self.pt(x, y)
        approx_w = int(hp * 0.6 * len(s))
        paste_text(self.img, rng, s, px - approx_w // 2, py - hp // 2, hp, colour, max_w=int(1500 * self.s))


def _grille(b: _Body, rng: np.random.Generator, x0: float, y0: float, x1: float, y1: float) -> None:
    dark = _c(rng.uniform(10, 45, 3))
    b.rect(x0, y0, x1, y1, dark)
    style = rng.integers(4)
    bar = _c(rng.uniform(90, 220, 3)) if rng.random() < 0.6 else _c(rng.uniform(30, 70, 3))
    if style == 0:  # horizontal bars
        n = int(rng.integers(3, 9))
        for k in range(n):
            yy = y0 + (y1 - y0) * (k + 0.5) / n
            b.rect(x0, yy - 8, x1, yy + 8, bar)
    elif style == 1:  # vertical slats (a Jeep-like or bus grille)
        n = int(rng.integers(5, 14))
        for k in range(n):
            xx = x0 + (x1 - x0) * (k + 0.5) / n
            b.rect(xx - 10, y0, xx + 10, y1, bar)
    elif style == 2:  # mesh
        step = rng.uniform(25, 60)
        for xx in np.arange(x0, x1, step):
            b.rect(xx, y0, xx + 6, y1, bar)
        for yy in np.arange(y0, y1, step):
            b.rect(x0, yy, x1, yy + 6, bar)
    b.rect(x0, y0, x1, y1, _c(np.array(bar) * 0.8), max(1, int(15 * b.s)))


def _lamps(
    b: _Body,
    rng: np.random.Generator,
    xo: float,
    y: float,
    rx: float,
    ry: float,
    rear: bool,
    info: VehicleInfo,
) -> None:
    lens = (40.0, 40.0, 200.0) if rear else (225.0, 232.0, 240.0)  # BGR: red tail lamps, white heads
    housing = _c(rng.uniform(20, 70, 3))
    for side in (-1, 1):
        x = side * xo
        if rng.random() < 0.5:
            b.ellipse(x, y, rx, ry, housing)
            b.ellipse(x, y, rx * 0.7, ry * 0.6, lens)
        else:
            b.poly(
                [(x - rx, y + ry), (x + rx, y + ry * 0.6), (x + rx, y - ry), (x - rx, y - ry * 0.5)], housing
            )
            b.rect(x - rx * 0.8, y - ry * 0.3, x + rx * 0.8, y + ry * 0.4, lens)
        if rng.random() < 0.5:  # LED strip
            b.rect(x - rx, y + ry * 0.8, x + rx, y + ry * 0.8 + 18, lens)
        px, py = b.pt(x, y)
        info.lamps.append((px, py, max(2, int(rx * b.s))))


def draw_vehicle(
    img: np.ndarray,
    rng: np.random.Generator,
    cx: int,
    bottom: int,
    width: int,
    kind: str | None = None,
    view: str | None = None,
) -> VehicleInfo:
    """Draw one vehicle ``width`` px wide standing on ``bottom``; returns where its plate goes."""
    if kind is None:
        p = np.array([KIND_SPECS[k][0] for k in KINDS])
        kind = str(rng.choice(KINDS, p=p / p.sum()))
    view = view or ("front" if rng.random() < 0.55 else "rear")
    _, w_mm, h_mm = KIND_SPECS[kind]
    h_mm = int(h_mm * rng.uniform(0.93, 1.07))
    s = width / w_mm
    b = _Body(img, cx, bottom, s)
    paint = _c(_CAR_PAINT[rng.integers(len(_CAR_PAINT))][::-1] * rng.uniform(0.75, 1.08))
    if kind in ("truck", "bus") and rng.random() < 0.5:
        paint = _c(rng.uniform(30, 230, 3))
    dark = _c(np.array(paint) * 0.55)
    half = w_mm / 2
    info = VehicleInfo((cx, bottom), s, kind, view, (*b.pt(-half, h_mm), *b.pt(half, 0)))
    rear = view == "rear"
    # tyres, then the body
    for side in (-1, 1):
        b.rect(side * (half - 260) - 110, 0, side * (half - 260) + 110, 420, (18.0, 18.0, 20.0))
    shade = np.linspace(1.08, 0.82, 8)
    body_top = h_mm * (0.55 if kind in ("car", "suv") else 0.97)
    for k in range(8):  # a vertical gradient in bands: cheaper than per-pixel shading
        y0 = 150 + (body_top - 150) * k / 8
        y1 = 150 + (body_top - 150) * (k + 1) / 8
        b.rect(-half, y0, half, y1 + 2, _c(np.array(paint) * shade[7 - k]))
    if kind in ("car", "suv"):  # bonnet/boot band and cabin
        b.poly(
            [(-half, body_top), (half, body_top), (half * 0.8, h_mm * 0.66), (-half * 0.8, h_mm * 0.66)],
            paint,
        )
        b.poly(
            [
                (-half * 0.8, h_mm * 0.66),
                (half * 0.8, h_mm * 0.66),
                (half * 0.62, h_mm),
                (-half * 0.62, h_mm),
            ],
            dark,
        )
        glass_lo, glass_hi, glass_w = h_mm * 0.68, h_mm * 0.96, (half * 0.76, half * 0.6)
    elif kind == "van":
        glass_lo, glass_hi, glass_w = h_mm * 0.55, h_mm * 0.92, (half * 0.9, half * 0.82)
    elif kind == "truck":
        glass_lo, glass_hi, glass_w = h_mm * 0.55, h_mm * 0.9, (half * 0.9, half * 0.88)
    else:  # bus
        glass_lo, glass_hi, glass_w = h_mm * 0.28, h_mm * 0.82, (half * 0.94, half * 0.94)
    glass = _c(rng.uniform(15, 60, 3))
    if not (rear and kind == "truck"):  # a truck's rear is its cargo box
        b.poly(
            [
                (-glass_w[0], glass_lo),
                (glass_w[0], glass_lo),
                (glass_w[1], glass_hi),
                (-glass_w[1], glass_hi),
            ],
            glass,
        )
        if rng.random() < 0.6:  # sky reflection across the glass
            b.poly(
                [
                    (-glass_w[0] * 0.2, glass_lo),
                    (glass_w[0] * 0.3, glass_lo),
                    (0, glass_hi),
                    (-glass_w[1] * 0.5, glass_hi),
                ],
                _c(np.array(glass) + rng.uniform(25, 70)),
            )
    # lamps, grille, bumper; plate height above ground
    bumper_y = 380 + rng.uniform(-40, 60)
    if kind in ("car", "suv"):
        lamp_y, lamp_x = body_top - rng.uniform(120, 220), half - rng.uniform(180, 300)
        _lamps(b, rng, lamp_x, lamp_y, rng.uniform(140, 240), rng.uniform(45, 90), rear, info)
        plate_y = bumper_y + 170 if not rear else lamp_y - rng.uniform(150, 280)
        if not rear:
            gy1 = lamp_y + 60
            _grille(b, rng, -rng.uniform(300, 560), plate_y + 150, rng.uniform(300, 560), gy1)
            if rng.random() < 0.6:  # a wide lower intake under the plate
                _grille(b, rng, -rng.uniform(400, 700), bumper_y - 200, rng.uniform(400, 700), bumper_y - 60)
            b.ellipse(0, (plate_y + 150 + gy1) / 2, 70, 45, (200.0, 200.0, 205.0))  # badge
        else:
            b.ellipse(0, lamp_y + 60, 60, 38, (200.0, 200.0, 205.0))
            if rng.random() < 0.8:  # model name / trim on the boot lid
                b.text(
                    rng,
                    str(rng.choice(MODELS)),
                    rng.uniform(-600, 600),
                    lamp_y - 20,
                    rng.uniform(35, 60),
                    (200.0, 200.0, 205.0),
                )
        if rng.random() < 0.7:
            b.text(
                rng,
                str(rng.choice(BRANDS)),
                rng.uniform(-500, 500),
                lamp_y + rng.uniform(-60, 80),
                rng.uniform(30, 55),
                (205.0, 205.0, 210.0),
            )
    elif kind == "van":
        lamp_y, lamp_x = h_mm * 0.42, half - rng.uniform(150, 250)
        _lamps(b, rng, lamp_x, lamp_y, rng.uniform(130, 200), rng.uniform(60, 110), rear, info)
        plate_y = bumper_y + 200 if not rear else h_mm * 0.3
        if not rear:
            _grille(b, rng, -rng.uniform(350, 600), lamp_y - 120, rng.uniform(350, 600), lamp_y + 80)
    elif kind == "truck":
        lamp_y, lamp_x = rng.uniform(550, 750), half - rng.uniform(150, 250)
        plate_y = rng.uniform(430, 600)
        if rear:  # cargo box with the company's name, lamps low in the bumper bar
            box_c = _c(rng.uniform(150, 245, 3))
            b.rect(-half, 900, half, h_mm, box_c)
            b.rect(-6, 900, 6, h_mm, _c(np.array(box_c) * 0.6))
            b.text(
                rng,
                str(rng.choice(CARGO)),
                rng.uniform(-300, 300),
                rng.uniform(1500, 2200),
                rng.uniform(120, 260),
                _c(rng.uniform(0, 120, 3)),
            )
            b.rect(-half, 300, half, 420, (40.0, 40.0, 45.0))
            lamp_y = 360
        else:
            _grille(b, rng, -half * 0.7, 800, half * 0.7, 1300)
            b.text(
                rng, str(rng.choice(BRANDS + MODELS)), 0, 1380, rng.uniform(60, 110), (210.0, 210.0, 215.0)
            )
        _lamps(b, rng, lamp_x, lamp_y, rng.uniform(110, 180), rng.uniform(50, 80), rear, info)
    else:  # bus: destination sign above the windscreen
        lamp_y, lamp_x = rng.uniform(500, 750), half - rng.uniform(200, 300)
        plate_y = rng.uniform(450, 650)
        _lamps(b, rng, lamp_x, lamp_y, rng.uniform(150, 220), rng.uniform(60, 100), rear, info)
        sign = (8.0, 8.0, 8.0)
        b.rect(-half * 0.85, h_mm * 0.85, half * 0.85, h_mm * 0.96, sign)
        led = (20.0, 140.0, 255.0) if rng.random() < 0.6 else (60.0, 230.0, 90.0)
        b.text(rng, str(rng.choice(BUS_SIGNS)), 0, h_mm * 0.905, h_mm * 0.08, led)
        if not rear:
            _grille(b, rng, -half * 0.6, lamp_y - 150, half * 0.6, lamp_y + 100)
    # bumper bar
    b.rect(-half - 10, bumper_y - 90, half + 10, bumper_y + 90, _c(np.array(paint) * rng.uniform(0.5, 0.9)))
    if rng.random() < 0.35:  # a sticker somewhere on the body or the glass
        sx = rng.uniform(-half * 0.7, half * 0.7)
        sy = (
            rng.uniform(glass_lo, glass_hi)
            if rng.random() < 0.5
            else rng.uniform(bumper_y + 100, max(lamp_y, bumper_y + 101))
        )
        sh = rng.uniform(40, 90)
        bg = _c(rng.uniform(150, 255, 3))
        b.rect(sx - sh * 3.5, sy - sh * 0.8, sx + sh * 3.5, sy + sh * 0.8, bg)
        b.text(rng, str(rng.choice(STICKERS)), sx, sy, sh, _c(rng.uniform(0, 90, 3)))
    plate_x = rng.uniform(-30, 30) if rng.random() < 0.8 else rng.uniform(-half * 0.4, half * 0.4)
    info.plate_centre = b.pt(plate_x, plate_y)
    if rng.random() < 0.5:  # the plate's recess or mounting panel, often darker than the paint
        rw, rh = rng.uniform(300, 360), rng.uniform(80, 130)
        b.rect(
            plate_x - rw,
            plate_y - rh,
            plate_x + rw,
            plate_y + rh,
            _c(np.array(paint) * rng.uniform(0.3, 0.8)),
        )
    return info
