"""Korean licence-plate grammar: what a plate may say, what kind it is, and how to read one from CTC output.

The grammar is the strongest prior we have. A reader that knows a plate is ``\\d{2,3}`` + one Hangul +
``\\d{4}`` cannot invent a region prefix on a plain plate or read a bolt as a fifth digit. Every read is
decoded twice: unconstrained (what the pixels say) and constrained to the grammar (what a plate can say);
a ``valid`` read is always grammatical, and the unconstrained read is kept when nothing grammatical fits.

Two-line plates are read line by line (an "area" each); the line grammars below (`LineRole`) constrain
each area, and the joined text is validated as a whole.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

DIGITS = "0123456789"
REGIONS: tuple[str, ...] = (
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종",
    "경기", "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주",
)  # fmt: skip
HANGUL_PRIVATE = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"
HANGUL_COMMERCIAL = "바사아자"
HANGUL_DELIVERY = "배"
HANGUL_RENTAL = "하허호"
# Military (육해공국합) and diplomatic series; read them, never guess them.
HANGUL_SPECIAL = "육해공국합외"
USE_HANGUL = HANGUL_PRIVATE + HANGUL_COMMERCIAL + HANGUL_DELIVERY + HANGUL_RENTAL + HANGUL_SPECIAL

_REGION_CHARS = "".join(sorted({c for r in REGIONS for c in r} - set(USE_HANGUL)))
#: The reader's alphabet, index 0 is the CTC blank. Order is part of the model contract (manifest).
CHARSET: str = DIGITS + USE_HANGUL + _REGION_CHARS
BLANK = 0
#: A reader trained with occluders (manifest ``hidden_class``) has one class more, after `CHARSET`: a
#: character it sees is there but hidden (a tow bar, mud, a sticker). It is never part of a plate text;
#: `decode_line` turns it into doubt.
HIDDEN = "?"

KINDS = ("private", "commercial", "rental", "delivery", "ev", "special", "unknown")

_REGION_RE = "|".join(REGIONS)
_H = f"[{USE_HANGUL}]"
# re.ASCII: `\d` is 0-9 only (not full-width or other Unicode digits, which CHARSET cannot produce);
# `\Z`, not `$`, which would also accept a trailing newline.
PLATE_RE = re.compile(
    rf"^(?:(?P<region>{_REGION_RE})(?P<rd>\d{{1,2}})|(?P<d>\d{{2,3}})){_H}\d{{4}}\Z", re.ASCII
)


class LineRole(enum.Enum):
    """Which part of a plate an area holds; each has its own grammar."""

    SINGLE = "single"  # a whole one-line plate
    TOP = "top"  # two-line plate, top line: region + 1-2 digits (or 2-3 digits without region)
    BOTTOM = "bottom"  # two-line plate, bottom line: Hangul + 4 digits


def is_valid(text: str) -> bool:
    """True when ``text`` (no spaces) is a grammatical Korean plate."""
    return PLATE_RE.match(text) is not None


def plate_parts(text: str) -> tuple[str, str, str, str] | None:
    """(region, leading digits, class letter, last four digits) of a grammatical plate, else None."""
    m = PLATE_RE.match(text)
    if m is None:
        return None
    region = m.group("region") or ""
    lead = m.group("rd") or m.group("d")
    return region, lead, text[len(region) + len(lead)], text[-4:]


def plate_kind(text: str, colour: str | None = None) -> str:
    """Classify a plate by its Hangul (use) and, for EV, its colour.

    Colour wins only for EV (blue): yellow/green plates still say their use through the Hangul, and the
    Hangul is what the grammar checks. Returns one of `KINDS`.
    """
    parts = plate_parts(text)
    if parts is None:
        return "unknown"
    hangul = parts[2]
    if hangul in HANGUL_SPECIAL:
        return "special"
    if colour == "blue":
        return "ev"
    if hangul in HANGUL_COMMERCIAL:
        return "commercial"
    if hangul in HANGUL_DELIVERY:
        return "delivery"
    if hangul in HANGUL_RENTAL:
        return "rental"
    return "private"


#: Characters a person may type between a plate's groups that no plate prints.
_SEPARATORS = str.maketrans("", "", "-_.·・•‐‑–—")


def normalize_text(raw: str) -> str:
    """A plate as a person typed it (a label, an allow-list entry) in the form the reader prints it.

    NFKC, then no whitespace and no group separators (``12가-3456``, ``123·가·4567``). Text saved on
    macOS may hold decomposed Hangul (가 as ᄀ + ᅡ), which never equals the reader's precomposed 가;
    some input methods give full-width digits (１２가３４５６) or compatibility jamo. NFKC composes
    and folds all of these and never changes a Hangul syllable or an ASCII digit, so clean text is
    returned as it was.
    """
    return "".join(unicodedata.normalize("NFKC", raw).split()).translate(_SEPARATORS)


def strip_region(text: str) -> str:
    """The plate without its region prefix (for 'exact ignoring region' scoring)."""
    for region in REGIONS:
        if text.startswith(region):
            return text[len(region) :]
    return text


def split_two_line(text: str) -> tuple[str, str]:
    """Split a full plate into (top, bottom) as printed on a two-line plate: Hangul + 4 digits below."""
    return text[:-5], text[-5:]


# --- grammar as slot sequences -------------------------------------------------------------------------

Slots = tuple[str, ...]  # each slot: the set of characters allowed there


def _alternatives(role: LineRole) -> list[Slots]:
    d, h = DIGITS, USE_HANGUL
    regions = [tuple(r) for r in REGIONS]
    if role is LineRole.BOTTOM:
        return [(h, d, d, d, d)]
    if role is LineRole.TOP:
        alts: list[Slots] = [(d, d), (d, d, d)]
        for r in regions:
            alts += [(*r, d), (*r, d, d)]
        return alts
    alts = [(d, d, h, d, d, d, d), (d, d, d, h, d, d, d, d)]
    for r in regions:
        alts += [(*r, d, h, d, d, d, d), (*r, d, d, h, d, d, d, d)]
    return alts


_ALTS: dict[LineRole, list[Slots]] = {role: _alternatives(role) for role in LineRole}


def line_is_valid(text: str, role: LineRole) -> bool:
    """True when ``text`` fits the grammar of one line of the given role."""
    return any(len(a) == len(text) and all(c in s for c, s in zip(text, a, strict=True)) for a in _ALTS[role])


# --- CTC decoding --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRead:
    """One area's read: text, per-character confidences, and whether it fits its line grammar."""

    text: str
    char_conf: tuple[float, ...]
    valid: bool
    raw_text: str  # the unconstrained (greedy) read, kept for diagnosis

    @property
    def confidence(self) -> float:
        """Joint confidence: the product of character confidences (calibrated later in `edge.ocr`)."""
        return float(np.prod(self.char_conf)) if self.char_conf else 0.0


def greedy_decode(probs: np.ndarray, charset: str = CHARSET) -> tuple[str, tuple[float, ...]]:
    """Best-path CTC decoding. ``probs``: (T, C) softmax output, class 0 = blank.

    A character's confidence is its peak probability over the frames that emitted it.
    """
    best = probs.argmax(axis=1)
    text: list[str] = []
    conf: list[float] = []
    prev = BLANK
    for t, k in enumerate(best):
        k = int(k)
        if k != BLANK and k != prev:
            text.append(charset[k - 1])
            conf.append(float(probs[t, k]))
        elif k != BLANK and k == prev:
            conf[-1] = max(conf[-1], float(probs[t, k]))
        prev = k
    return "".join(text), tuple(conf)


@dataclass(frozen=True)
class _Beam:
    text: str
    states: frozenset[tuple[int, int]]  # (alternative index, slots filled)
    conf: tuple[float, ...]


def constrained_decode(
    probs: np.ndarray,
    role: LineRole,
    charset: str = CHARSET,
    beam_width: int = 16,
    min_prob: float = 1e-3,
) -> tuple[str, tuple[float, ...]] | None:
    """CTC prefix beam search restricted to the line grammar of ``role``.

    Returns the most probable grammatical text and its per-character confidences, or ``None`` when no
    grammatical text has non-negligible probability. Characters below ``min_prob`` at a frame are not
    expanded there: that keeps the search to a handful of candidates per frame (about 1.5 ms of Python for
    T=64) at the cost of never proposing a character the network gave essentially zero mass.
    """
    alts = _ALTS[role]
    index = {c: i + 1 for i, c in enumerate(charset)}
    # beams: key text -> (p_blank, p_nonblank, beam)
    start = _Beam("", frozenset((a, 0) for a in range(len(alts))), ())
    beams: dict[str, tuple[float, float, _Beam]] = {"": (1.0, 0.0, start)}
    for t in range(probs.shape[0]):
        row = probs[t]
        candidates = [k for k in np.nonzero(row >= min_prob)[0].tolist() if k != BLANK]
        nxt: dict[str, tuple[float, float, _Beam]] = {}

        def add(
            key: str, pb: float, pnb: float, beam: _Beam, into: dict[str, tuple[float, float, _Beam]]
        ) -> None:
            if key in into:
                ob, onb, obeam = into[key]
                conf = tuple(max(a, b) for a, b in zip(obeam.conf, beam.conf, strict=True))
                into[key] = (ob + pb, onb + pnb, _Beam(beam.text, beam.states, conf))
            else:
                into[key] = (pb, pnb, beam)

        for key, (pb, pnb, beam) in beams.items():
            total = pb + pnb
            add(key, total * float(row[BLANK]), 0.0, beam, nxt)
            if beam.text:
                last = index[beam.text[-1]]
                p = float(row[last])
                conf = (*beam.conf[:-1], max(beam.conf[-1], p))
                add(key, 0.0, pnb * p, _Beam(beam.text, beam.states, conf), nxt)
            for k in candidates:
                ch = charset[k - 1]
                states = frozenset(
                    (a, n + 1) for a, n in beam.states if n < len(alts[a]) and ch in alts[a][n]
                )
                if not states:
                    continue
                p = float(row[k])
                # repeated character needs a blank in between
                mass = pb * p if beam.text and beam.text[-1] == ch else total * p
                if mass <= 0.0:
                    continue
                new = _Beam(beam.text + ch, states, (*beam.conf, p))
                add(new.text, 0.0, mass, new, nxt)
        beams = dict(sorted(nxt.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:beam_width])
    complete = [
        (pb + pnb, beam) for pb, pnb, beam in beams.values() if any(n == len(alts[a]) for a, n in beam.states)
    ]
    if not complete:
        return None
    _, best = max(complete, key=lambda x: x[0])
    return best.text, best.conf


def decode_line(probs: np.ndarray, role: LineRole, charset: str = CHARSET) -> LineRead:
    """Decode one area: constrained to its grammar when anything grammatical fits, else the raw read.

    With a ``charset`` ending in `HIDDEN` (a reader trained with occluders) the read is doubted by the
    most the reader believed, at any frame, that a character there is hidden: `doubt_hidden`.
    """
    read = _decode(probs, role, charset)
    if charset.endswith(HIDDEN):
        return doubt_hidden(read, float(probs[:, len(charset)].max()))
    return read


def _decode(probs: np.ndarray, role: LineRole, charset: str) -> LineRead:
    raw, raw_conf = greedy_decode(probs, charset)
    if line_is_valid(raw, role):
        return LineRead(raw, raw_conf, True, raw)
    fitted = constrained_decode(probs, role, charset)
    if fitted is None:
        return LineRead(raw, raw_conf, False, raw)
    return LineRead(fitted[0], fitted[1], True, raw)


def doubt_hidden(read: LineRead, hidden: float) -> LineRead:
    """``read`` with its joint confidence times (1 - ``hidden``), the chance that a character is hidden.

    A hidden character leaves no trace in the text: the grammar fills the line without it (937수2500
    with its first digit under a tow bar is the valid 93수2500), so its doubt can only come from the
    hidden class. The doubt is shared evenly by the characters, since the decoded text does not say
    which of them stands next to the hidden one; the raw read (with `HIDDEN` in it) does, for diagnosis.
    """
    if hidden <= 0.0 or not read.char_conf:
        return read
    share = max(1.0 - hidden, 0.0) ** (1.0 / len(read.char_conf))
    return replace(read, char_conf=tuple(c * share for c in read.char_conf))


def join_lines(reads: Sequence[LineRead]) -> str:
    """The plate text of one or two areas, top line first."""
    return "".join(r.text for r in reads)
