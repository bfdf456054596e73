"""Score an eval against a person's audit: exact match on the plates a person can read.

A seeded set keeps every plate it draws, including those whose text the capture wiped out (a two-line
plate's top line 7 px tall under IR bloom). A person looking at each misread (``plate-edge eval
--sheet``) marks it ``illegible`` (no one could read the truth from these pixels), ``borderline`` (one
would have to guess) or ``legible``; the labels live in ``models/audits/`` with the digest of the draw
they were made on (`provenance`). This prints what the set's figure means in those terms: a person's
ceiling (every illegible plate missed) and the reader's exact match on the rest.

    python -m models.training.audit --audit models/audits/reader-v12-testset.csv \\
        --failures build/testset/failures.csv --manifest build/testset/manifest.csv

Trade-off: only misreads were judged, so an illegible plate the reader happened to read right stays in
the figure (it counts for the reader), and a misread nobody judged (another reader's, or another draw's)
counts as legible (against it). Judgements are of one draw: on another draw the plates' pixels differ
and the labels say little, so a draw that is not the audited one is named, not silently scored.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from models.training import provenance

JUDGEMENTS = ("illegible", "borderline", "legible")


@dataclass(frozen=True)
class Score:
    plates: int
    misreads: Counter[str]  # by judgement; "legible" includes misreads no one judged
    unjudged: int

    def exact_without(self, *left_out: str) -> float:
        """Exact match over the plates not judged ``left_out`` (their misreads and only those)."""
        n = self.plates - sum(self.misreads[j] for j in left_out)
        wrong = sum(v for j, v in self.misreads.items() if j not in left_out)
        return (n - wrong) / n if n else 0.0


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_audit(path: Path) -> tuple[dict[str, str], set[str]]:
    """{file: judgement} and the draw digests the audit names."""
    rows = _rows(path)
    bad = sorted({r["person"] for r in rows} - set(JUDGEMENTS))
    if bad:
        raise ValueError(f"{path}: unknown judgements {bad}; expected one of {JUDGEMENTS}")
    return {r["file"]: r["person"] for r in rows}, {r["set_digest"] for r in rows}


def score(audit: dict[str, str], failures: list[dict[str, str]], plates: int) -> Score:
    """Each misread of an eval (its ``--failures`` rows) under the audit's judgement of its plate."""
    misreads: Counter[str] = Counter()
    unjudged = 0
    for row in failures:
        judged = audit.get(row["file"])
        unjudged += judged is None
        misreads[judged or "legible"] += 1
    return Score(plates, misreads, unjudged)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.training.audit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--audit", type=Path, required=True, help="models/audits/*.csv")
    ap.add_argument("--failures", type=Path, required=True, help="plate-edge eval --failures OUT.csv")
    ap.add_argument("--manifest", type=Path, required=True, help="the manifest that eval scored")
    a = ap.parse_args(argv)
    audit, digests = load_audit(a.audit)
    plates = len(_rows(a.manifest))
    try:
        here = provenance.read(a.manifest.parent)["digest"]
    except FileNotFoundError:
        here = None
    if here is None or here not in digests:
        print(
            f"warning: {a.manifest.parent} is not the draw {a.audit.name} judged "
            f"({', '.join(d[:12] for d in sorted(digests))}; here {here[:12] if here else 'unknown'}): "
            "its labels say little about these pixels"
        )
    s = score(audit, _rows(a.failures), plates)
    counts = ", ".join(f"{s.misreads[j]} {j}" for j in JUDGEMENTS)
    print(f"misreads: {sum(s.misreads.values())} of {plates} plates ({counts}; {s.unjudged} not judged)")
    illegible = sum(j == "illegible" for j in audit.values())
    print(f"a person's ceiling ({illegible} plates judged illegible): at most {1 - illegible / plates:.4f}")
    print(f"exact on the plates a person can read (illegible left out): {s.exact_without('illegible'):.4f}")
    print(f"exact with the borderline plates left out too: {s.exact_without('illegible', 'borderline'):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
