"""Allow/deny lists: look-alike-aware distance, region-less entries, deny first, file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config_schema import ListsConfig, PlateListConfig
from edge.lists import ListFileError, PlateList, PlateLists, plate_distance, read_list_file


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("12가3456", "12가3456", 0.0),
        ("12바3456", "12배3456", 0.5),  # 바/배: the classic vowel confusion
        ("12가3456", "12가3451", 1.0),  # 6/1 is not in the look-alike table
        ("12가3450", "12가3458", 0.5),  # 0/8 is
        ("17가3456", "11가3456", 0.5),  # 1/7
        ("12가3456", "12가345", 1.0),  # a lost character
        ("12가3456", "98나7654", 6.0),  # the 5 stays
        ("", "12가3456", 7.0),
    ],
)
def test_plate_distance(a: str, b: str, distance: float) -> None:
    assert plate_distance(a, b) == distance
    assert plate_distance(b, a) == distance


@pytest.mark.parametrize(
    ("entries", "max_distance", "read", "expected"),
    [
        (["12가3456"], 0, "12가3456", ("12가3456", 0.0)),
        (["12가3456"], 0, "12거3456", None),
        (["12가3456"], 0.5, "12거3456", ("12가3456", 0.5)),
        (["12가3456"], 1, "12나3456", ("12가3456", 1.0)),
        (["12가3456"], 0, "서울12가3456", ("12가3456", 0.0)),  # entry without its region
        (["서울12가3456"], 0, "부산12가3456", None),  # an entry WITH a region must match it
        (["12가3456", "12가3457"], 1, "12가3457", ("12가3457", 0.0)),  # the closest wins
    ],
)
def test_list_match(
    entries: list[str], max_distance: float, read: str, expected: tuple[str, float] | None
) -> None:
    assert PlateList("allow", tuple(entries), max_distance).match(read) == expected


def test_deny_is_checked_before_allow() -> None:
    lists = PlateLists([PlateList("allow", ("12가3456",), 0), PlateList("deny", ("12가3456",), 0)])
    assert lists.lookup("12가3456").name == "deny"
    assert lists.lookup("99가9999").name is None


def test_list_files_from_config(tmp_path: Path) -> None:
    (tmp_path / "allow.txt").write_text("# staff\n12가 3456  # director\n\n34나5678\n", encoding="utf-8")
    (tmp_path / "deny.txt").write_text("56다7890\n", encoding="utf-8")
    cfg = ListsConfig(
        allow=PlateListConfig(file=tmp_path / "allow.txt"),
        deny=PlateListConfig(file=tmp_path / "deny.txt", max_distance=1),
    )
    lists = PlateLists.from_config(cfg)
    assert lists.lookup("12가3456").to_dict() == {"name": "allow", "matched": "12가3456", "distance": 0.0}
    assert lists.lookup("56다7891").name == "deny"


def test_unreadable_list_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "allow.txt"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ListFileError, match=r"allow\.txt"):
        read_list_file(bad)
    with pytest.raises(ListFileError, match=r"missing\.txt"):
        read_list_file(tmp_path / "missing.txt")
