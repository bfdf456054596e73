"""Allow and deny lists: which list a read plate is on, tolerant of the misreads a reader really makes.

The distance is a weighted edit distance in which substituting a character for one it is commonly
confused with costs `CONFUSION_COST` (half an edit) instead of 1: 바/배, 0/8, 1/7, 거/가 and the like.
So with ``max_distance: 1`` a list entry matches a read with one arbitrary error or with two look-alike
errors, but a genuinely different plate two characters away does not. A read with its region prefix
(``서울12가3456``) also matches an entry written without it (operators usually type the short form).

Trade-off: any tolerance on an allow list opens the barrier for a near-identical foreign plate; the
config's default is 0 (exact) and the docs say so.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass
from pathlib import Path

from edge.events import NO_LIST_MATCH, ListMatch
from edge.plate import is_valid, normalize_text, strip_region

log = logging.getLogger(__name__)

CONFUSION_COST = 0.5

#: Pairs the reader (and people) confuse: Hangul vowels ㅏ/ㅓ/ㅐ, similar consonants, digit shapes.
CONFUSABLE_PAIRS: tuple[str, ...] = (
    "바배", "바버", "버배", "가거", "자저", "아어", "나너", "다더", "라러", "마머", "사서",
    "고구", "노누", "도두", "로루", "모무", "보부", "소수", "오우", "조주",
    "하허", "허호", "하호",
    "08", "38", "35", "56", "68", "17", "14", "69", "89", "27",
)  # fmt: skip
_CONFUSABLE = frozenset(frozenset(p) for p in CONFUSABLE_PAIRS)


def substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return CONFUSION_COST if frozenset((a, b)) in _CONFUSABLE else 1.0


def plate_distance(a: str, b: str) -> float:
    """Weighted Levenshtein distance (insert/delete 1, look-alike substitution `CONFUSION_COST`)."""
    prev = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        cur = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + substitution_cost(ca, cb))
        prev = cur
    return prev[-1]


class ListFileError(ValueError):
    """A list file cannot be read; the message names the file and line."""


def list_file_text(path: Path) -> str:
    """The text of a list file: UTF-8 (a BOM from Excel or Notepad allowed) or UTF-16 with its BOM
    (Excel's "Unicode text"). `check-config --strict` calls this alone: it is all `run` can refuse.

    Other encodings are refused, not guessed: a Korean Windows "ANSI" file (CP949) decodes as UTF-8
    garbage or not at all, and a guessed encoding that is wrong would let no plate through.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ListFileError(f"{path}: cannot read the plate list: {e.strerror or e}") from e
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as e:
        found = "broken UTF-16" if utf16 else "not UTF-8"
        raise ListFileError(
            f"{path}: cannot read the plate list: {found} (byte {e.start}); save it as UTF-8 "
            "(Excel: 'CSV UTF-8'; Notepad: 'UTF-8')"
        ) from e


def read_list_file(path: Path) -> tuple[str, ...]:
    """Plates from a list file: one per line, ``#`` starts a comment, each entry written as the reader
    prints plates (`edge.plate.normalize_text`: spaces and group separators ignored, decomposed Hangul
    and full-width digits folded). An entry that is no plate by the grammar is kept, since it can still
    match within ``max_distance``, but logged with its line: it is nearly always a typo."""
    plates = []
    for number, line in enumerate(list_file_text(path).splitlines(), start=1):
        entry = normalize_text(line.split("#", 1)[0])
        if not entry:
            continue
        if not is_valid(entry):
            log.warning("%s:%d: %r is not a Korean plate; kept, but check it for a typo", path, number, entry)
        plates.append(entry)
    return tuple(plates)


@dataclass(frozen=True)
class PlateList:
    name: str  # "allow" or "deny"
    plates: tuple[str, ...]
    max_distance: float

    def match(self, text: str) -> tuple[str, float] | None:
        """The closest entry within ``max_distance`` of ``text`` and its distance, or None."""
        best: tuple[str, float] | None = None
        short = strip_region(text)
        for entry in self.plates:
            # An entry without a region matches the read with its region removed.
            probe = short if strip_region(entry) == entry else text
            d = plate_distance(probe, entry)
            if d <= self.max_distance and (best is None or d < best[1]):
                best = (entry, d)
                if d == 0:
                    break
        return best


class PlateLists:
    """The site's lists. Deny is checked first: a plate on both is flagged, never waved through."""

    def __init__(self, lists: list[PlateList]) -> None:
        self.lists = sorted(lists, key=lambda pl: pl.name != "deny")

    @classmethod
    def from_config(cls, config: object) -> PlateLists:
        """From a `edge.config.ListsConfig` (files are read now: a bad file stops start-up)."""
        lists = []
        for name in ("deny", "allow"):
            cfg = getattr(config, name, None)
            if cfg is not None:
                plates = read_list_file(cfg.file)
                log.info("%s list: %d plates from %s", name, len(plates), cfg.file)
                lists.append(PlateList(name, plates, float(cfg.max_distance)))
        return cls(lists)

    def lookup(self, text: str) -> ListMatch:
        for plate_list in self.lists:
            found = plate_list.match(text)
            if found is not None:
                entry, distance = found
                return ListMatch(plate_list.name, entry, distance)  # type: ignore[arg-type]
        return NO_LIST_MATCH
