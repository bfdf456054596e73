"""Fuse the reads of one vehicle's best crops into one plate read.

A single frame of a moving car is often blurred, glared or half-occluded; several frames of the same plate
fail in different places. Voting per character position over the best K crops, weighted by how sure the
reader was of each character and how good the crop was, recovers the plate where every single frame has
an error somewhere. This is where a video reader beats a single-frame one.

Alignment: reads are aligned **from the right**. Every Korean plate ends with one Hangul and four digits,
while the front varies (two or three digits, an optional two-syllable region, a region the reader
missed). Right alignment lines up the parts that are always there; a position beyond a short read's
start votes "nothing here", so a region prefix survives only when the weighted majority saw it.

The fused string must be grammatical; if voting produced an invalid mix, the valid whole read with the
largest support wins instead. Confidence combines the calibrated confidences of the reads that agree with
the result, discounted for disagreement: ``(1 - (1 - c_best) * prod_others(1 - c_i) ** 0.5) * agreement``.
One read keeps its own calibrated confidence; each further agreeing read counts at half strength (the
square root), because frames of the same plate are only partly independent (they share dirt, typeface
and angle): three agreeing 0.9 reads give 0.99, not the 0.999 full independence would claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from edge.engine import PlateRead
from edge.plate import is_valid, plate_kind

_NOTHING = ""  # the vote for "the plate starts before this position"


@dataclass(frozen=True)
class Observation:
    """One read crop of a tracked plate: the read, its crop quality (weight) and when it was seen."""

    read: PlateRead
    quality: float
    t: float


@dataclass(frozen=True)
class FusedRead:
    """The fused plate: its text (always grammatical), a calibrated-ish confidence, and how much the
    frames agreed."""

    text: str
    confidence: float
    kind: str
    agreement: float  # weighted share of valid reads that say exactly `text` (0..1)
    agreeing: int  # reads equal to `text`
    frames_read: int  # observations fused (valid or not)
    char_confidence: tuple[float, ...]  # per character of `text`: weighted share of its vote
    best: Observation  # the highest-quality observation reading `text` (or the best one overall)


def _char_confidences(read: PlateRead) -> list[float]:
    confs = [c for area in read.areas for _, c in area.chars]
    return confs if len(confs) == len(read.text) else [read.confidence] * len(read.text)


def _vote(observations: Sequence[Observation]) -> tuple[str, list[float]]:
    """Right-aligned weighted per-position vote; returns the text and each kept position's share."""
    longest = max(len(o.read.text) for o in observations)
    text: list[str] = []
    shares: list[float] = []
    for pos in range(1, longest + 1):  # from the right
        tally: dict[str, float] = defaultdict(float)
        for o in observations:
            chars = o.read.text
            if pos <= len(chars):
                tally[chars[-pos]] += o.quality * _char_confidences(o.read)[-pos]
            else:
                tally[_NOTHING] += o.quality * o.read.confidence
        total = sum(tally.values())
        winner = max(tally, key=lambda c: tally[c])
        if winner == _NOTHING or total <= 0:
            break
        text.append(winner)
        shares.append(tally[winner] / total)
    return "".join(reversed(text)), list(reversed(shares))


def _support(text: str, observations: Sequence[Observation]) -> float:
    """Weighted right-aligned character agreement of all observations with ``text``."""
    score = 0.0
    for o in observations:
        confs = _char_confidences(o.read)
        n = max(len(text), len(o.read.text))
        hits = sum(
            confs[-pos]
            for pos in range(1, min(len(text), len(o.read.text)) + 1)
            if o.read.text[-pos] == text[-pos]
        )
        score += o.quality * hits / n
    return score


def fuse(observations: Sequence[Observation]) -> FusedRead | None:
    """The fused read of ``observations`` (any order), or None when none of them is a valid plate.

    Invalid reads (no grammatical plate found in the crop) carry no vote: they are mostly partial
    crops, which would otherwise pull the alignment apart. They still count in ``frames_read``.
    """
    valid = [o for o in observations if o.read.valid and o.quality > 0]
    if not valid:
        return None
    weight = sum(o.quality for o in valid)
    voted, shares = _vote(valid)
    if is_valid(voted):
        text = voted
    else:
        candidates = {o.read.text for o in valid}
        text = max(sorted(candidates), key=lambda t: _support(t, valid))
        shares = [1.0] * len(text)
        for pos in range(1, len(text) + 1):
            same = sum(o.quality for o in valid if o.read.text[-pos:][:1] == text[-pos])
            shares[-pos] = same / weight if weight > 0 else 0.0
    agreeing = [o for o in valid if o.read.text == text]
    agreement = sum(o.quality for o in agreeing) / weight if weight > 0 else 0.0
    if agreeing:
        misses = sorted(max(0.0, 1.0 - o.read.confidence) for o in agreeing)
        miss = misses[0]
        for other in misses[1:]:
            miss *= other**0.5
        confidence = (1.0 - miss) * agreement
    else:  # voting assembled a plate no single frame read: trust it no more than its weakest position
        confidence = min(shares) * max(o.read.confidence for o in valid) * 0.5
    best = max(agreeing or valid, key=lambda o: o.quality)
    colours: dict[str, float] = defaultdict(float)
    for o in valid:
        colours[o.read.colour] += o.quality
    colour = max(colours, key=lambda c: colours[c])
    return FusedRead(
        text=text,
        confidence=float(confidence),
        kind=plate_kind(text, colour),
        agreement=float(agreement),
        agreeing=len(agreeing),
        frames_read=len(observations),
        char_confidence=tuple(float(s) for s in shares),
        best=best,
    )
