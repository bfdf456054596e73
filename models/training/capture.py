"""How a gate camera sees a plate: surroundings, frame, perspective, light, optics, sensor, the camera's
own processing (wide dynamic range, interlacing, edge enhancement) and codec.

`capture` takes a flat plate texture and returns a camera-like image with the plate's quadrilateral in
it. Each degradation is drawn independently with the probability real gate footage suggests; the ranges
are deliberately wider than typical so the reader is never surprised by the tails (night IR, heavy
JPEG, motion blur of a car still rolling, 15 px characters).
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.areas import MAIN_TEXT_SHARE, plate_height
from models.training.glyphs import HANGUL_FONTS, LATIN_FONTS, available, text_mask
from models.training.video_codec import draw_h264

_DEALER_TEXT = ("현대자동차", "기아", "OO모터스", "서울 강남지점", "02-555-1234", "1588-0000",
                "AUTO", "HYUNDAI", "KIA", "BMW", "GENESIS", "쌍용", "르노")  # fmt: skip


# white, black, silver, grey, dark blue, red, beige: most cars at a gate (RGB)
_CAR_PAINT = np.array([[235, 235, 232], [20, 20, 22], [175, 178, 182], [95, 98, 102], [30, 45, 80],
                       [150, 25, 30], [200, 190, 165]], np.float32)  # fmt: skip


def _noise_field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    small = rng.random((max(2, cells * h // max(w, 1)), cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def weather_plate(plate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dirt, faded paint and scratches on the plate itself (before it is mounted and filmed)."""
    img = plate.astype(np.float32)
    h, w = img.shape[:2]
    if rng.random() < 0.3:  # sun-faded: everything drifts towards the mean colour
        img = img * (1 - (a := rng.uniform(0.1, 0.4))) + img.mean(axis=(0, 1)) * a
    if rng.random() < 0.45:  # dirt: low-frequency brown-grey darkening
        field = _noise_field(rng, h, w, int(rng.integers(4, 12)))[..., None]
        img *= 1 - rng.uniform(0.1, 0.5) * np.clip(field - 0.4, 0, 1)
    if rng.random() < 0.15:
        for _ in range(int(rng.integers(1, 6))):
            p0 = (int(rng.integers(w)), int(rng.integers(h)))
            p1 = (p0[0] + int(rng.integers(-w // 4, w // 4)), p0[1] + int(rng.integers(-h // 4, h // 4)))
            cv2.line(img, p0, p1, tuple(float(v) for v in rng.uniform(80, 230, 3)), 1, cv2.LINE_AA)
    return np.clip(img, 0, 255).astype(np.uint8)


def _surroundings(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A bumper/grille-like background with clutter and unrelated text."""
    base = (
        _CAR_PAINT[rng.integers(len(_CAR_PAINT))] * rng.uniform(0.7, 1.1)
        if rng.random() < 0.8
        else rng.uniform(10, 240, 3)
    )
    grad = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.2), h, dtype=np.float32)[:, None, None]
    img = np.ones((h, w, 3), np.float32) * base * grad
    for _ in range(int(rng.integers(0, 6))):  # grille bars, bumper edges, lamp blocks
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            y = int(rng.integers(h))
            cv2.rectangle(img, (0, y), (w, y + int(rng.integers(2, max(3, h // 8)))), colour, -1)
        else:
            x, y = int(rng.integers(w)), int(rng.integers(h))
            cv2.rectangle(
                img,
                (x, y),
                (x + int(rng.integers(5, w // 3 + 6)), y + int(rng.integers(5, h // 3 + 6))),
                colour,
                -1,
            )
    if rng.random() < 0.5:  # stickers and badges with text that is not a plate
        fonts = available(HANGUL_FONTS) + available(LATIN_FONTS)
        for _ in range(int(rng.integers(1, 3))):
            m = text_mask(
                fonts[rng.integers(len(fonts))],
                str(rng.choice(_DEALER_TEXT)),
                int(rng.integers(8, max(9, h // 6))),
            )
            x, y = int(rng.integers(0, max(1, w - m.shape[1]))), int(rng.integers(0, max(1, h - m.shape[0])))
            sub = img[y : y + m.shape[0], x : x + m.shape[1]]
            mm = m[: sub.shape[0], : sub.shape[1], None]
            sub[:] = sub * (1 - mm) + rng.uniform(0, 255, 3) * mm
    return img


def _frame(img: np.ndarray, rng: np.random.Generator, x0: int, y0: int, pw: int, ph: int) -> None:
    """A plastic or chrome plate holder, usually with the dealer's name on its lower bar."""
    t = max(2, int(ph * rng.uniform(0.04, 0.1)))
    bottom = max(t, int(ph * rng.uniform(0.1, 0.3)))
    colour = tuple(
        float(v) for v in (rng.uniform(10, 60, 3) if rng.random() < 0.7 else rng.uniform(150, 220, 3))
    )
    cv2.rectangle(img, (x0 - t, y0 - t), (x0 + pw + t, y0 + ph + bottom), colour, -1)
    if rng.random() < 0.7:
        fonts = available(HANGUL_FONTS) + available(LATIN_FONTS)
        m = text_mask(
            fonts[rng.integers(len(fonts))], str(rng.choice(_DEALER_TEXT)), max(6, int(bottom * 0.6))
        )
        if m.shape[1] > pw:
            m = cv2.resize(m, (pw, max(1, int(m.shape[0] * pw / m.shape[1]))))
        x = x0 + (pw - m.shape[1]) // 2
        y = y0 + ph + (bottom - m.shape[0]) // 2
        sub = img[y : y + m.shape[0], x : x + m.shape[1]]
        mm = m[: sub.shape[0], : sub.shape[1], None]
        sub[:] = sub * (1 - mm) + np.array([225.0, 225.0, 225.0]) * mm


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return k / max(k.sum(), 1e-6)


def sample_char_height(rng: np.random.Generator) -> float:
    """Character height in the final image (two-line: the large bottom line).

    Log-uniform 15..64 px, and 64..120 px one time in ten: above ~60 px a line is down-scaled to the
    reader's 48 px anyway, so large plates cost synthesis time without teaching much more.
    """
    hi = 120 if rng.random() < 0.1 else 64
    return float(np.exp(rng.uniform(np.log(15), np.log(hi))))


def render_scale(char_h: float, two_line: bool, plate_h_mm: float) -> float:
    """Pixels per mm to render the flat plate at: ~1.4x supersampled relative to the final size."""
    th = char_h / MAIN_TEXT_SHARE[two_line]
    return float(np.clip(1.4 * th / plate_h_mm, 0.35, 2.0))


#: A gate camera's pose relative to the plate. The camera hangs beside and above the lane, 2..8 m
#: from where it reads (3..15 plate widths): yaw mostly within +-30 degrees, looking down 0..30 degrees
#: (a few degrees up on low posts), rolled by a few degrees (camera mount, road camber, plate holder).
YAW_SIGMA_DEG, YAW_MAX_DEG = 16.0, 45.0
PITCH_DEG = (-5.0, 30.0)
ROLL_SIGMA_DEG = 3.0
DISTANCE_PLATE_WIDTHS = (3.0, 15.0)


def camera_view(rng: np.random.Generator, aspect: float) -> np.ndarray:
    """The plate's corners (TL, TR, BR, BL) as a pinhole camera at a gate images them, in units of the
    imaged plate's mean edge height (so the caller scales by the height it wants), top-left at 0.

    A physical pose rather than independent corner jitter: a planar plate seen from a camera a few
    metres away tapers little (the near edge is at most ~1.25x the far one at 3 plate widths and
    45 degrees of yaw), while yaw combined with pitch shears it (its horizontal edges slant, its
    verticals stay upright), which is what side-mounted gate cameras actually film. Independent
    corner noise made 7.5 % of plates taper beyond 1.5, a camera 1 m away, and few shear.
    """
    yaw = np.deg2rad(np.clip(rng.normal(0, YAW_SIGMA_DEG), -YAW_MAX_DEG, YAW_MAX_DEG))
    pitch = np.deg2rad(rng.uniform(*PITCH_DEG))
    roll = np.deg2rad(rng.normal(0, ROLL_SIGMA_DEG))
    dist = aspect * float(np.exp(rng.uniform(*np.log(DISTANCE_PLATE_WIDTHS))))
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])  # pitch > 0: the top edge nearer
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    half = aspect / 2
    plate = np.array([[-half, -0.5, 0], [half, -0.5, 0], [half, 0.5, 0], [-half, 0.5, 0]])
    cam = plate @ (r_roll @ r_pitch @ r_yaw).T + np.array([0.0, 0.0, dist])
    img = cam[:, :2] / cam[:, 2:]
    img = img / plate_height(img)
    return (img - img.min(axis=0)).astype(np.float32)


def capture(
    plate: np.ndarray, rng: np.random.Generator, two_line: bool, char_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Film a plate texture (uint8 RGB). Returns (image BGR uint8, plate quad (4, 2) float32)."""
    scene, quad = mount(plate, rng, two_line, char_h)
    return degrade(scene, rng, quad, char_h), quad


#: The filmed window's margin around the plate on each side, in plate sizes (drawn uniformly per side):
#: from a detector-like box to a person's loose crop. `mount` takes a wider range for locator data.
WINDOW_MARGIN = (0.08, 0.6)
#: ... and of a loose crop: up to 2.5 plate sizes of car on each side (the plate a sixth of the crop's
#: width), where people's crops with half the car in them end. Locator training and `testset --loose`.
LOOSE_WINDOW = (0.6, 2.5)


def mount(
    plate: np.ndarray,
    rng: np.random.Generator,
    two_line: bool,
    char_h: float,
    window: tuple[float, float] = WINDOW_MARGIN,
) -> tuple[np.ndarray, np.ndarray]:
    """The geometric half of `capture`: the weathered plate on a car, seen in perspective, before light,
    optics, sensor and codec. Returns (image RGB float32, plate quad). `degrade` does the rest; the two
    are split so the synthesizer can compare a sample before and after degradation (`legibility`).
    ``window``: the range of the margin kept around the plate (`WINDOW_MARGIN`); a wider one films more
    of the car, and the scene grows to match."""
    plate = weather_plate(plate, rng)
    ph, pw = plate.shape[:2]
    room = max(1.0, window[1] / WINDOW_MARGIN[1])  # 1.0 for the default: the same draws, the same scene
    mx, my = int(pw * rng.uniform(0.3, 0.8) * room), int(ph * rng.uniform(0.6, 1.4) * room)
    scene = _surroundings(rng, ph + 2 * my, pw + 2 * mx)
    if rng.random() < 0.55:
        _frame(scene, rng, mx, my, pw, ph)
    scene[my : my + ph, mx : mx + pw] = plate
    src = np.array([[mx, my], [mx + pw, my], [mx + pw, my + ph], [mx, my + ph]], np.float32)

    # target size: character height 15..120 px (two-line plates: the large bottom line)
    th = char_h / MAIN_TEXT_SHARE[two_line]
    tw = th * pw / ph
    dst = camera_view(rng, pw / ph) * th
    # plates are not perfectly flat or square in their holders: a little residual corner noise
    dst += rng.normal(0, 0.015 * th, (4, 2)).astype(np.float32)
    hom = cv2.getPerspectiveTransform(src, dst)
    corners = cv2.perspectiveTransform(
        np.array(
            [[[0, 0], [scene.shape[1], 0], [scene.shape[1], scene.shape[0]], [0, scene.shape[0]]]], np.float32
        ),
        hom,
    )[0]
    quad = cv2.perspectiveTransform(src[None], hom)[0]
    # keep a window around the plate, not the whole scene
    margin = np.array([tw, th]) * rng.uniform(window[0], window[1], (2, 2))
    lo, hi = plate_window(quad, corners, margin[0], margin[1])
    shift = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]], np.float64)
    out_w, out_h = int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1
    img = cv2.warpPerspective(
        scene, shift @ hom, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
    )
    quad = quad - lo.astype(np.float32)
    return img.astype(np.float32), quad.astype(np.float32)


def plate_window(
    quad: np.ndarray, scene_corners: np.ndarray, before: np.ndarray, after: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (lo, hi) corners of the filmed window: the plate's box grown by ``before`` / ``after`` (x, y).

    The scene's projected corners bound the window, except under strong perspective, where a corner
    crosses the horizon and lands on the wrong side: the plate itself always stays inside the window.
    """
    lo = np.maximum(quad.min(axis=0) - before, scene_corners.min(axis=0))
    hi = np.minimum(quad.max(axis=0) + after, scene_corners.max(axis=0))
    return np.minimum(lo, quad.min(axis=0)), np.maximum(hi, quad.max(axis=0))


def camera_sharpen(img: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """In-camera edge enhancement (unsharp mask in sensor pixels): a dark rim outside bright strokes
    and a bright one inside, noise grown with the edges. Most CCTV ships with it on; a reader that has
    only seen soft edges takes the halos for strokes. Float in, float out, unclipped."""
    return img + amount * (img - cv2.GaussianBlur(img, (0, 0), sigma))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (BGR uint8) through JPEG at ``quality`` and back (OpenCV's encoder, 4:2:0 as cameras
    send it): the codec round of the plates, the gate scenes and the codec probes."""
    _ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def wide_dynamic_range(img: np.ndarray, sigma: float, strength: float) -> np.ndarray:
    """A gate camera's WDR / local tone mapping, as when the exit faces the sun: large-scale brightness
    pulled towards the mean (a plate in shadow lifted, sky pressed down), leaving flat tones and halos
    around the plate's edges. Float in, float out, unclipped."""
    base = cv2.GaussianBlur(img, (0, 0), sigma)
    return img + strength * (float(base.mean()) - base)


def interlace(img: np.ndarray, shift: int, bob: bool) -> np.ndarray:
    """An interlaced frame. ``bob``: only the even field, lines doubled (half the vertical resolution,
    what cheap deinterlacing keeps); otherwise the odd field moved ``shift`` px sideways by the car's
    motion between fields (combing), edges replicated."""
    h, w = img.shape[:2]
    if bob:
        even = np.ascontiguousarray(img[0::2])
        return cv2.resize(even, (w, h), interpolation=cv2.INTER_LINEAR)
    out = img.copy()
    m = np.float32([[1, 0, shift], [0, 1, 0]])
    out[1::2] = cv2.warpAffine(
        np.ascontiguousarray(img[1::2]), m, (w, h // 2), borderMode=cv2.BORDER_REPLICATE
    )
    return out


def degrade(
    img: np.ndarray, rng: np.random.Generator, quad: np.ndarray, char_h: float, video: float = 0.0
) -> np.ndarray:
    """The photometric half of `capture`: RGB float image in, camera-like BGR uint8 out.

    ``video``: the share of images whose codec is H.264 (`video_codec.draw_h264`) instead of JPEG. At 0
    nothing more is drawn from ``rng``, so the seeded sets draw what they always drew."""
    img = img.astype(np.float32)  # a copy: the caller keeps the clean image to score legibility
    h, w = img.shape[:2]
    if rng.random() < 0.15:  # night, IR illuminator: grey, retroreflective plate bright, rest dark
        g = img.mean(axis=2)
        mask = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(mask, quad.astype(np.int32), 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, char_h * 0.1))
        g = g * (0.25 + mask * rng.uniform(0.9, 1.6))
        g = g * rng.uniform(0.5, 1.0) + rng.uniform(0, 60)  # low contrast, lifted blacks
        bloom = cv2.GaussianBlur(np.clip(g - 200, 0, None), (0, 0), max(1.0, char_h * 0.3))
        img = np.repeat((g + bloom * rng.uniform(0.5, 2))[..., None], 3, axis=2)
    else:
        img = img * rng.uniform(0.5, 1.25) + rng.uniform(-35, 30)
        img = img * (1 + rng.uniform(-0.08, 0.08, 3))  # white balance
        if rng.random() < 0.3:  # shadow across the plate
            ramp = np.clip(np.linspace(-1, 1, w) * rng.uniform(1, 8) + rng.uniform(-3, 3), 0, 1)
            img = img * (1 - rng.uniform(0.2, 0.7) * ramp[None, :, None])
        if rng.random() < 0.2:  # glare / flash hot spot
            yy, xx = np.mgrid[0:h, 0:w]
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = char_h * rng.uniform(0.4, 1.5)
            img = (
                img
                + rng.uniform(60, 200) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            )
    if rng.random() < 0.12:
        img = wide_dynamic_range(img, char_h * rng.uniform(1.5, 4.0), rng.uniform(0.3, 0.8))
    img = np.clip(img, 0, 255)
    gamma = rng.uniform(0.6, 1.5)
    img = 255.0 * (img / 255.0) ** gamma
    if rng.random() < 0.45:
        n = int(char_h * rng.uniform(0.05, 0.35)) | 1
        if n >= 3:
            img = cv2.filter2D(img, -1, _motion_kernel(n, rng.normal(0, 12)))
    if rng.random() < 0.45:
        img = cv2.GaussianBlur(img, (0, 0), char_h * rng.uniform(0.01, 0.07) + 0.3)
    if rng.random() < 0.1:  # rain streaks
        for _ in range(int(rng.integers(10, 60))):
            x, y = int(rng.integers(w)), int(rng.integers(h))
            cv2.line(
                img,
                (x, y),
                (x + int(rng.integers(-3, 4)), y + int(rng.integers(5, 25))),
                (200.0, 200.0, 200.0),
                1,
                cv2.LINE_AA,
            )
    if rng.random() < 0.35:  # sensor at lower resolution, upscaled by the camera or the crop
        f = rng.uniform(1.3, 3.0)
        small = cv2.resize(img, (max(8, int(w / f)), max(4, int(h / f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.06:  # an interlaced sensor: a car that moved between the fields, or one field
        img = interlace(img, round(float(rng.normal(0, char_h * 0.08))), bob=rng.random() < 0.5)
    img = img + rng.normal(0, rng.uniform(0, 10), img.shape).astype(np.float32)
    if rng.random() < 0.4:  # the camera's own edge enhancement, after the noise it amplifies
        img = camera_sharpen(img, rng.uniform(0.6, 1.6), rng.uniform(0.4, 1.8))
    out = np.clip(img, 0, 255).astype(np.uint8)
    out = cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
    if video > 0 and rng.random() < video:
        return draw_h264(out, rng, char_h)
    if rng.random() < 0.85:
        out = jpeg(out, int(rng.integers(15, 96)))
    return out
