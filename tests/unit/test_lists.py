"""Allow/deny lists: look-alike-aware distance, region-less entries, deny first, file errors."""

from __future__ import annotations

import codecs
import logging
import unicodedata
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
    bad.write_bytes("12가3456\n".encode("cp949"))  # Korean Windows "ANSI": refused, never guessed
    with pytest.raises(ListFileError, match=r"allow\.txt: cannot read the plate list: not UTF-8 .*as UTF-8"):
        read_list_file(bad)
    with pytest.raises(ListFileError, match=r"missing\.txt"):
        read_list_file(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("data", "entries"),
    [
        ("12가3456\n34나5678\n".encode(), ("12가3456", "34나5678")),
        (codecs.BOM_UTF8 + "12가3456\n".encode(), ("12가3456",)),  # Excel's "CSV UTF-8", Notepad
        ("12가3456\r\n34나5678\r\n".encode("utf-16"), ("12가3456", "34나5678")),  # Excel's "Unicode text"
        (unicodedata.normalize("NFD", "서울12가3456\n").encode(), ("서울12가3456",)),  # saved on macOS
        ("１２가３４５６\n12가-3456\n\t123·가·4567 # van\n".encode(), ("12가3456", "12가3456", "123가4567")),
    ],
    ids=["utf-8", "utf-8 with BOM", "utf-16", "decomposed Hangul", "typed by hand"],
)
def test_list_entries_are_read_as_the_reader_prints_plates(
    tmp_path: Path, data: bytes, entries: tuple[str, ...]
) -> None:
    path = tmp_path / "allow.txt"
    path.write_bytes(data)
    assert read_list_file(path) == entries
    assert PlateList("allow", entries, 0).match(entries[0]) == (entries[0], 0.0)


def test_an_entry_that_is_no_plate_is_kept_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "allow.txt"
    path.write_text("# staff\n12가3456\n12가345\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="edge.lists"):
        assert read_list_file(path) == ("12가3456", "12가345")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "allow.txt:3: '12가345' is not a Korean plate" in messages[0]
