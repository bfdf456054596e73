"""Which part of a plate a misread got wrong, and which characters it confused: the breakdown
`plate-edge eval` prints after its figures, so that a report on a set we never see (the private real
set) already says where to look.

Parts follow the plate grammar (`edge.plate.plate_parts`): region name, leading digits, class letter (the
Hangul), last four digits. A misread with more than one part wrong counts once, as "several parts"; a
read that is no grammatical plate as "ungrammatical read"; an empty read as "nothing read"; a label that
is itself no plate as "label not a plate". Wrong lengths are counted apart as well, whatever the part
(23가4567 for 123가4567 is a leading-digits misread of another length), because a dropped or invented
character is the error a plate's own layout should have prevented.

Confusions align truth and read by edit distance, so 12가3456 read 12가3458 is 6→8 and 123가4567 read
23가4567 is 1→∅ (dropped). Where two alignments cost the same, substitutions are preferred: a read of
the right length never reports a drop and an insertion for one wrong character.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from edge.plate import plate_parts

PARTS = ("region", "leading digits", "class letter", "last four digits")
OTHER_KINDS = ("several parts", "ungrammatical read", "nothing read", "label not a plate")
#: Reported confidence from which a misread is "sure": the kind a barrier acts on.
SURE = 0.95
GAP = "∅"


def misread_part(truth: str, read: str) -> str:
    """The part a misread got wrong (one of `PARTS`), or one of `OTHER_KINDS`. ``truth != read``."""
    if not read:
        return "nothing read"
    got, want = plate_parts(read), plate_parts(truth)
    if got is None:
        return "ungrammatical read"
    if want is None:
        return "label not a plate"
    wrong = [name for name, a, b in zip(PARTS, want, got, strict=True) if a != b]
    return wrong[0] if len(wrong) == 1 else "several parts"


def confusions(truth: str, read: str) -> list[tuple[str, str]]:
    """The character edits that turn ``truth`` into ``read``, in reading order: (truth char, read char),
    with `GAP` for a dropped or an invented character."""
    n, m = len(truth), len(read)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                cost[i][j] = i + j
            else:
                cost[i][j] = min(
                    cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]),
                    cost[i - 1][j] + 1,
                    cost[i][j - 1] + 1,
                )
    edits: list[tuple[str, str]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]):
            if truth[i - 1] != read[j - 1]:
                edits.append((truth[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            edits.append((truth[i - 1], GAP))
            i -= 1
        else:
            edits.append((GAP, read[j - 1]))
            j -= 1
    return edits[::-1]


def breakdown(misreads: Sequence[tuple[str, str, float]], top: int = 12) -> list[str]:
    """The lines eval prints for its misreads, each given as (truth, read, reported confidence)."""
    if not misreads:
        return ["misreads by part: none"]
    parts = Counter(misread_part(t, r) for t, r, _c in misreads)
    order = [p for p in (*PARTS, *OTHER_KINDS) if parts[p]]
    other_length = sum(bool(r) and len(r) != len(t) for t, r, _c in misreads)
    sure = sum(c >= SURE for _t, _r, c in misreads)
    edits = Counter(e for t, r, _c in misreads if r for e in confusions(t, r))
    return [
        f"misreads by part ({len(misreads)}): " + ", ".join(f"{p} {parts[p]}" for p in order),
        f"misreads of another length than the label: {other_length}; "
        f"reported at confidence >= {SURE}: {sure}",
        f"character confusions, truth→read ({GAP}: dropped or invented): "
        + (", ".join(f"{a}→{b} {k}" for (a, b), k in edits.most_common(top)) or "none"),
    ]
