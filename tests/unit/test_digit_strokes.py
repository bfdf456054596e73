"""Digits built from strokes (`models.training.digit_strokes`): shapes, legibility, determinism."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from models.training.digit_strokes import DigitStyle, build_digit, sample_digit_style

DIGITS = "0123456789"


def _style(seed: int, **changes: object) -> DigitStyle:
    return dataclasses.replace(sample_digit_style(np.random.default_rng(seed)), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(6))
def test_every_digit_builds_a_glyph_of_plate_proportions(seed: int) -> None:
    style = sample_digit_style(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 10)
    for ch in DIGITS:
        g = build_digit(ch, style, rng)
        assert g.dtype == np.float32 and g.min() >= 0.0 and g.max() <= 1.0
        assert g.max() > 0.9, ch
        assert g[0].max() > 0.06 and g[-1].max() > 0.06, ch  # cropped to its ink top and bottom
        # tall and narrow, as plate digits are: about twice as high as wide
        assert 0.4 < g.shape[1] / g.shape[0] < 0.7, (ch, g.shape)
        assert 0.08 < g.mean() < 0.8, (ch, g.mean())  # the heaviest 8 still keeps its counters


@pytest.mark.parametrize("flag", [0.0, 0.3])
def test_a_one_is_a_narrow_stem_in_a_full_width_glyph(flag: float) -> None:
    """The plate's 1 stands narrow in its slot; a font's 1 cropped to its ink would be stretched."""
    style = _style(3, one_flag=flag, one_foot=False, jitter=0.0)
    one, zero = (
        build_digit("1", style, np.random.default_rng(0)),
        build_digit("0", style, np.random.default_rng(0)),
    )
    assert abs(one.shape[1] - zero.shape[1]) <= 1  # the same glyph width as any digit
    ink = one > 0.5
    stem = int(np.argmax(ink.sum(axis=0)))
    assert ink[:, stem].mean() > 0.9  # one column holds ink the whole height
    lower = ink[one.shape[0] // 2 :]  # below the flag only the stem: a small share of the width
    assert lower.any(axis=0).mean() < 0.4
    upper_left = ink[: one.shape[0] // 3, : max(stem - round(style.weight * one.shape[0]), 0)]
    assert upper_left.any() == (flag > 0)  # the flag reaches left of the stem, or there is none


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    a = cv2.resize(a, (32, 56), interpolation=cv2.INTER_AREA) > 0.5
    b = cv2.resize(b, (32, 56), interpolation=cv2.INTER_AREA) > 0.5
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize(
    ("ch", "confusables"),
    [("1", "7"), ("7", "1"), ("3", "85"), ("5", "63"), ("6", "850"), ("9", "80"), ("8", "0396"), ("0", "86")],
)
def test_a_jittered_digit_stays_nearer_itself_than_its_confusables(ch: str, confusables: str) -> None:
    for seed in range(12):
        style = _style(seed, jitter=0.012)
        clean_style = dataclasses.replace(style, jitter=0.0)
        clean = build_digit(ch, clean_style, np.random.default_rng(0))
        shaken = build_digit(ch, style, np.random.default_rng(seed + 100))
        itself = _overlap(clean, shaken)
        assert itself < 0.995  # the jitter does move it
        for other in confusables:
            near = build_digit(other, clean_style, np.random.default_rng(0))
            assert itself > _overlap(near, shaken), (ch, other, seed)


@pytest.mark.parametrize(
    ("ch", "field", "values"),
    [
        ("3", "three_flat", (False, True)),
        ("4", "four_open", (False, True)),
        ("6", "curled_tail", (False, True)),
        ("9", "curled_tail", (False, True)),
        ("7", "seven_bent", (False, True)),
        ("1", "one_foot", (False, True)),
    ],
)
def test_each_choice_changes_its_digit(ch: str, field: str, values: tuple[object, object]) -> None:
    a, b = (build_digit(ch, _style(1, jitter=0.0, **{field: v}), np.random.default_rng(0)) for v in values)
    assert a.shape != b.shape or not np.array_equal(a, b)


def test_a_seven_leaves_the_right_end_of_its_bar_and_a_three_is_open_on_the_left() -> None:
    for seed in range(20):
        style = _style(seed, jitter=0.0)
        seven = build_digit("7", style, np.random.default_rng(0)) > 0.5
        h, w = seven.shape
        assert seven[: max(2, h // 12)].any(axis=0).mean() > 0.8  # a bar across the top
        assert not seven[h // 2 :, int(w * 0.85) :].any()  # its lower half leans left
        for ch, open_left in (("3", True), ("0", False)):
            glyph = build_digit(ch, style, np.random.default_rng(0)) > 0.5
            h, w = glyph.shape
            left = glyph[int(h * 0.15) : int(h * 0.5), : int(w * 0.15)].any(axis=1)
            assert left.all() != open_left, (ch, seed)  # 3 has a gap on the left above its middle


def test_styles_and_digits_follow_the_seed() -> None:
    a = sample_digit_style(np.random.default_rng(7))
    assert a == sample_digit_style(np.random.default_rng(7))
    assert a != sample_digit_style(np.random.default_rng(8))
    shaky = dataclasses.replace(a, jitter=0.01)  # the wobble is what the glyph's generator draws
    d = build_digit("5", shaky, np.random.default_rng(3))
    assert np.array_equal(d, build_digit("5", shaky, np.random.default_rng(3)))
    assert not np.array_equal(d, build_digit("5", shaky, np.random.default_rng(4)))


def test_styles_span_the_choices() -> None:
    styles = [sample_digit_style(np.random.default_rng(s)) for s in range(300)]
    assert min(s.weight for s in styles) < 0.1 and max(s.weight for s in styles) > 0.15
    assert 0.03 < np.mean([s.one_flag == 0 for s in styles]) < 0.2  # most plate 1s have a flag
    for field, low, high in [
        ("one_foot", 0.05, 0.2),
        ("three_flat", 0.2, 0.4),
        ("four_open", 0.1, 0.3),
        ("curled_tail", 0.6, 0.8),
        ("seven_bent", 0.25, 0.45),
        ("square_ends", 0.5, 0.7),
    ]:
        assert low < np.mean([getattr(s, field) for s in styles]) < high, field


def test_what_is_no_digit_is_refused() -> None:
    with pytest.raises(ValueError, match="not a digit"):
        build_digit("가", sample_digit_style(np.random.default_rng(0)), np.random.default_rng(0))
