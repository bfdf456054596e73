"""Occluded training plates: the occluder hides what the label says is hidden, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from edge.plate import HIDDEN
from models.training.capture import LOOSE_WINDOW
from models.training.dataset import LABEL_CHARSET, encode, film, film_labelled
from models.training.occluders import SPILL, occlude
from models.training.plates import STYLES, Box, render_plate, sample_spec


def _plate(seed: int, style: str) -> tuple[object, np.ndarray, list[Box]]:
    rng = np.random.default_rng(seed)
    spec = sample_spec(rng, style)
    boxes: list[Box] = []
    return spec, render_plate(spec, rng, 3.0, "built-digits", boxes), boxes


@pytest.mark.parametrize("style", list(STYLES))
def test_glyph_boxes_follow_the_text_and_collecting_them_changes_nothing(style: str) -> None:
    spec, image, boxes = _plate(4, style)
    rng = np.random.default_rng(4)
    again = render_plate(sample_spec(rng, style), rng, 3.0, "built-digits")
    np.testing.assert_array_equal(image, again)
    assert len(boxes) == len(spec.text)  # type: ignore[attr-defined]
    h, w = image.shape[:2]
    for b in boxes:
        assert min(b.x, b.y) >= 0 and b.x + b.w <= w + 1 and b.y + b.h <= h + 1 and min(b.w, b.h) > 2


def _changed(before: np.ndarray, after: np.ndarray, b: Box) -> float:
    """Share of ``b``'s pixels that the occluder painted over."""
    diff = np.any(before[b.y : b.y + b.h, b.x : b.x + b.w] != after[b.y : b.y + b.h, b.x : b.x + b.w], axis=2)
    return float(diff.mean())


@pytest.mark.parametrize("seed", range(40))
def test_occluder_covers_the_hidden_glyphs_and_spares_the_others(seed: int) -> None:
    style = list(STYLES)[seed % len(STYLES)]
    spec, plate, boxes = _plate(seed, style)
    out, lines = occlude(plate, spec, boxes, np.random.default_rng(seed))  # type: ignore[arg-type]
    text = "".join(lines)
    assert len(text) == len(spec.text)  # type: ignore[attr-defined]
    assert lines == tuple(
        "".join(HIDDEN if t == HIDDEN else c for t, c in zip(label, line, strict=True))
        for label, line in zip(lines, spec.lines, strict=True)  # type: ignore[attr-defined]
    )
    for i, (label, b) in enumerate(zip(text, boxes, strict=True)):
        covered = _changed(plate, out, b)
        if label == HIDDEN:
            assert covered > 0.97, (i, covered)  # all but the ragged rim of mud
        else:
            assert covered <= SPILL + 0.06, (i, covered)  # rounding of the grown box


def test_region_names_are_hidden_whole_or_a_syllable_and_never_with_a_digit() -> None:
    whole = 0
    for seed in range(200):
        spec, plate, boxes = _plate(seed, "white_region")
        _out, lines = occlude(plate, spec, boxes, np.random.default_rng(seed))  # type: ignore[arg-type]
        n = len(spec.region)  # type: ignore[attr-defined]
        region, after = lines[0][:n], lines[0][n]
        assert not (HIDDEN in region and after == HIDDEN)
        whole += region == HIDDEN * n
    assert 30 < whole < 100  # REGION_SHARE of the non-decoys, about 0.3 * 0.8 * 200


def test_decoys_and_hidden_characters_both_occur_and_labels_encode() -> None:
    decoys = hidden = 0
    rng = np.random.default_rng(12)
    for _ in range(60):
        spec, _image, _quad, _h, lines = film_labelled(rng, occlude=1.0)
        if HIDDEN in "".join(lines):
            hidden += 1
            code = encode(lines[0] if HIDDEN in lines[0] else lines[1])
            assert len(LABEL_CHARSET) in code.tolist()  # HIDDEN is the last class
        else:
            decoys += 1
            assert lines == spec.lines
    assert decoys >= 4 and hidden >= 40


def test_without_occluders_film_labelled_draws_what_film_draws() -> None:
    spec_a, image_a, quad_a, h_a = film(np.random.default_rng(3))
    spec_b, image_b, quad_b, h_b, lines = film_labelled(np.random.default_rng(3))
    assert spec_a == spec_b and h_a == h_b and lines == spec_a.lines
    np.testing.assert_array_equal(image_a, image_b)
    np.testing.assert_array_equal(quad_a, quad_b)


def test_the_same_seed_draws_the_same_occluded_plate() -> None:
    a = film_labelled(np.random.default_rng(8), occlude=1.0)
    b = film_labelled(np.random.default_rng(8), occlude=1.0)
    np.testing.assert_array_equal(a[1], b[1])
    assert a[4] == b[4]


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_an_occluded_plate_can_be_filmed_loose(seed: int) -> None:
    usual = film_labelled(np.random.default_rng(seed), occlude=1.0)
    loose = film_labelled(np.random.default_rng(seed), occlude=1.0, window=LOOSE_WINDOW)
    assert loose[0] == usual[0] and loose[4] == usual[4]  # the same plate, the same occluder's labels

    def plate_share(image: np.ndarray, quad: np.ndarray) -> float:
        return float(np.ptp(quad[:, 0])) / image.shape[1]

    assert plate_share(loose[1], loose[2]) < plate_share(usual[1], usual[2])
