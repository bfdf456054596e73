"""`plate-edge eval` helpers (`edge.evaluate`): the character-height table, edit distance, the manifest."""

from __future__ import annotations

import argparse
import logging
import unicodedata
from pathlib import Path

import pytest

from edge.evaluate import (
    configure,
    edit_distance,
    prepare_outputs,
    read_manifest,
    size_bin,
    size_table,
)


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


@pytest.mark.parametrize(
    ("row", "warned"),
    [
        ("a.png,12가3456,,,,,crop", False),
        ("a.png,,,,,,crop", True),
        ("a.png, ,,,,,crop", True),
        ("a.png,,,,,,scene", False),  # a scene frame may hold no plate at all
    ],
)
def test_an_unlabelled_crop_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, row: str, warned: bool
) -> None:
    m = tmp_path / "m.csv"
    m.write_text("file,plate_text,x1,y1,x2,y2,kind\n" + row + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="edge.evaluate"):
        rows = list(read_manifest(m))
    assert len(rows) == 1
    assert any("m.csv:2: a.png has no plate_text" in r.getMessage() for r in caplog.records) == warned


def test_output_folders_are_made_before_reading(tmp_path: Path) -> None:
    assert prepare_outputs(tmp_path / "a" / "fail.csv", tmp_path / "b" / "sheet") == ""
    assert (tmp_path / "a").is_dir() and (tmp_path / "b" / "sheet").is_dir()
    (tmp_path / "file").write_text("x")
    problem = prepare_outputs(None, tmp_path / "file" / "sheet")
    assert problem.startswith(f"--sheet: cannot create folder {tmp_path / 'file' / 'sheet'}")
    assert prepare_outputs(None, None) == ""


@pytest.mark.parametrize("task", ["detect", "e2e"])
def test_sheet_is_refused_outside_the_ocr_task(
    tmp_path: Path, task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    run = configure(parser)
    args = parser.parse_args(
        ["--manifest", str(tmp_path / "m.csv"), "--task", task, "--sheet", str(tmp_path)]
    )
    assert run(args) == 2
    assert "--sheet is for --task ocr" in capsys.readouterr().out


def test_a_decomposed_label_and_file_name_score_like_composed_ones(tmp_path: Path) -> None:
    """A set labelled on macOS: NFD Hangul in the CSV and in the file names on disk."""
    composed = "서울12가3456"
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / unicodedata.normalize("NFD", f"{composed}.png")).write_bytes(b"x")
    m = tmp_path / "m.csv"
    label = unicodedata.normalize("NFD", composed)
    m.write_text(f"file,plate_text,x1,y1,x2,y2,kind\n{composed}.png,{label},,,,,crop\n", encoding="utf-8")
    (row,) = read_manifest(m)
    assert row.text == composed
    assert row.path.exists()
