"""Korean plate grammar (`edge.plate`): validation, kinds, line grammars, and CTC decoding.

The decoding tests build synthetic CTC outputs (T x (len(CHARSET) + 1), class 0 = blank, rows summing
to 1) with characters at chosen frames and chosen confidences, so every expected read can be worked
out by hand.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from edge.plate import (
    BLANK,
    CHARSET,
    DIGITS,
    HANGUL_COMMERCIAL,
    HANGUL_DELIVERY,
    HANGUL_PRIVATE,
    HANGUL_RENTAL,
    HANGUL_SPECIAL,
    HIDDEN,
    KINDS,
    REGIONS,
    USE_HANGUL,
    LineRead,
    LineRole,
    constrained_decode,
    decode_line,
    doubt_hidden,
    greedy_decode,
    is_valid,
    join_lines,
    line_is_valid,
    normalize_text,
    plate_kind,
    split_two_line,
    strip_region,
)

# --- grammar: whole plates -----------------------------------------------------------------------------

VALID = [
    "12가3456",  # current 7-character private
    "123가4567",  # current 8-character private
    "서울12가3456",  # region-prefixed, 2 digits
    "경기1바1234",  # region-prefixed, 1 digit
    "제주99하9999",
    "00가0000",
    "12바3456",  # commercial
    "12사3456",
    "12아3456",
    "12자3456",
    "부산12바3456",
    "12배3456",  # delivery
    "인천7배1234",
    "12하3456",  # rental
    "12허3456",
    "12호3456",
    "123호4567",
    "12육3456",  # special: military
    "12해3456",
    "12공3456",
    "12국3456",
    "12합3456",
    "123외4567",  # special: diplomatic
]

INVALID = [
    "1가3456",  # 1 leading digit without a region
    "1234가5678",  # 4 leading digits
    "12가345",  # 3 trailing digits
    "12가34567",  # 5 trailing digits
    "12A3456",  # Latin letter for the Hangul
    "12가345O",  # Latin O for a zero
    "AB12가3456",
    "12가 3456",  # spaces
    " 12가3456",
    "12가3456 ",
    "서울 12가3456",
    "서울123가4567",  # region with 3 digits
    "서울가3456",  # region with no digits
    "평양12가3456",  # unknown region
    "서12가3456",  # half a region
    "12힣3456",  # Hangul that is no plate's
    "12울3456",  # a region's Hangul is not a use Hangul
    "서울",  # a region on its own
    "",
    "가나",  # two Hangul
    "12가나3456",
    "가123456",
    "12가3456가",
    "12가3456\n",  # `$` would accept a trailing newline
    "１２가３４５６",  # full-width digits: `\d` without re.ASCII would accept them
    "١٢가٣٤٥٦",  # Arabic-Indic digits
]


@pytest.mark.parametrize("text", VALID)
def test_is_valid_accepts(text: str) -> None:
    assert is_valid(text)


@pytest.mark.parametrize("text", INVALID)
def test_is_valid_rejects(text: str) -> None:
    assert not is_valid(text)


@pytest.mark.parametrize("hangul", USE_HANGUL)
def test_every_use_hangul_is_valid_in_both_lengths(hangul: str) -> None:
    assert is_valid(f"12{hangul}3456")
    assert is_valid(f"123{hangul}4567")


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_takes_one_or_two_digits(region: str) -> None:
    assert is_valid(f"{region}1가3456")
    assert is_valid(f"{region}12가3456")
    assert not is_valid(f"{region}123가3456")
    assert not is_valid(f"{region}가3456")


@pytest.mark.parametrize("text", VALID + INVALID)
def test_single_line_grammar_agrees_with_is_valid(text: str) -> None:
    assert line_is_valid(text, LineRole.SINGLE) == is_valid(text)


def test_charset_layout() -> None:
    assert BLANK == 0
    assert CHARSET.startswith(DIGITS + USE_HANGUL)
    assert len(set(CHARSET)) == len(CHARSET)
    region_chars = {c for r in REGIONS for c in r}
    assert region_chars <= set(CHARSET)
    assert set(CHARSET) == set(DIGITS) | set(USE_HANGUL) | region_chars


# --- kinds ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "colour", "kind"),
    [
        ("12가3456", None, "private"),
        ("123가4567", "white", "private"),
        ("서울12가3456", None, "private"),
        ("12가3456", "yellow", "private"),  # colour says nothing unless it is blue
        ("12가3456", "green", "private"),
        ("12바3456", "yellow", "commercial"),
        ("12자3456", None, "commercial"),
        ("부산12바3456", "yellow", "commercial"),  # the region's 부 is not the use Hangul
        ("12배3456", None, "delivery"),
        ("경기1배1234", "yellow", "delivery"),
        ("12하3456", None, "rental"),
        ("12허3456", None, "rental"),
        ("123호4567", None, "rental"),
        ("12육3456", None, "special"),
        ("12합3456", None, "special"),
        ("123외4567", None, "special"),
        ("12가3456", "blue", "ev"),
        ("123하4567", "blue", "ev"),
        ("12바3456", "blue", "ev"),
        ("12육3456", "blue", "special"),  # special wins over blue
        ("12국3456", "blue", "special"),
        ("12가345", None, "unknown"),
        ("12가345", "blue", "unknown"),
        ("", None, "unknown"),
        ("12힣3456", None, "unknown"),
        ("12가3456\n", None, "unknown"),
    ],
)
def test_plate_kind(text: str, colour: str | None, kind: str) -> None:
    assert plate_kind(text, colour) == kind
    assert kind in KINDS


@pytest.mark.parametrize(
    ("pool", "kind"),
    [
        (HANGUL_PRIVATE, "private"),
        (HANGUL_COMMERCIAL, "commercial"),
        (HANGUL_DELIVERY, "delivery"),
        (HANGUL_RENTAL, "rental"),
        (HANGUL_SPECIAL, "special"),
    ],
)
def test_plate_kind_covers_every_hangul_of_a_use(pool: str, kind: str) -> None:
    assert {plate_kind(f"12{h}3456") for h in pool} == {kind}
    assert {plate_kind(f"대전3{h}3456") for h in pool} == {kind}


# --- region and lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("서울12가3456", "12가3456"),
        ("경기1바1234", "1바1234"),
        ("제주99하9999", "99하9999"),
        ("12가3456", "12가3456"),
        ("123가4567", "123가4567"),
        ("평양12가3456", "평양12가3456"),
        ("", ""),
    ],
)
def test_strip_region(text: str, stripped: str) -> None:
    assert strip_region(text) == stripped


@pytest.mark.parametrize(
    ("text", "top", "bottom"),
    [
        ("서울12가3456", "서울12", "가3456"),
        ("경기1바1234", "경기1", "바1234"),
        ("12가3456", "12", "가3456"),
        ("123가4567", "123", "가4567"),
    ],
)
def test_split_two_line(text: str, top: str, bottom: str) -> None:
    assert split_two_line(text) == (top, bottom)
    assert line_is_valid(top, LineRole.TOP)
    assert line_is_valid(bottom, LineRole.BOTTOM)
    assert top + bottom == text


@pytest.mark.parametrize("text", VALID)
def test_every_valid_plate_splits_into_valid_lines(text: str) -> None:
    top, bottom = split_two_line(text)
    assert line_is_valid(top, LineRole.TOP)
    assert line_is_valid(bottom, LineRole.BOTTOM)


@pytest.mark.parametrize(
    ("text", "role", "ok"),
    [
        # TOP: region + 1-2 digits, or 2-3 digits without a region
        ("서울12", LineRole.TOP, True),
        ("경기1", LineRole.TOP, True),
        ("12", LineRole.TOP, True),
        ("123", LineRole.TOP, True),
        ("1", LineRole.TOP, False),
        ("1234", LineRole.TOP, False),
        ("서울", LineRole.TOP, False),
        ("서울123", LineRole.TOP, False),
        ("평양12", LineRole.TOP, False),
        ("서12", LineRole.TOP, False),
        ("12가", LineRole.TOP, False),
        ("가3456", LineRole.TOP, False),
        ("서울12가3456", LineRole.TOP, False),
        ("", LineRole.TOP, False),
        # BOTTOM: one use Hangul + 4 digits
        ("가3456", LineRole.BOTTOM, True),
        ("배0000", LineRole.BOTTOM, True),
        ("외1234", LineRole.BOTTOM, True),
        ("가345", LineRole.BOTTOM, False),
        ("가34567", LineRole.BOTTOM, False),
        ("3456", LineRole.BOTTOM, False),
        ("12가3456", LineRole.BOTTOM, False),
        ("울3456", LineRole.BOTTOM, False),
        ("힣3456", LineRole.BOTTOM, False),
        ("A3456", LineRole.BOTTOM, False),
        ("", LineRole.BOTTOM, False),
        # SINGLE: a whole plate
        ("12가3456", LineRole.SINGLE, True),
        ("서울12가3456", LineRole.SINGLE, True),
        ("서울12", LineRole.SINGLE, False),
        ("가3456", LineRole.SINGLE, False),
    ],
)
def test_line_is_valid(text: str, role: LineRole, ok: bool) -> None:
    assert line_is_valid(text, role) is ok


# --- synthetic CTC output ------------------------------------------------------------------------------

Frame = Mapping[str, float]  # character -> probability at one frame; whatever is left is the blank's
BLANK_FRAME: Frame = {}


def ctc(frames: Sequence[Frame]) -> np.ndarray:
    """A (T, len(CHARSET) + 1) probability matrix, class 0 = blank, each row summing to 1."""
    probs = np.zeros((len(frames), len(CHARSET) + 1), np.float64)
    for t, frame in enumerate(frames):
        for ch, p in frame.items():
            probs[t, CHARSET.index(ch) + 1] = p
        probs[t, BLANK] = 1.0 - sum(frame.values())
    assert (probs >= 0).all()
    return probs


def spell(text: str, conf: float | Sequence[float] = 0.9) -> list[Frame]:
    """Frames for ``text``: one frame per character (its confidence, the rest blank), blanks around."""
    confs = [conf] * len(text) if isinstance(conf, float) else list(conf)
    assert len(confs) == len(text)
    frames: list[Frame] = [BLANK_FRAME]
    for ch, p in zip(text, confs, strict=True):
        frames += [{ch: p}, BLANK_FRAME]
    return frames


def assert_decoded(result: tuple[str, tuple[float, ...]] | None, text: str, conf: Sequence[float]) -> None:
    """A decoder's (text, confidences), confidences compared to float precision."""
    assert result is not None
    assert result[0] == text
    assert result[1] == pytest.approx(tuple(conf))


def assert_read(read: LineRead, text: str, conf: Sequence[float], valid: bool, raw: str) -> None:
    assert (read.text, read.valid, read.raw_text) == (text, valid, raw)
    assert read.char_conf == pytest.approx(tuple(conf))
    assert all(isinstance(c, float) for c in read.char_conf)


def test_ctc_helper_rows_are_distributions() -> None:
    probs = ctc([*spell("12가3456"), {"8": 0.5, "가": 0.4}])
    assert probs.shape == (16, len(CHARSET) + 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[-1, BLANK] == pytest.approx(0.1)


# --- greedy decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "text", "conf"),
    [
        (spell("12가3456"), "12가3456", (0.9,) * 7),
        (
            spell("서울12가3456", [0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88]),
            "서울12가3456",
            (0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88),
        ),
        # a character held over frames: one character, its peak probability
        ([{"1": 0.6}, {"1": 0.95}, {"1": 0.7}, BLANK_FRAME, {"2": 0.8}], "12", (0.95, 0.8)),
        # repeated characters separated by a blank are two characters...
        (spell("1123"), "1123", (0.9,) * 4),
        ([{"1": 0.9}, BLANK_FRAME, {"1": 0.7}, {"2": 0.9}, {"3": 0.9}], "1123", (0.9, 0.7, 0.9, 0.9)),
        # ... and without a blank between them, one
        ([{"1": 0.9}, {"1": 0.7}, {"2": 0.9}, {"3": 0.9}], "123", (0.9, 0.9, 0.9)),
        # different characters need no blank between them
        ([{"1": 0.9}, {"2": 0.8}, {"3": 0.7}], "123", (0.9, 0.8, 0.7)),
        # the argmax wins at each frame, even where the runner-up is what a plate needs
        (
            [*spell("12"), {"8": 0.5, "가": 0.4}, *spell("3456")],
            "1283456",
            (0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.9),
        ),
        ([BLANK_FRAME] * 5, "", ()),
        ([{"7": 0.4}], "", ()),  # blank (0.6) beats the character
    ],
)
def test_greedy_decode(frames: list[Frame], text: str, conf: tuple[float, ...]) -> None:
    got_text, got_conf = greedy_decode(ctc(frames))
    assert got_text == text
    assert got_conf == pytest.approx(conf)


def test_greedy_decode_float32_input() -> None:
    text, conf = greedy_decode(ctc(spell("서울12가3456")).astype(np.float32))
    assert text == "서울12가3456"
    assert all(isinstance(c, float) for c in conf)
    assert conf == pytest.approx((0.9,) * 9)


def test_greedy_decode_custom_charset() -> None:
    probs = np.array([[0.1, 0.9, 0.0], [1.0, 0.0, 0.0], [0.2, 0.0, 0.8]])
    assert_decoded(greedy_decode(probs, charset="ab"), "ab", (0.9, 0.8))


# --- constrained decoding ------------------------------------------------------------------------------

NINE = 0.9
BOLT = {"1": 0.55}  # a mounting bolt read as "1", just above the blank (0.45)

# (frames, role, greedy read, constrained read, constrained confidences); every greedy read here is
# ungrammatical for its role, so only the beam search can produce the expected text.
FIXES: list[tuple[list[Frame], LineRole, str, str, tuple[float, ...]]] = [
    # a fifth tail digit, weakly seen: dropped
    ([*spell("12가3456"), {"7": 0.55}, BLANK_FRAME], LineRole.SINGLE, "12가34567", "12가3456", (NINE,) * 7),
    # an extra digit in the middle of the tail: the weak one is dropped, not the last one
    (
        [*spell("12가34"), {"8": 0.55}, *spell("56")],
        LineRole.SINGLE,
        "12가34856",
        "12가3456",
        (NINE,) * 7,
    ),
    # a bolt before an 8-character plate: 4 leading digits are not a plate; 3 are
    ([BLANK_FRAME, BOLT, *spell("123가4567")], LineRole.SINGLE, "1123가4567", "123가4567", (NINE,) * 8),
    # Hangul slot: the top choice is a digit, the runner-up a Hangul
    (
        [*spell("12"), {"8": 0.5, "가": 0.4}, *spell("3456")],
        LineRole.SINGLE,
        "1283456",
        "12가3456",
        (NINE, NINE, 0.4, NINE, NINE, NINE, NINE),
    ),
    # Hangul slot: the top choice is a region character (울), not a use Hangul
    (
        [*spell("12"), {"울": 0.5, "우": 0.3}, *spell("3456")],
        LineRole.SINGLE,
        "12울3456",
        "12우3456",
        (NINE, NINE, 0.3, NINE, NINE, NINE, NINE),
    ),
    # a Hangul the blank outweighs: the grammar brings it back
    (
        [*spell("12"), {"가": 0.35}, *spell("3456")],
        LineRole.SINGLE,
        "123456",
        "12가3456",
        (NINE, NINE, 0.35, NINE, NINE, NINE, NINE),
    ),
    # a doubled digit whose separating blank lost to the digit: 12가356 -> 12가3356
    (
        [*spell("12가"), {"3": 0.6}, {"3": 0.55}, {"3": 0.6}, *spell("56")],
        LineRole.SINGLE,
        "12가356",
        "12가3356",
        (NINE, NINE, NINE, 0.6, 0.6, NINE, NINE),
    ),
    # TOP: a third digit after a region is not allowed
    ([*spell("서울12"), {"3": 0.55}, BLANK_FRAME], LineRole.TOP, "서울123", "서울12", (NINE,) * 4),
    # TOP: the region's second character, read as a look-alike use Hangul
    (
        [*spell("서"), {"우": 0.5, "울": 0.4}, *spell("12")],
        LineRole.TOP,
        "서우12",
        "서울12",
        (NINE, 0.4, NINE, NINE),
    ),
    # BOTTOM: a bolt left of the Hangul
    ([BLANK_FRAME, BOLT, *spell("가3456")], LineRole.BOTTOM, "1가3456", "가3456", (NINE,) * 5),
    # BOTTOM: the Hangul read as a digit
    (
        [{"4": 0.6, "바": 0.3}, *spell("1234")],
        LineRole.BOTTOM,
        "41234",
        "바1234",
        (0.3, NINE, NINE, NINE, NINE),
    ),
]


@pytest.mark.parametrize(("frames", "role", "raw", "fixed", "conf"), FIXES)
def test_constrained_decode_fixes_ungrammatical_reads(
    frames: list[Frame], role: LineRole, raw: str, fixed: str, conf: tuple[float, ...]
) -> None:
    probs = ctc(frames)
    assert greedy_decode(probs)[0] == raw
    assert not line_is_valid(raw, role)
    result = constrained_decode(probs, role)
    assert_decoded(result, fixed, conf)
    assert result is not None and line_is_valid(result[0], role)


@pytest.mark.parametrize(("frames", "role", "raw", "fixed", "conf"), FIXES)
def test_decode_line_keeps_the_raw_read(
    frames: list[Frame], role: LineRole, raw: str, fixed: str, conf: tuple[float, ...]
) -> None:
    read = decode_line(ctc(frames), role)
    assert_read(read, fixed, conf, True, raw)
    assert read.confidence == pytest.approx(float(np.prod(conf)))


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("12가3456", LineRole.SINGLE),
        ("123가4567", LineRole.SINGLE),
        ("서울12가3456", LineRole.SINGLE),
        ("경기1바1234", LineRole.SINGLE),
        ("서울12", LineRole.TOP),
        ("123", LineRole.TOP),
        ("가3456", LineRole.BOTTOM),
    ],
)
def test_constrained_decode_agrees_with_a_clean_read(text: str, role: LineRole) -> None:
    probs = ctc(spell(text))
    assert_decoded(constrained_decode(probs, role), text, (NINE,) * len(text))
    assert_read(decode_line(probs, role), text, (NINE,) * len(text), True, text)


def test_constrained_decode_peak_confidence_over_held_frames() -> None:
    frames = [{"1": 0.6}, {"1": 0.95}, BLANK_FRAME, {"2": 0.7}, {"2": 0.8}, *spell("가3456")]
    assert_decoded(constrained_decode(ctc(frames), LineRole.SINGLE), "12가3456", (0.95, 0.8) + (NINE,) * 5)


def test_decode_line_trusts_a_grammatical_greedy_read() -> None:
    """A weak but grammatical greedy read is returned as is, with its own confidences."""
    frames = [BLANK_FRAME, {"1": 0.55}, *spell("23가4567")]
    read = decode_line(ctc(frames), LineRole.SINGLE)
    assert_read(read, "123가4567", (0.55,) + (NINE,) * 7, True, "123가4567")


@pytest.mark.parametrize(
    ("frames", "role", "raw"),
    [
        (spell("123456"), LineRole.SINGLE, "123456"),  # no Hangul anywhere
        (spell("12가345"), LineRole.SINGLE, "12가345"),  # a digit short, none to be found
        (spell("서울"), LineRole.TOP, "서울"),
        (spell("3456"), LineRole.BOTTOM, "3456"),
        ([BLANK_FRAME] * 6, LineRole.SINGLE, ""),
    ],
)
def test_nothing_grammatical_keeps_the_raw_read(frames: list[Frame], role: LineRole, raw: str) -> None:
    probs = ctc(frames)
    assert constrained_decode(probs, role) is None
    read = decode_line(probs, role)
    assert read == LineRead(raw, greedy_decode(probs)[1], False, raw)


def test_min_prob_bounds_what_the_search_proposes() -> None:
    probs = ctc([{"가": 5e-4}, *spell("3456")])
    assert greedy_decode(probs)[0] == "3456"
    assert constrained_decode(probs, LineRole.BOTTOM) is None
    assert_read(decode_line(probs, LineRole.BOTTOM), "3456", (NINE,) * 4, False, "3456")
    result = constrained_decode(probs, LineRole.BOTTOM, min_prob=1e-4)
    assert_decoded(result, "가3456", (5e-4, NINE, NINE, NINE, NINE))


# A Hangul far below the blank (0.005) after two clean digits: six digit-only prefixes ("123", "12", "13",
# "23", "14", ...) that are still grammatical prefixes outweigh "12가3" for a few frames, and with the
# default beam of 8 the only completable prefix is pruned; the search then finds nothing grammatical.
WEAK_HANGUL: list[Frame] = [*spell("12"), {"가": 5e-3}, *spell("3456")]


def test_weak_hangul_is_found_with_a_wider_beam() -> None:
    probs = ctc(WEAK_HANGUL)
    assert greedy_decode(probs)[0] == "123456"
    result = constrained_decode(probs, LineRole.SINGLE, beam_width=16)
    assert_decoded(result, "12가3456", (NINE, NINE, 5e-3, NINE, NINE, NINE, NINE))


def test_weak_hangul_is_found_with_the_default_beam() -> None:
    result = constrained_decode(ctc(WEAK_HANGUL), LineRole.SINGLE)
    assert result is not None
    assert result[0] == "12가3456"


def test_constrained_decode_float32_input() -> None:
    frames = [*spell("12"), {"8": 0.5, "가": 0.4}, *spell("3456")]
    result = constrained_decode(ctc(frames).astype(np.float32), LineRole.SINGLE)
    assert result is not None
    assert result[0] == "12가3456"
    assert all(isinstance(c, float) for c in result[1])


# --- reads ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conf", "joint"),
    [((0.9, 0.5), 0.45), ((1.0,) * 7, 1.0), ((), 0.0)],
)
def test_line_read_confidence(conf: tuple[float, ...], joint: float) -> None:
    assert LineRead("x" * len(conf), conf, True, "").confidence == pytest.approx(joint)


def test_join_lines_top_first() -> None:
    top = decode_line(ctc(spell("서울12")), LineRole.TOP)
    bottom = decode_line(ctc(spell("가3456")), LineRole.BOTTOM)
    assert join_lines([top, bottom]) == "서울12가3456"
    assert is_valid(join_lines([top, bottom]))
    assert join_lines([]) == ""


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("12가3456", "12가3456"),
        ("서울12가3456", "서울12가3456"),
        ("서울 12 가 3456", "서울12가3456"),
        (unicodedata.normalize("NFD", "서울12가3456"), "서울12가3456"),  # saved on macOS
        ("１２가３４５６", "12가3456"),  # full-width digits from an input method
        ("ㄱㅏ", "가"),  # compatibility jamo compose
        ("12가-3456", "12가3456"),
        ("123·가·4567", "123가4567"),
        ("", ""),
    ],
)
def test_labels_are_normalised_as_the_reader_prints(raw: str, text: str) -> None:
    assert normalize_text(raw) == text


# --- the hidden class of a reader trained with occluders ----------------------------------------------


def with_hidden(frames: Sequence[Frame]) -> np.ndarray:
    """`ctc`'s matrix with the hidden class after the charset; ``HIDDEN`` in a frame is its probability."""
    probs = np.zeros((len(frames), len(CHARSET) + 2), np.float64)
    for t, frame in enumerate(frames):
        for ch, p in frame.items():
            probs[t, len(CHARSET) + 1 if ch == HIDDEN else CHARSET.index(ch) + 1] = p
        probs[t, BLANK] = 1.0 - sum(frame.values())
    return probs


@pytest.mark.parametrize(
    ("frames", "role", "raw", "text", "joint"),
    [
        # the first digit of 937수2500 under a tow bar: the grammar fills the line without it, sure of
        # every character it kept; the hidden class's 0.9 leaves a tenth of that
        (
            [*spell("93"), {HIDDEN: 0.9}, *spell("수2500")],
            LineRole.SINGLE,
            "93?수2500",
            "93수2500",
            0.1 * NINE**7,
        ),
        ([{HIDDEN: 0.95}, *spell("62소4871")], LineRole.SINGLE, "?62소4871", "62소4871", 0.05 * NINE**7),
        # a plate in full view: a trace of the hidden class costs that much and no more
        ([*spell("12가3456"), {HIDDEN: 0.02}], LineRole.SINGLE, "12가3456", "12가3456", 0.98 * NINE**7),
        ([*spell("가3456")], LineRole.BOTTOM, "가3456", "가3456", NINE**5),
        # the region of a two-line plate's top line hidden: 12 alone is a grammatical top line
        (
            [{HIDDEN: 0.9}, BLANK_FRAME, {HIDDEN: 0.9}, *spell("12")],
            LineRole.TOP,
            "??12",
            "12",
            0.1 * NINE**2,
        ),
    ],
)
def test_hidden_characters_become_doubt(
    frames: list[Frame], role: LineRole, raw: str, text: str, joint: float
) -> None:
    read = decode_line(with_hidden(frames), role, CHARSET + HIDDEN)
    assert read.raw_text == raw
    assert read.text == text and read.valid
    assert read.confidence == pytest.approx(joint)


def test_a_reader_without_the_hidden_class_decodes_as_before() -> None:
    probs = ctc([*spell("93"), *spell("수2500")])
    assert decode_line(probs, LineRole.SINGLE) == decode_line(probs, LineRole.SINGLE, CHARSET)


@pytest.mark.parametrize(
    ("conf", "hidden", "scaled"),
    [
        ((0.9, 0.8), 0.0, (0.9, 0.8)),
        ((0.9, 0.8), 0.75, (0.45, 0.4)),  # (1 - 0.75) ** (1/2) = 0.5 each: the joint is a quarter
        ((0.9, 0.8), 1.0, (0.0, 0.0)),
        ((), 0.5, ()),
    ],
)
def test_doubt_hidden_shares_the_doubt_evenly(
    conf: tuple[float, ...], hidden: float, scaled: tuple[float, ...]
) -> None:
    read = doubt_hidden(LineRead("12", conf, True, "12"), hidden)
    assert read.char_conf == pytest.approx(scaled)
    assert read.text == "12" and read.valid
