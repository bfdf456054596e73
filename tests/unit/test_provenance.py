"""Seeded sets record what drew them, and `provenance check` tells the recorded draw from another."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from models.training import dataset, provenance

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["testset", "--out", "build/t", "--plates", "4", "--seed", "5"], "testset --plates 4 --seed 5"),
        (["testset", "--out=build/t", "--plates", "4"], "testset --plates 4"),
        (["testset", "--workers", "8", "--loose", "--out", "x"], "testset --loose"),
        (["testset", "--typefaces", "unseen"], "testset --typefaces unseen"),
    ],
)
def test_key_keeps_what_is_drawn_and_drops_where(args: list[str], expected: str) -> None:
    assert provenance.key(args) == expected


@pytest.fixture(scope="module")
def two_draws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same seeded set drawn into two folders by the command line, as `make testset` does."""
    dirs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name) / "set"
        assert dataset.main(["testset", "--out", str(out), "--plates", "3", "--seed", "11"]) == 0
        dirs.append(out)
    return dirs[0], dirs[1]


def test_testset_writes_its_provenance(two_draws: tuple[Path, Path]) -> None:
    a, _ = two_draws
    rec = provenance.read(a)
    assert rec["key"] == "testset --plates 3 --seed 11"
    assert rec["images"] == 3
    assert rec["digest"] == provenance.digest(a)[0]
    assert {"numpy", "opencv", "pillow", "freetype", "libavcodec"} <= set(rec["libraries"])
    assert rec["fonts"]["truetype/nanum/NanumGothicBold.ttf"] is not None


def test_same_draw_anywhere_has_the_same_digest(two_draws: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_draws
    assert provenance.digest(a) == provenance.digest(b)
    records = tmp_path / "records.json"
    assert provenance.main(["record", str(a), "--records", str(records)]) == 0
    assert provenance.main(["check", str(b), "--records", str(records), "--strict"]) == 0


def test_an_edited_image_is_not_the_recorded_draw(two_draws: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = two_draws
    edited = tmp_path / "set"
    edited.mkdir()
    (edited / "images").mkdir()
    for f in ("manifest.csv", provenance.PROVENANCE):
        (edited / f).write_bytes((a / f).read_bytes())
    for img in (a / "images").iterdir():
        (edited / "images" / img.name).write_bytes(img.read_bytes())
    victim = next((edited / "images").iterdir())
    data = bytearray(victim.read_bytes())
    data[-20] ^= 0xFF
    victim.write_bytes(bytes(data))
    records = {provenance.read(a)["key"]: provenance.read(a)}
    same, line = provenance.verdict(edited, records)
    assert not same and "changed after they were drawn" in line
    assert provenance.main(["check", str(edited), "--records", str(tmp_path / "none.json"), "--strict"]) == 1


def test_another_draw_names_the_ingredient_that_differs(two_draws: tuple[Path, Path]) -> None:
    a, _ = two_draws
    here = provenance.read(a)
    older = json.loads(json.dumps(here))
    older["digest"] = "0" * 64
    older["libraries"]["opencv"] = "4.14.0"
    font = "truetype/baekmuk/hline.ttf"
    older["fonts"][font] = None
    same, line = provenance.verdict(a, {here["key"]: older})
    assert not same
    assert "NOT the recorded draw" in line
    assert f"opencv 4.14.0 (recorded) -> {here['libraries']['opencv']} (here)" in line
    assert f"font {font}: not installed then" in line


def test_a_font_listed_after_the_record_is_not_named(two_draws: tuple[Path, Path]) -> None:
    # "built-many" added fonts after the seeded sets were recorded; they draw none of those sets
    a, _ = two_draws
    here = provenance.read(a)
    older = json.loads(json.dumps(here))
    older["digest"] = "0" * 64
    del older["fonts"]["truetype/woowa-bm/BMDOHYEON_ttf.ttf"]
    same, line = provenance.verdict(a, {here["key"]: older})
    assert not same and "BMDOHYEON" not in line
    assert "the synthesizer's code changed" in line


def test_same_ingredients_and_another_draw_blames_the_code(two_draws: tuple[Path, Path]) -> None:
    a, _ = two_draws
    here = provenance.read(a)
    same, line = provenance.verdict(a, {here["key"]: here | {"digest": "f" * 64}})
    assert not same and "the synthesizer's code changed" in line


def test_a_set_without_provenance_is_reported_not_taken_for_the_record(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("file,plate_text,x1,y1,x2,y2,kind\n")
    with pytest.raises(FileNotFoundError, match="drawn before provenance was recorded"):
        provenance.verdict(tmp_path, {})


def _makefile_testset_keys() -> set[str]:
    """The key of every seeded set the Makefile draws, its variables filled in from their defaults."""
    text = (ROOT / "Makefile").read_text()
    defaults = dict(re.findall(r"^(\w+) \?= (\S+)$", text, re.M))
    keys = set()
    for line in re.findall(r"-m models\.training\.dataset (testset [^\n]*)", text):
        filled = re.sub(r"\$\((\w+)\)", lambda m: defaults[m.group(1)], line)
        keys.add(provenance.key(filled.split()))
    return keys


def test_every_seeded_set_of_the_makefile_has_a_recorded_draw() -> None:
    """The shipped figures say which draw they were measured on; a new seed or size must be recorded."""
    keys = _makefile_testset_keys()
    assert len(keys) >= 6
    records = provenance.load_records()
    assert keys <= set(records), sorted(keys - set(records))
    for rec in records.values():
        assert len(rec["digest"]) == 64 and rec["images"] > 0
        assert set(rec["libraries"]) == set(provenance.libraries())
