"""Misread breakdown (`edge.misread_parts`): which part a misread got wrong, and which characters."""

from __future__ import annotations

import pytest

from edge.misread_parts import GAP, breakdown, confusions, misread_part
from edge.plate import plate_parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("12가3456", ("", "12", "가", "3456")),
        ("123가4567", ("", "123", "가", "4567")),
        ("서울12가3456", ("서울", "12", "가", "3456")),
        ("경기1모8487", ("경기", "1", "모", "8487")),
        ("12가345", None),
        ("", None),
    ],
)
def test_plate_parts(text: str, parts: tuple[str, str, str, str] | None) -> None:
    assert plate_parts(text) == parts


@pytest.mark.parametrize(
    ("truth", "read", "part"),
    [
        ("세종75거4578", "서울75거4578", "region"),
        ("서울63오8607", "서울3오8607", "leading digits"),  # a grammatical read, one digit short
        ("921도7010", "92도7010", "leading digits"),
        ("166하2961", "166마2961", "class letter"),
        ("경남03고1815", "경남03고1825", "last four digits"),
        ("부산56바3472", "부산88배3472", "several parts"),
        ("164구5820", "164구582", "ungrammatical read"),
        ("12가3456", "", "nothing read"),
        ("12가345", "12가3456", "label not a plate"),
    ],
)
def test_misread_part(truth: str, read: str, part: str) -> None:
    assert misread_part(truth, read) == part


@pytest.mark.parametrize(
    ("truth", "read", "edits"),
    [
        ("12가3456", "12가3458", [("6", "8")]),
        ("123가4567", "23가4567", [("1", GAP)]),
        ("23가4567", "123가4567", [(GAP, "1")]),
        ("166하2961", "166마2961", [("하", "마")]),
        ("부산56바3472", "부산88배3472", [("5", "8"), ("6", "8"), ("바", "배")]),
        ("12가3456", "", [(c, GAP) for c in "12가3456"]),
        ("12가3456", "12가3456", []),
    ],
)
def test_confusions(truth: str, read: str, edits: list[tuple[str, str]]) -> None:
    assert confusions(truth, read) == edits


def test_breakdown_counts_every_misread_once() -> None:
    lines = breakdown(
        [
            ("166하2961", "166마2961", 0.99),
            ("889하0698", "889마0698", 0.4),
            ("서울63오8607", "서울3오8607", 0.996),
            ("12가3456", "", 0.0),
        ]
    )
    assert lines[0] == "misreads by part (4): leading digits 1, class letter 2, nothing read 1"
    assert lines[1] == "misreads of another length than the label: 1; reported at confidence >= 0.95: 2"
    assert lines[2].endswith(f"하→마 2, 6→{GAP} 1")  # an empty read is no confusion, only 'nothing read'


def test_breakdown_of_no_misreads() -> None:
    assert breakdown([]) == ["misreads by part: none"]
