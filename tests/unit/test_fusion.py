"""Fusion tables: per-position voting, right alignment, grammar fallback, agreement and confidence."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edge.engine import AreaRead, PlateRead
from edge.fusion import Observation, fuse
from edge.plate import is_valid

QUAD = ((0.0, 0.0), (100.0, 0.0), (100.0, 25.0), (0.0, 25.0))


def plate(
    text: str, conf: float = 0.9, chars: Sequence[float] | None = None, colour: str = "white"
) -> PlateRead:
    char_conf = tuple(chars) if chars is not None else (conf,) * len(text)
    area = AreaRead(QUAD, text, conf, tuple(zip(text, char_conf, strict=True)), "single")
    return PlateRead(text, conf, is_valid(text), "private", colour, QUAD, False, (area,), text)


def obs(text: str, quality: float = 1.0, conf: float = 0.9, **kw: object) -> Observation:
    return Observation(plate(text, conf, **kw), quality, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        (["12가3456"] * 3, "12가3456"),
        # every frame wrong somewhere, never in the same place: voting recovers the plate
        (["12가3456", "12거3456", "17가3456", "12가3458"], "12가3456"),
        (["123가4567", "123가4567", "128가4567"], "123가4567"),
        # right alignment: a read that missed the region does not shift the rest
        (["서울12가3456", "서울12가3456", "12가3456"], "서울12가3456"),
        # ... and a region invented by one frame is voted out
        (["12가3456", "12가3456", "서울12가3456"], "12가3456"),
    ],
)
def test_vote(reads: list[str], expected: str) -> None:
    fused = fuse([obs(t) for t in reads])
    assert fused is not None and fused.text == expected


def test_quality_weights_the_vote() -> None:
    fused = fuse([obs("12가3456", quality=0.9), obs("12거3456", quality=0.2), obs("12거3456", quality=0.2)])
    assert fused is not None and fused.text == "12가3456"


def test_char_confidence_weights_the_vote() -> None:
    sure = obs("12가3456", chars=[0.99, 0.99, 0.95, 0.99, 0.99, 0.99, 0.99])
    unsure = [obs("12거3456", chars=[0.99, 0.99, 0.3, 0.99, 0.99, 0.99, 0.99]) for _ in range(2)]
    fused = fuse([sure, *unsure])
    assert fused is not None and fused.text == "12가3456"


def test_invalid_vote_falls_back_to_the_best_supported_valid_read() -> None:
    # position-wise majority would mix a 3-digit head into a region plate; the result must be grammatical
    reads = ["서울1가3456", "123가4567", "서울1가3456", "723가4567"]
    fused = fuse([obs(t) for t in reads])
    assert fused is not None and is_valid(fused.text)


def test_invalid_reads_have_no_vote_but_count() -> None:
    fused = fuse([obs("12가3456"), obs("12가3456"), obs("1가34")])
    assert fused is not None
    assert fused.text == "12가3456" and fused.frames_read == 3 and fused.agreeing == 2
    assert fuse([obs("1가34")]) is None
    assert fuse([]) is None


@pytest.mark.parametrize(
    ("reads", "agreement"),
    [(["12가3456"] * 4, 1.0), (["12가3456"] * 3 + ["12거3456"], 0.75), (["12가3456", "12거3456"], 0.5)],
)
def test_agreement_is_the_weighted_share_of_exact_reads(reads: list[str], agreement: float) -> None:
    fused = fuse([obs(t) for t in reads])
    assert fused is not None and fused.agreement == pytest.approx(agreement)


def test_confidence_grows_with_agreeing_frames_and_drops_with_disagreement() -> None:
    one = fuse([obs("12가3456", conf=0.9)])
    three = fuse([obs("12가3456", conf=0.9)] * 3)
    split = fuse([obs("12가3456", conf=0.9)] * 2 + [obs("12거3456", conf=0.9)])
    assert one is not None and three is not None and split is not None
    assert one.confidence < three.confidence < 1.0
    assert split.confidence < three.confidence
    assert one.confidence == pytest.approx(0.9)  # one read keeps its calibrated confidence
    assert three.confidence == pytest.approx(1 - 0.1 * (0.1**0.5) ** 2)  # partly independent frames


def test_kind_comes_from_the_majority_colour() -> None:
    fused = fuse([obs("12가3456", colour="blue"), obs("12가3456", colour="blue"), obs("12가3456")])
    assert fused is not None and fused.kind == "ev"


def test_best_is_the_highest_quality_agreeing_read() -> None:
    a, b, c = obs("12가3456", quality=0.4), obs("12가3456", quality=0.8), obs("12거3456", quality=0.95)
    fused = fuse([a, b, c])
    assert fused is not None and fused.text == "12가3456" and fused.best is b
