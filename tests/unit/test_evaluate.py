"""`plate-edge eval` helpers: the character-height table and edit distance (`edge.evaluate`)."""

from __future__ import annotations

import pytest

from edge.evaluate import edit_distance, size_bin, size_table


@pytest.mark.parametrize(
    ("height", "label"),
    [
        (0.0, "<20"),
        (14.8, "<20"),
        (19.99, "<20"),
        (20.0, "20-30"),
        (29.9, "20-30"),
        (30.0, "30-45"),
        (44.9, "30-45"),
        (45.0, "45+"),
        (300.0, "45+"),
    ],
)
def test_size_bins(height: float, label: str) -> None:
    assert size_bin(height) == label


def test_size_table_has_a_row_per_bin_and_both_layouts() -> None:
    lines = size_table({("<20", "one-line"): [4, 3], ("45+", "two-line"): [2, 2]})
    assert lines[0].split() == ["char", "height", "one-line", "n", "exact", "two-line", "n", "exact"]
    rows = {line.split()[0]: line.split()[2:] for line in lines[1:]}
    assert list(rows) == ["<20", "20-30", "30-45", "45+"]
    assert rows["<20"] == ["4", "0.750", "0", "-"]
    assert rows["20-30"] == ["0", "-", "0", "-"]
    assert rows["45+"] == ["0", "-", "2", "1.000"]


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("", "", 0),
        ("12가3456", "12가3456", 0),
        ("12가3456", "12거3456", 1),  # one substitution
        ("12가3456", "12가345", 1),  # one deletion
        ("서울12가3456", "12가3456", 2),  # a dropped region name
        ("", "12가3456", 7),
        ("123가4567", "12가34567", 2),
    ],
)
def test_edit_distance(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == d
    assert edit_distance(b, a) == d
