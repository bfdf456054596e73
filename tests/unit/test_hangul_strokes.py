"""Hangul built from strokes (`models.training.hangul_strokes`): composition, legibility, determinism."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from edge.plate import CHARSET, DIGITS
from models.training.hangul_strokes import _hieut, build_glyph, decompose, sample_style

HANGUL = [ch for ch in CHARSET if ch not in DIGITS]


@pytest.mark.parametrize(
    ("syllable", "parts"),
    [
        ("가", ("ㄱ", "ㅏ", "")),
        ("허", ("ㅎ", "ㅓ", "")),
        ("배", ("ㅂ", "ㅐ", "")),
        ("고", ("ㄱ", "ㅗ", "")),
        ("광", ("ㄱ", "ㅘ", "ㅇ")),
        ("원", ("ㅇ", "ㅝ", "ㄴ")),
        ("외", ("ㅇ", "ㅚ", "")),
        ("육", ("ㅇ", "ㅠ", "ㄱ")),
        ("합", ("ㅎ", "ㅏ", "ㅂ")),
        ("울", ("ㅇ", "ㅜ", "ㄹ")),
        ("충", ("ㅊ", "ㅜ", "ㅇ")),
        ("경", ("ㄱ", "ㅕ", "ㅇ")),
    ],
)
def test_decompose(syllable: str, parts: tuple[str, str, str]) -> None:
    assert decompose(syllable) == parts


@pytest.mark.parametrize("ch", ["A", "1", "ㄱ", " "])
def test_decompose_refuses_what_is_no_syllable(ch: str) -> None:
    with pytest.raises(ValueError, match="not a precomposed Hangul syllable"):
        decompose(ch)


def test_a_syllable_plates_never_print_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="ㅋ"):
        build_glyph("카", sample_style(np.random.default_rng(0)), np.random.default_rng(0))


@pytest.mark.parametrize(("seed", "hieut"), [(s, h) for s in range(4) for h in (False, True)])
def test_every_plate_syllable_builds_a_tight_glyph(seed: int, hieut: bool) -> None:
    rng = np.random.default_rng(seed)
    style = sample_style(rng, hieut=hieut)
    for ch in HANGUL:
        g = build_glyph(ch, style, rng)
        assert g.dtype == np.float32 and g.min() >= 0.0 and g.max() <= 1.0
        assert g.max() > 0.9, ch
        # cropped to its ink: every border row and column touches some
        for edge in (g[0], g[-1], g[:, 0], g[:, -1]):
            assert edge.max() > 0.06, ch
        # about as tall as it is wide, and neither empty nor a blob
        assert 0.6 < g.shape[1] / g.shape[0] < 1.4, ch
        assert 0.12 < g.mean() < 0.7, (ch, g.mean())


def _box(g: np.ndarray) -> np.ndarray:
    return cv2.resize(g, (48, 48), interpolation=cv2.INTER_AREA)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _box(a) > 0.5, _box(b) > 0.5
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize(
    ("ch", "confusables"),
    [
        ("허", "하어머호"),
        ("하", "허마"),
        ("어", "아머"),
        ("거", "가"),
        ("저", "자"),
        ("버", "배바"),
        ("러", "라"),
        ("전", "경"),
        ("주", "우"),
    ],
)
def test_a_jittered_glyph_stays_nearer_itself_than_its_confusables(ch: str, confusables: str) -> None:
    """The jitter that makes every plate's typeface its own must not move a letter toward another,
    nor may the wider ㅎ shapes (seeds 6..11) turn ㅎ into ㅇ or ㅁ."""
    for seed in range(12):
        drawn = sample_style(np.random.default_rng(seed), hieut=seed >= 6)
        style = dataclasses.replace(drawn, jitter=0.018)
        clean = build_glyph(ch, dataclasses.replace(style, jitter=0.0), np.random.default_rng(0))
        shaken = build_glyph(ch, style, np.random.default_rng(seed + 100))
        itself = _overlap(clean, shaken)
        assert itself < 0.995  # the jitter does move it
        for other in confusables:
            near = build_glyph(other, dataclasses.replace(style, jitter=0.0), np.random.default_rng(0))
            assert itself > _overlap(near, shaken), (ch, other, seed)


@pytest.mark.parametrize(
    ("syllable", "bar_side"), [("아", 1), ("어", -1), ("가", 1), ("거", -1), ("하", 1), ("허", -1)]
)
def test_the_short_bar_of_a_and_eo_sits_on_its_own_side(syllable: str, bar_side: int) -> None:
    for seed in range(5):
        style = sample_style(np.random.default_rng(seed))
        g = build_glyph(syllable, style, np.random.default_rng(seed)) > 0.5
        h, w = g.shape
        right = g[:, int(w * 0.5) :]
        stem = int(np.argmax(right.sum(axis=0)))  # the vowel's long stroke: the fullest column
        t = max(2, round(style.weight * h))
        middle = right[int(h * 0.3) : int(h * 0.7)]
        left_ink = middle[:, : max(stem - t, 0)].sum()
        right_ink = middle[:, stem + t :].sum()
        assert (right_ink - left_ink) * bar_side > 0, (syllable, seed, left_ink, right_ink)


def test_the_ring_of_hieut_stays_below_its_bar_and_inside_its_box() -> None:
    """Whatever ring size, bar height and cap a style draws, ㅎ keeps its three parts apart: the cap
    above the bar, the ring wholly below it (else it reads as ㅇ under a hat, or as ㅁ)."""
    for seed in range(300):
        style = sample_style(np.random.default_rng(seed), hieut=True)
        cap, bar, ring = _hieut(style)
        _, cx, cy, rx, ry = ring  # type: ignore[misc]
        bar_y = bar[0][1]  # type: ignore[index]
        assert cy - ry >= bar_y + 0.1 - 1e-9, style  # a gap between bar and ring
        assert cy + ry <= 1.0 + 1e-9, style
        assert cx - rx >= 0.0 and cx + rx <= 1.0, style
        assert max(p[1] for p in cap) < bar_y, style  # type: ignore[union-attr]


def test_styles_and_glyphs_follow_the_seed() -> None:
    a = sample_style(np.random.default_rng(7))
    assert a == sample_style(np.random.default_rng(7))
    assert a != sample_style(np.random.default_rng(8))
    g1 = build_glyph("호", a, np.random.default_rng(3))
    assert np.array_equal(g1, build_glyph("호", a, np.random.default_rng(3)))
    assert not np.array_equal(g1, build_glyph("호", a, np.random.default_rng(4)))


def test_styles_span_the_weights_of_real_plates() -> None:
    styles = [sample_style(np.random.default_rng(s)) for s in range(200)]
    weights = [s.weight for s in styles]
    assert min(weights) < 0.08 and max(weights) > 0.125
    assert {s.h_cap for s in styles} == {"tick", "bar"}
    assert {(s.h_ring, s.h_ring_full, s.h_bar) for s in styles} == {(1.0, False, 0.22)}
    wider = [sample_style(np.random.default_rng(s), hieut=True) for s in range(200)]
    assert {s.h_cap for s in wider} == {"tick", "bar", "slant"}
    assert min(s.h_ring for s in wider) < 0.85 and max(s.h_ring for s in wider) > 1.2
    assert 0.25 < np.mean([s.h_ring_full for s in wider]) < 0.55
    # the styles drawn before ㅎ's own draws are the ones drawn without them
    assert all(
        dataclasses.replace(w, h_cap=s.h_cap, h_ring=1.0, h_ring_full=False, h_bar=0.22) == s
        for w, s in zip(wider, styles, strict=True)
    )
    assert 0.3 < np.mean([s.square_ends for s in styles]) < 0.7
