"""Re-reading an uncertain plate through slightly different framings, and keeping the surest read.

The reader sees each text area through the locator's quad, and the locator is a few percent off on a
hard crop: a line cut a little too tight, too low, too narrow. A read that comes out unsure is often
read right from a frame that is a little larger or a little shifted. So when a plate's raw joint
confidence is in ``[REREAD_FLOOR, below)``, or its read is no grammatical plate however sure (above the
floor), its areas are cut again through each of `REFRAMINGS` (one reader batch for all of them) and,
per area, the most confident grammatical read wins. A one-line plate read in the 2-digit form, sure or
not, also gets one look further left (`look_left`): a 3-digit plate cut short reads as a sure 2-digit one.

Measured on the seeded synthetic sets (reader v8, session 12): exact 0.9696 -> 0.9733 on the test set,
0.9677 -> 0.9723 on the calibration set (where the framings were chosen, greedily, from 14 candidates),
0.9653 -> 0.9700 on loose crops, re-reading about 7 % of plates; with reader v9 (session 14), whose
framings were not chosen again, 0.9711 -> 0.9724 on the test set and 0.9653 -> 0.9660 on loose crops.
Re-reading sure but ungrammatical reads too (session 15) fixed 4 of the 8 such misreads over the four
seeded sets (test 1, loose 2, calibration 1; none broken, as none can be: a grammatical read is
never re-read for it): v9 0.9724 -> 0.9727 test, 0.9660 -> 0.9673 loose, 0.9727 -> 0.9730 calibration.
Averaging the framings' probabilities before decoding, or voting, did worse than taking the surest read.

Trade-offs: a re-read plate costs one more reader batch of ``len(REFRAMINGS)`` times its areas (about
10 ms on one CPU core over the committed sample crops, `python -m benchmarks.reader`), paid only by the
uncertain minority. A re-read area reports
how well the framings agree on its text (`agreement`), never the winner's own confidence, and the
calibration is fitted with re-reading on (`models/training/calibrate.py` goes through
`Engine.read_plate`). Confident grammatical reads are never re-read, so they cannot be changed by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from edge.areas import AreaCut, Quad, cut_areas, unit_rect_to_image, unit_to_image
from edge.ocr import LineReader
from edge.plate import LineRead

#: Plates read at a raw joint confidence below this are re-read (0 turns re-reading off). Between 0.8
#: and 0.95 the measured gain was the same; the wider net is kept for real plates, whose confidences
#: run lower than synthetic ones.
REREAD_BELOW = 0.95

#: Plates below this are not re-read: they are rarely plates at all (the text detector's candidates
#: that are signs, bumpers, stickers) and re-reading them would multiply the reader's cost per frame
#: for nothing. Of the 60 plates re-reading fixed on the three synthetic sets, one started below it.
REREAD_FLOOR = 0.05


@dataclass(frozen=True)
class Reframing:
    """A change of the plate quad in the plate's own frame: scale about its centre, then shift.

    ``widen``/``heighten`` scale the width/height (1.0 keeps them); ``shift_v`` moves it down by that
    share of the plate's height, ``shift_u`` right by that share of its width.
    """

    widen: float = 1.0
    heighten: float = 1.0
    shift_u: float = 0.0
    shift_v: float = 0.0


#: The framings tried, in the order greedy selection on the calibration set picked them.
REFRAMINGS: tuple[Reframing, ...] = (
    Reframing(widen=1.03),
    Reframing(heighten=1.12),
    Reframing(heighten=0.94),
    Reframing(widen=1.06, heighten=1.06),
    Reframing(shift_v=0.03),
    Reframing(shift_v=-0.06),
)


def reframe(plate_quad: Quad, r: Reframing) -> Quad:
    """The plate quad moved by ``r``, perspective-correct: the change is made in the plate's unit square
    and mapped back through the plate's homography, so it follows the plate's tilt and foreshortening."""
    u0, v0 = 0.5 - r.widen / 2 + r.shift_u, 0.5 - r.heighten / 2 + r.shift_v
    return unit_rect_to_image(unit_to_image(plate_quad), u0, v0, u0 + r.widen, v0 + r.heighten)


def surest(candidates: Sequence[LineRead]) -> LineRead:
    """The read to keep of one area's candidates: the most confident grammatical one, or the most
    confident of all when none is grammatical. Ties go to the earliest (the original framing first)."""
    pool = [r for r in candidates if r.valid] or list(candidates)
    return max(pool, key=lambda r: r.confidence)


def agreement(kept: LineRead, candidates: Sequence[LineRead]) -> float:
    """How surely the framings read ``kept``: the mean over candidates of their joint confidence where
    they read the same text and 0 where they read another. This, not the winner's own confidence, is
    what a re-read area reports: the maximum over seven reads is optimistic (on the synthetic test set
    17 of the 98 re-read plates whose winner was >= 0.95 sure were wrong; none of the 9 whose agreement
    was), and an unsure plate should not come out of a re-read surer than the framings agree."""
    return float(np.mean([c.confidence if c.text == kept.text else 0.0 for c in candidates]))


def with_confidence(read: LineRead, confidence: float) -> LineRead:
    """``read`` with its per-character confidences scaled by one common factor so that their product
    (the read's joint confidence) is ``confidence``: the characters keep their relative certainty, which
    the multi-frame vote (`edge.fusion`) weighs them by, and the whole is no surer than ``confidence``."""
    if not read.char_conf or read.confidence <= 0.0:
        return read
    factor = (confidence / read.confidence) ** (1.0 / len(read.char_conf))
    return replace(read, char_conf=tuple(c * factor for c in read.char_conf))


def should_reread(raw_confidence: float, below: float, grammatical: bool = True) -> bool:
    """Whether a plate read at ``raw_confidence`` (product of its areas' joint confidences) is re-read.

    A read that is not a grammatical plate is re-read however sure the reader was of it (``below``
    above 0): it cannot be right, and a sure ungrammatical read is nearly always a quad that cut a
    character off at the plate's edge (164구582 for 164구5820), which the wider framings see whole."""
    if raw_confidence < REREAD_FLOOR or below <= 0.0:
        return False
    return raw_confidence < below or not grammatical


def reread(
    gray: np.ndarray,
    plate_quad: Quad,
    two_line: bool,
    first: Sequence[LineRead],
    reader: LineReader,
    framings: Sequence[Reframing] = REFRAMINGS,
) -> list[LineRead]:
    """Per area, the surest of ``first`` (the reads through ``plate_quad``) and the reads through each
    reframing, its confidence brought down to the framings' `agreement` (`with_confidence`). One
    reader call reads every reframed area. ``gray``: the image already converted (`to_gray`), so that
    the six cuts do not each convert a whole camera frame again."""
    n_areas = len(first)
    cuts: list[AreaCut] = []
    for r in framings:
        cuts.extend(cut_areas(gray, reframe(plate_quad, r), two_line))
    again = reader.read(cuts)
    kept = []
    for a in range(n_areas):
        candidates = [first[a], *again[a::n_areas]]
        best = surest(candidates)
        kept.append(with_confidence(best, agreement(best, candidates)))
    return kept


#: The framing of `look_left`: 12 % wider and 4 % to the left, so its left edge reaches a tenth of the
#: plate's width further out (one digit and a half) and its right edge hardly moves.
LEFT_LOOK = Reframing(widen=1.12, shift_u=-0.04)

_SHORT_FRONT = re.compile(r"\d{2}[가-힣]\d{4}")  # 12가3456: a 2-digit front, or a 3-digit one cut short


def look_left(gray: np.ndarray, plate_quad: Quad, read: LineRead, reader: LineReader) -> LineRead | None:
    """The read of a one-line plate whose first digit the quad cut off, or None.

    A quad that starts a little late on a 123가4567 plate (beside the EV mark, or on a tilted plate)
    leaves 23가4567, a grammatical plate read at 0.99 or more, so neither an unsure nor an ungrammatical
    read would catch it. A read of the 2-digit form is read once more through `LEFT_LOOK`; when that
    framing reads the same text with one more digit in front, that read is kept, no surer than the
    first. Measured on the test and calibration sets (reader v9): of 1,330 plates read in the 2-digit
    form, the 3 that had lost a digit (at 0.995-1.0) were all found, and none of the 1,307 read right
    was changed. Trade-off: one more reader call of one area (about 2 ms on one core) for every plate
    read in the 2-digit form, the commonest plate on the road, sure or not.
    """
    if not read.valid or not _SHORT_FRONT.fullmatch(read.text):
        return None
    wider = reader.read(cut_areas(gray, reframe(plate_quad, LEFT_LOOK), two_line=False))[0]
    if not (wider.valid and len(wider.text) == len(read.text) + 1 and wider.text.endswith(read.text)):
        return None
    return with_confidence(wider, min(wider.confidence, read.confidence))
