"""Is a filmed text line still legible? How much of its stroke pattern survives the degradations.

The capture model draws exposure, glare, IR bloom, blur, noise and JPEG independently, so now and then
their product wipes a line out entirely: a white rectangle, a grey smear. A label on such a sample is
noise: it teaches the reader to guess, and in a test set it is an error no reader can avoid. Real gate
crops that bad exist, but the right output for them is a low-confidence read, not a trained guess.

The measure: cut the line with the product's area geometry from the image before and after the
photometric stage (same pixels, same geometry), band-pass both at stroke scale (which removes shading,
glare gradients and exposure offsets, things a reader copes with), and take their normalised
correlation. Blur, saturation, noise and heavy JPEG lower it; size alone does not (the 15 px floor of
the synthesizer is a separate, explicit choice). A first try, ink/background contrast (d') on an Otsu
split of the clean line, ranked badly: shading inflates the spread of legible lines and smears keep
their class means. The threshold comes from looking at lines sorted by score
(`python -m models.training.legibility sheet`): below ~0.3 nobody can read a line, 0.45 to 0.6 is
hard but mostly legible. A second, per-character measure (`glyph_legibility`) catches the line whose
one character is gone while the rest survive. About 4 % of draws fail and are redrawn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.areas import area_quad, roles_for, to_gray, warp_area
from edge.plate import HIDDEN

#: Plates with a line scoring below this are redrawn by the synthesizer (see the module docstring).
MIN_LEGIBILITY = 0.45
#: ... or with a character-wide window scoring below this (`glyph_legibility`). Lower than the line's
#: bar because a window has few pixels and the least of ~25 noisy scores sits below their mean; from a
#: sheet of 93 gated lines sorted by it: below 0.3, 36 of 38 were unreadable to a person.
MIN_GLYPH_LEGIBILITY = 0.30


def _band(img: np.ndarray) -> np.ndarray:
    """Stroke-scale detail of a reader-sized line: shading, glare and exposure (slow) removed."""
    f = img.astype(np.float32)
    return cv2.GaussianBlur(f, (0, 0), 0.8) - cv2.GaussianBlur(f, (0, 0), 4.0)


def line_legibility(clean: np.ndarray, degraded: np.ndarray) -> float:
    """How much of the clean line's stroke-scale pattern survives in the degraded one: the normalised
    correlation of their band-passed images (1: all of it, 0: none). Both gray, reader-sized."""
    return line_legibility_band(_band(clean), _band(degraded))


def line_legibility_band(band_clean: np.ndarray, band_degraded: np.ndarray) -> float:
    """`line_legibility` of two already band-passed images (or windows of them)."""
    a, b = band_clean.ravel(), band_degraded.ravel()
    a, b = a - a.mean(), b - b.mean()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-3 or nb < 1e-3:
        return 0.0  # a flat line (blank, or saturated) has nothing to read
    return max(0.0, float(a @ b) / (na * nb))


#: Width and stride (reader pixels) of the windows `glyph_legibility` scores (about one character),
#: and the columns at each end of the line it skips: the plate's border and whatever is beyond it.
GLYPH_WINDOW, GLYPH_STRIDE, GLYPH_SKIP = 14, 4, 6


def glyph_legibility(clean: np.ndarray, degraded: np.ndarray) -> float:
    """The least legible character-wide window of a line: `line_legibility` per window, over the
    windows that carry ink in the clean line (a blank stretch between groups has nothing to lose).

    A whole-line score averages a washed-out character with seven crisp ones; under IR bloom or a
    glare spot the thin Hangul strokes vanish while the digits survive, and the line still scores
    well. Its label is then a guess the reader is taught to make.
    """
    return glyph_legibility_band(_band(clean), _band(degraded))


def glyph_legibility_band(band_clean: np.ndarray, band_degraded: np.ndarray) -> float:
    """`glyph_legibility` of two already band-passed lines."""
    starts = range(GLYPH_SKIP, band_clean.shape[1] - GLYPH_SKIP - GLYPH_WINDOW + 1, GLYPH_STRIDE)
    energy = np.array([band_clean[:, x : x + GLYPH_WINDOW].std() for x in starts])
    if energy.max() < 1e-3:
        return 0.0
    inked = 0.6 * float(np.median(energy))
    return min(
        line_legibility_band(band_clean[:, x : x + GLYPH_WINDOW], band_degraded[:, x : x + GLYPH_WINDOW])
        for x, e in zip(starts, energy, strict=True)
        if e >= inked
    )


def plate_legibility(
    clean_rgb: np.ndarray, degraded_bgr: np.ndarray, quad: np.ndarray, two_line: bool
) -> float:
    """The least legible line of a filmed plate, each line cut with the product's own area geometry.

    A line's score is its `line_legibility`, or its worst character window's `glyph_legibility`
    lifted by the difference of the two bars, whichever is lower: one number, one threshold
    (`MIN_LEGIBILITY`), and a line fails when either measure fails.
    """
    scores = []
    for a, b in _line_bands(clean_rgb, degraded_bgr, quad, two_line):  # once for both measures
        glyph = glyph_legibility_band(a, b) + (MIN_LEGIBILITY - MIN_GLYPH_LEGIBILITY)
        scores.append(min(line_legibility_band(a, b), glyph))
    return min(scores)


def _line_bands(
    clean_rgb: np.ndarray, degraded_bgr: np.ndarray, quad: np.ndarray, two_line: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each line of a filmed plate, top first, cut with the product's area geometry from the image
    before and after the photometric stage, and band-passed: (clean, degraded) per line."""
    clean = cv2.cvtColor(np.clip(clean_rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    degraded = to_gray(degraded_bgr)
    quads = [area_quad(quad, role) for role in roles_for(two_line)]
    return [(_band(warp_area(clean, q)), _band(warp_area(degraded, q))) for q in quads]


#: A line scoring below this is gone as a whole ("below ~0.3 nobody can read a line"): every character
#: of it is labelled hidden by `wiped_labels`, whatever its own window scores.
MIN_LINE_LEGIBILITY = 0.30


def wiped_labels(
    clean_rgb: np.ndarray,
    degraded_bgr: np.ndarray,
    quad: np.ndarray,
    lines: Sequence[str],
    boxes: Sequence[tuple[float, float]],
    plate_w: int,
) -> tuple[str, ...]:
    """``lines`` with `HIDDEN` for each character the capture wiped out: its own columns of its line
    (from its glyph box, ``boxes``: (x0, x1) in plate pixels, in text order) keep less than
    `MIN_GLYPH_LEGIBILITY` of their stroke pattern, or its whole line less than `MIN_LINE_LEGIBILITY`.

    A gated draw never holds such a character, so the reader never saw one and reads a glare blot
    over a digit as no digit at all, sure (314소6872 read 31소6872 at 1.000). Labelled hidden, it is
    taught the doubt the product already acts on (`edge.plate.doubt_hidden`). A character ``lines``
    already holds as `HIDDEN` (an occluder's) stays so.
    """
    out, at = [], 0
    bands = _line_bands(clean_rgb, degraded_bgr, quad, len(lines) == 2)
    for (a, b), line in zip(bands, lines, strict=True):
        whole = line_legibility_band(a, b)
        chars = []
        for i, ch in enumerate(line):
            x0, x1 = boxes[at + i]
            c0 = int(np.clip(np.floor(x0 / plate_w * a.shape[1]), 0, a.shape[1] - 1))
            c1 = int(np.clip(np.ceil(x1 / plate_w * a.shape[1]), c0 + 2, a.shape[1]))
            gone = whole < MIN_LINE_LEGIBILITY or line_legibility_band(a[:, c0:c1], b[:, c0:c1]) < (
                MIN_GLYPH_LEGIBILITY
            )
            chars.append(HIDDEN if gone else ch)
        out.append("".join(chars))
        at += len(line)
    return tuple(out)


def sheet(out: Path, seed: int, n: int = 400) -> Path:
    """Reader inputs (the last line of each plate) sorted by their plate's legibility score, labelled."""
    from models.training.dataset import film_scored  # here: dataset imports this module

    rng = np.random.default_rng(seed)
    rows: list[tuple[float, np.ndarray]] = []
    for _ in range(n):
        spec, image, quad, _h, score = film_scored(rng, min_legibility=0.0)
        line = warp_area(to_gray(image), area_quad(quad, roles_for(spec.two_line)[-1]))
        tile = cv2.cvtColor(cv2.resize(line, (256, 64)), cv2.COLOR_GRAY2BGR)
        cv2.putText(tile, f"{score:.2f}", (2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
        rows.append((score, tile))
    rows.sort(key=lambda r: r[0])
    tiles = [t for _s, t in rows][:64]
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % 4)
    grid = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), grid)
    scores = np.array([s for s, _ in rows])
    for t in (0.3, MIN_LEGIBILITY, 0.6):
        print(f"score < {t}: {np.mean(scores < t):.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.training.legibility", description=__doc__)
    ap.add_argument("what", choices=["sheet"])
    ap.add_argument("--out", type=Path, default=Path("build/legibility.png"))
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--n", type=int, default=400)
    a = ap.parse_args(argv)
    print(sheet(a.out, a.seed, a.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
