"""Scoring an eval against a person's audit, and the committed audit itself."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from edge.plate import is_valid
from models.training import audit, provenance

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("misreads", "left_out", "expected"),
    [
        ({"illegible": 8, "borderline": 2, "legible": 0}, ("illegible",), (100 - 8 - 2) / (100 - 8)),
        ({"illegible": 8, "borderline": 2, "legible": 0}, ("illegible", "borderline"), 1.0),
        ({"illegible": 8, "borderline": 2, "legible": 1}, (), (100 - 11) / 100),
        ({"illegible": 0, "borderline": 0, "legible": 5}, ("illegible",), 0.95),
    ],
)
def test_exact_without_leaves_out_the_plates_and_their_misreads(
    misreads: dict[str, int], left_out: tuple[str, ...], expected: float
) -> None:
    assert audit.Score(100, Counter(misreads), 0).exact_without(*left_out) == pytest.approx(expected)


def test_a_misread_nobody_judged_counts_against_the_reader() -> None:
    judged = {"a.png": "illegible", "b.png": "borderline"}
    s = audit.score(judged, [{"file": "a.png"}, {"file": "c.png"}], plates=10)
    assert s.misreads == Counter({"illegible": 1, "legible": 1})
    assert s.unjudged == 1
    assert s.exact_without("illegible") == pytest.approx(8 / 9)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_an_unknown_judgement_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path / "a.csv", [{"file": "x.png", "person": "unreadable", "set_digest": "0" * 64}])
    with pytest.raises(ValueError, match="unknown judgements \\['unreadable'\\]"):
        audit.load_audit(bad)


def test_another_draw_is_named_not_silently_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_dir = tmp_path / "set"
    set_dir.mkdir()
    manifest = _write(
        set_dir / "manifest.csv", [{"file": f"{i}.png", "plate_text": "12가3456"} for i in range(4)]
    )
    judged = _write(
        tmp_path / "audit.csv",
        [{"file": "0.png", "person": "illegible", "set_digest": "a" * 64}],
    )
    failures = _write(tmp_path / "f.csv", [{"file": "0.png"}, {"file": "1.png"}])
    assert audit.main(["--audit", str(judged), "--failures", str(failures), "--manifest", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "is not the draw audit.csv judged (aaaaaaaaaaaa; here unknown)" in out
    assert "misreads: 2 of 4 plates (1 illegible, 0 borderline, 1 legible; 1 not judged)" in out
    assert "exact on the plates a person can read (illegible left out): 0.6667" in out


@pytest.mark.parametrize(
    ("audited", "key"),
    [
        ("reader-v12-testset.csv", "testset --plates 4500 --seed 9001"),
        ("reader-v12-testset-loose.csv", "testset --plates 1500 --seed 9201 --loose"),
        ("reader-v12-testset-unseen.csv", "testset --plates 1500 --seed 9401 --typefaces unseen"),
        ("reader-v13-testset.csv", "testset --plates 4500 --seed 9001"),
        ("reader-v13-testset-loose.csv", "testset --plates 1500 --seed 9201 --loose"),
        ("reader-v13-testset-unseen.csv", "testset --plates 1500 --seed 9401 --typefaces unseen"),
    ],
)
def test_a_committed_audit_judges_the_recorded_draw_of_its_set(audited: str, key: str) -> None:
    """Every label is one of three, every truth a grammatical plate, and the draw it judged is the one
    the shipped figures were measured on (models/testsets.json)."""
    path = ROOT / "models" / "audits" / audited
    judged, digests = audit.load_audit(path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(judged) == len(rows) > 0  # one row per plate
    assert all(is_valid(r["truth"]) for r in rows)
    assert digests == {provenance.load_records()[key]["digest"]}
