"""Typeface sets of the plate synthesizer: standard (the seeded sets), varied (training), unseen (probe)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.plate import CHARSET, DIGITS, LineRole, line_is_valid
from models.training import dataset
from models.training.dataset import ShardJob, _shard
from models.training.glyphs import (
    DIGIT_FONTS,
    HANGUL_FONTS,
    MORE_DIGIT_FONTS,
    MORE_HANGUL_FONTS,
    TYPEFACES,
    UNSEEN_DIGIT_FONTS,
    UNSEEN_HANGUL_FONTS,
    VARIED_DIGIT_FONTS,
    VARIED_HANGUL_FONTS,
    available,
    fit_glyph,
    glyph_mask,
    warp_glyph,
)
from models.training.plates import BUILDS_DIGITS, _typeface, render_plate, sample_spec

HANGUL = [ch for ch in CHARSET if ch not in DIGITS]
TRAINING_FONTS = {
    p
    for p, _ in HANGUL_FONTS
    + DIGIT_FONTS
    + VARIED_HANGUL_FONTS
    + VARIED_DIGIT_FONTS
    + MORE_HANGUL_FONTS
    + MORE_DIGIT_FONTS
}


def test_unseen_fonts_are_in_no_training_set() -> None:
    unseen = {p for p, _ in UNSEEN_HANGUL_FONTS + UNSEEN_DIGIT_FONTS}
    assert not unseen & TRAINING_FONTS
    # several of each, or the probe measures one font's quirks
    assert len(available(UNSEEN_HANGUL_FONTS)) >= 2 and len(available(UNSEEN_DIGIT_FONTS)) >= 3


@pytest.mark.parametrize(
    ("fonts", "chars"),
    [
        (VARIED_HANGUL_FONTS, HANGUL),
        (UNSEEN_HANGUL_FONTS, HANGUL),
        (MORE_HANGUL_FONTS, HANGUL),
        (VARIED_DIGIT_FONTS, list(DIGITS)),
        (UNSEEN_DIGIT_FONTS, list(DIGITS)),
        (MORE_DIGIT_FONTS, list(DIGITS)),
    ],
)
def test_typeface_fonts_are_installed_and_draw_every_character_they_print(
    fonts: tuple[tuple[str, int], ...], chars: list[str]
) -> None:
    """scripts/sysdeps.sh installs them all; a missing one would be skipped silently by `available`. A
    character a font lacks comes out as its .notdef: an empty box, which has ink too (compared with it
    here), or nothing (`glyph_mask` refuses it)."""
    assert len(available(fonts)) == len(fonts)
    for font in available(fonts):
        try:
            notdef = glyph_mask(font, "\u0378")  # an unassigned code point: no font can draw it
        except ValueError:
            notdef = np.zeros((1, 1), np.float32)  # an empty .notdef
        for ch in chars:
            mask = glyph_mask(font, ch)
            assert mask.max() > 0.5, (font, ch)
            assert not (mask.shape == notdef.shape and np.allclose(mask, notdef)), (font, ch)


def _iou_in_one_box(a: np.ndarray, b: np.ndarray) -> float:
    a = cv2.resize(a, (64, 64)) > 0.5
    b = cv2.resize(b, (64, 64)) > 0.5
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("strength", [0.3, 1.0])
@pytest.mark.parametrize(
    ("ch", "confusable"), [("허", "하"), ("어", "아"), ("저", "자"), ("3", "5"), ("8", "0")]
)
def test_warp_glyph_bends_the_outline_but_keeps_the_glyph(ch: str, confusable: str, strength: float) -> None:
    # (5 and 6 differ by one short stroke, too little for this overlap measure to tell them apart)
    for font in available(HANGUL_FONTS)[:4]:
        mask, other = glyph_mask(font, ch), glyph_mask(font, confusable)
        for seed in range(6):
            out = warp_glyph(mask, np.random.default_rng(seed), strength)
            assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
            assert 0.6 < out.sum() / mask.sum() < 1.5  # no stroke lost, none doubled
            itself = _iou_in_one_box(mask, out)
            assert itself < 0.985  # bent: not the font's outline any more
            assert itself > _iou_in_one_box(other, out), (font, seed)  # still nearer to itself
        again = warp_glyph(mask, np.random.default_rng(3), strength)
        assert np.array_equal(again, warp_glyph(mask, np.random.default_rng(3), strength))


def test_standard_typefaces_draw_as_every_release_before() -> None:
    """The seeded test sets depend on the standard draw consuming the generator exactly as before."""
    for seed in range(40):
        g, old = np.random.default_rng(seed), np.random.default_rng(seed)
        tf = _typeface(g, "standard")
        digit = available(DIGIT_FONTS)[old.integers(len(available(DIGIT_FONTS)))]
        hangul = available(HANGUL_FONTS)[old.integers(len(available(HANGUL_FONTS)))]
        weight = float(old.uniform(-0.3, 1.4))
        emboss = float(old.uniform(0.6, 1.5)) if old.random() < 0.4 else 0.0
        assert (tf.digit_font, tf.hangul_font, tf.weight, tf.emboss, tf.warp) == (
            digit,
            hangul,
            weight,
            emboss,
            0,
        )
        assert g.random() == old.random()  # the same draws consumed


@pytest.mark.parametrize(
    ("typefaces", "hangul_pool", "digit_pool", "warped"),
    [
        ("standard", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("varied", HANGUL_FONTS + VARIED_HANGUL_FONTS, DIGIT_FONTS + VARIED_DIGIT_FONTS, (0.6, 0.9)),
        ("unseen", UNSEEN_HANGUL_FONTS, UNSEEN_DIGIT_FONTS, (0.0, 0.0)),
        ("built", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("built-letters", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("built-hieut", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("built-digits", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("built-all", HANGUL_FONTS, DIGIT_FONTS, (0.0, 0.0)),
        ("built-many", HANGUL_FONTS + MORE_HANGUL_FONTS, DIGIT_FONTS + MORE_DIGIT_FONTS, (0.0, 0.0)),
    ],
)
def test_typeface_draws_its_own_fonts(
    typefaces: str,
    hangul_pool: tuple[tuple[str, int], ...],
    digit_pool: tuple[tuple[str, int], ...],
    warped: tuple[float, float],
) -> None:
    draws = [_typeface(np.random.default_rng(s), typefaces) for s in range(300)]
    hangul, digits = set(available(hangul_pool)), set(available(digit_pool))
    assert {d.hangul_font for d in draws} == hangul  # every one of them, nothing else
    assert {d.digit_font for d in draws} == digits
    share = np.mean([d.warp > 0 for d in draws])
    assert warped[0] <= share <= warped[1]
    built = np.mean([d.strokes is not None for d in draws])
    assert (0.4 <= built <= 0.6) if typefaces.startswith("built") else built == 0.0
    assert all(d.built_regions == (typefaces in ("built", "built-all")) for d in draws if d.strokes)
    # only "built-hieut" widens ㅎ: the other modes draw the styles they always drew
    wide = {d.strokes.h_ring for d in draws if d.strokes}
    assert (len(wide) > 100) if typefaces == "built-hieut" else wide <= {1.0}
    # only "built-digits", "built-all" and "built-many" build digits, on about half their plates, letter
    # built or not
    builds_digits = typefaces in BUILDS_DIGITS
    assert builds_digits == (typefaces in ("built-digits", "built-all", "built-many"))
    digits = [d.digits is not None for d in draws]
    assert (0.4 <= np.mean(digits) <= 0.6) if builds_digits else not any(digits)
    if builds_digits:
        both = [d.digits is not None for d in draws if d.strokes is not None]
        assert 0.3 <= np.mean(both) <= 0.7


def test_built_digits_draw_the_letters_as_built_letters_did() -> None:
    """The digit share is drawn after everything "built-letters" draws, so its letters stay the same."""
    for seed in range(60):
        letters = _typeface(np.random.default_rng(seed), "built-letters")
        digits = _typeface(np.random.default_rng(seed), "built-digits")
        assert dataclasses.replace(digits, digits=None) == letters


def test_built_all_draws_as_built_digits_with_region_names_built() -> None:
    for seed in range(60):
        digits = _typeface(np.random.default_rng(seed), "built-digits")
        everything = _typeface(np.random.default_rng(seed), "built-all")
        # built_regions only means something on a plate whose Hangul is built
        if everything.strokes is not None:
            assert everything.built_regions
            everything = dataclasses.replace(everything, built_regions=False)
        assert everything == digits


def test_built_many_draws_as_built_digits_in_more_fonts() -> None:
    fonts = {"built-digits": set(), "built-many": set()}
    for seed in range(60):
        digits = _typeface(np.random.default_rng(seed), "built-digits")
        many = _typeface(np.random.default_rng(seed), "built-many")
        fonts["built-digits"].add(digits.hangul_font)
        fonts["built-many"].add(many.hangul_font)
        assert (
            dataclasses.replace(many, hangul_font=digits.hangul_font, digit_font=digits.digit_font) == digits
        )
    assert fonts["built-many"] - fonts["built-digits"]  # and it draws fonts built-digits never does


@pytest.mark.parametrize(
    ("typefaces", "region_built"),
    [
        ("built", True),
        ("built-letters", False),
        ("built-hieut", False),
        ("built-digits", False),
        ("built-all", True),
        ("built-many", False),
    ],
)
def test_built_typefaces_build_the_letter_and_maybe_the_region(typefaces: str, region_built: bool) -> None:
    tf = next(
        t
        for s in range(50)
        if (t := _typeface(np.random.default_rng(s), typefaces)).strokes and t.digits is None
    )
    font_glyph = fit_glyph(glyph_mask(tf.hangul_font, "서"), 40, 44, tf.weight)
    letter = tf.glyph(tf.hangul_font, "서", 40, 44, np.random.default_rng(1))
    region = tf.glyph(tf.hangul_font, "서", 40, 44, np.random.default_rng(1), region=True)
    assert not np.array_equal(letter, font_glyph)  # the class letter is always built
    assert np.array_equal(region, letter) == region_built
    assert np.array_equal(region, font_glyph) != region_built
    assert np.array_equal(
        tf.glyph(tf.digit_font, "7", 20, 44, np.random.default_rng(1)),
        fit_glyph(glyph_mask(tf.digit_font, "7"), 20, 44, tf.weight),
    )


def test_built_digits_replace_the_fonts_digits_and_nothing_else() -> None:
    tf = next(
        t
        for s in range(50)
        if (t := _typeface(np.random.default_rng(s), "built-digits")).digits and t.strokes is None
    )
    for ch in "0123456789":
        built = tf.glyph(tf.digit_font, ch, 20, 44, np.random.default_rng(1))
        assert built.shape == (44, 20)
        assert not np.array_equal(built, fit_glyph(glyph_mask(tf.digit_font, ch), 20, 44, tf.weight)), ch
    assert np.array_equal(  # Hangul keeps the font
        tf.glyph(tf.hangul_font, "서", 40, 44, np.random.default_rng(1)),
        fit_glyph(glyph_mask(tf.hangul_font, "서"), 40, 44, tf.weight),
    )


def test_render_plate_typefaces() -> None:
    spec = sample_spec(np.random.default_rng(1), "white7")
    default = render_plate(spec, np.random.default_rng(2), 0.8)
    assert np.array_equal(default, render_plate(spec, np.random.default_rng(2), 0.8, "standard"))
    for typefaces in [t for t in TYPEFACES if t != "standard"]:  # every one, listed just below
        a = render_plate(spec, np.random.default_rng(2), 0.8, typefaces)
        assert np.array_equal(a, render_plate(spec, np.random.default_rng(2), 0.8, typefaces))
        assert not np.array_equal(a, default)
    with pytest.raises(ValueError, match="typefaces"):
        render_plate(spec, np.random.default_rng(2), 0.8, "fancy")
    assert tuple(TYPEFACES) == (
        "standard",
        "varied",
        "unseen",
        "built",
        "built-letters",
        "built-hieut",
        "built-digits",
        "built-all",
        "built-many",
    )


@pytest.mark.parametrize("typefaces", ["varied", "built", "built-digits", "built-many"])
def test_a_training_typeface_shard_holds_valid_labels(tmp_path: Path, typefaces: str) -> None:
    path = Path(_shard(ShardJob(11, 4, str(tmp_path), typefaces=typefaces)))
    with np.load(path) as data:
        texts = [
            "".join(CHARSET[int(i) - 1] for i in label[: int(n)])
            for label, n in zip(data["labels"], data["lengths"], strict=True)
        ]
    assert len(texts) >= 4
    assert all(any(line_is_valid(t, role) for role in LineRole) for t in texts)


def test_testset_cli_draws_an_unseen_typeface_set(tmp_path: Path) -> None:
    assert (
        dataset.main(
            ["testset", "--out", str(tmp_path), "--plates", "3", "--seed", "5", "--typefaces", "unseen"]
        )
        == 0
    )
    with (tmp_path / "manifest.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all((tmp_path / "images" / r["file"]).is_file() for r in rows)
    standard = tmp_path / "standard"
    dataset.main(["testset", "--out", str(standard), "--plates", "3", "--seed", "5"])
    with (standard / "manifest.csv").open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    # the first plate's text is drawn before its typeface: the same plate, in other glyphs
    assert first == rows[0]
    assert (standard / "images" / first["file"]).read_bytes() != (
        tmp_path / "images" / first["file"]
    ).read_bytes()
