"""Re-reading unsure plates through other framings (`edge.reread`) and its place in `Engine.read_plate`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from edge.areas import AreaCut, unit_to_image
from edge.engine import Engine, PlateRead
from edge.ocr import Calibration
from edge.plate import LineRead
from edge.reread import (
    LEFT_LOOK,
    REFRAMINGS,
    REREAD_BELOW,
    REREAD_FLOOR,
    Reframing,
    agreement,
    look_left,
    reframe,
    should_reread,
    surest,
    with_confidence,
)
from tests.support.fakes import FakeLocator

RECT = np.array([[100, 50], [300, 50], [300, 100], [100, 100]], np.float32)  # 200 x 50 px
TILTED = np.array([[100, 40], [300, 60], [290, 120], [110, 90]], np.float32)  # perspective, not affine


def line(text: str, conf: float, valid: bool = True) -> LineRead:
    """A read of ``text`` whose joint confidence is ``conf`` (spread evenly over its characters)."""
    return LineRead(text, (conf ** (1 / len(text)),) * len(text), valid, text)


@pytest.mark.parametrize(
    ("framing", "expected"),
    [
        (Reframing(), RECT),
        (Reframing(widen=1.1), [[90, 50], [310, 50], [310, 100], [90, 100]]),
        (Reframing(heighten=1.2), [[100, 45], [300, 45], [300, 105], [100, 105]]),
        (Reframing(shift_v=0.1), [[100, 55], [300, 55], [300, 105], [100, 105]]),
        (Reframing(shift_u=-0.05), [[90, 50], [290, 50], [290, 100], [90, 100]]),
        (Reframing(widen=1.06, heighten=0.9), [[94, 52.5], [306, 52.5], [306, 97.5], [94, 97.5]]),
    ],
)
def test_reframe_on_an_upright_plate(framing: Reframing, expected: object) -> None:
    assert np.allclose(reframe(RECT, framing), np.asarray(expected, np.float32), atol=1e-3)


def test_reframe_follows_the_plates_perspective() -> None:
    """Taller or shifted, the new corners stay on the plate's own side lines (through its homography),
    and the identity framing returns the quad itself."""
    assert np.allclose(reframe(TILTED, Reframing()), TILTED, atol=1e-3)
    to_image = unit_to_image(TILTED)
    for framing in (Reframing(heighten=1.12), Reframing(shift_v=-0.06), Reframing(widen=1.03)):
        got = reframe(TILTED, framing)
        back = np.linalg.inv(to_image) @ np.c_[got, np.ones(4)].T
        u, v = back[:2] / back[2]
        left, right = 0.5 - framing.widen / 2, 0.5 + framing.widen / 2
        top = 0.5 - framing.heighten / 2 + framing.shift_v
        bottom = top + framing.heighten
        assert np.allclose(u, [left, right, right, left], atol=1e-4)
        assert np.allclose(v, [top, top, bottom, bottom], atol=1e-4)


def test_the_framings_differ_and_none_is_the_identity() -> None:
    assert len(set(REFRAMINGS)) == len(REFRAMINGS) > 0
    assert Reframing() not in REFRAMINGS


@pytest.mark.parametrize(
    ("candidates", "kept"),
    [
        ([line("12가3456", 0.5), line("12가3458", 0.9)], "12가3458"),  # the surest
        ([line("12가3456", 0.5), line("12가345", 0.99, valid=False)], "12가3456"),  # grammatical first
        ([line("1가3456", 0.4, valid=False), line("1가345", 0.6, valid=False)], "1가345"),  # none valid
        ([line("12가3456", 0.7), line("12가3458", 0.7)], "12가3456"),  # a tie keeps the earlier framing
    ],
)
def test_surest(candidates: list[LineRead], kept: str) -> None:
    assert surest(candidates).text == kept


@pytest.mark.parametrize(
    ("confs_and_texts", "expected"),
    [
        ([(0.9, "A"), (0.9, "A"), (0.6, "A")], 0.8),
        ([(0.9, "A"), (0.99, "B"), (0.6, "A"), (0.5, "C")], 0.375),
        ([(0.9, "A")], 0.9),
    ],
)
def test_agreement(confs_and_texts: list[tuple[float, str]], expected: float) -> None:
    candidates = [line(t, c) for c, t in confs_and_texts]
    assert agreement(line("A", 0.9), candidates) == pytest.approx(expected)


@pytest.mark.parametrize("target", [0.2, 0.75, 0.93])
def test_with_confidence_scales_every_character_alike(target: float) -> None:
    read = LineRead("12가3456", (0.99, 0.9, 0.6, 0.99, 0.98, 0.97, 0.99), True, "12가3456")
    out = with_confidence(read, target)
    assert out.confidence == pytest.approx(target)
    assert (out.text, out.valid, out.raw_text) == (read.text, read.valid, read.raw_text)
    ratios = np.array(out.char_conf) / np.array(read.char_conf)
    assert np.allclose(ratios, ratios[0])


def test_with_confidence_leaves_an_empty_read() -> None:
    empty = LineRead("", (), False, "")
    assert with_confidence(empty, 0.5) == empty


@pytest.mark.parametrize(
    ("raw", "below", "grammatical", "expected"),
    [
        (0.5, REREAD_BELOW, True, True),
        (REREAD_BELOW, REREAD_BELOW, True, False),  # at the bar: sure enough
        (0.99, REREAD_BELOW, True, False),
        (REREAD_FLOOR, REREAD_BELOW, True, True),
        (REREAD_FLOOR / 2, REREAD_BELOW, True, False),  # hardly a plate: not worth seven reads
        (0.5, 0.0, True, False),  # 0 turns it off
        (0.97, 1.0, True, True),
        (0.999, REREAD_BELOW, False, True),  # sure, but no plate: cannot be right
        (0.5, REREAD_BELOW, False, True),
        (REREAD_FLOOR / 2, REREAD_BELOW, False, False),  # the floor holds for it too
        (0.999, 0.0, False, False),  # and so does turning it off
    ],
)
def test_should_reread(raw: float, below: float, grammatical: bool, expected: bool) -> None:
    assert should_reread(raw, below, grammatical) is expected


class FramingReader:
    """Reads ``sure`` in an area cut taller than the plate (the 1.12 framing), ``unsure`` elsewhere;
    counts calls and areas."""

    def __init__(self, unsure: LineRead, sure: LineRead) -> None:
        self.unsure, self.sure = unsure, sure
        self.calls: list[int] = []

    def read(self, cuts: Sequence[AreaCut]) -> list[LineRead]:
        self.calls.append(len(cuts))
        plate_h = float(RECT[3, 1] - RECT[0, 1])
        return [self.sure if c.quad[3, 1] - c.quad[0, 1] > 1.1 * plate_h else self.unsure for c in cuts]


def read_rect(engine: Engine) -> PlateRead:
    image = np.full((200, 400, 3), 128, np.uint8)
    return engine.read_plate(image, (100, 50, 300, 100))


def test_an_unsure_plate_is_read_again_and_the_surest_framing_wins() -> None:
    reader = FramingReader(line("123가3458", 0.5), line("123가3456", 0.99))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration()))
    assert plate.reread
    assert plate.text == "123가3456"
    assert reader.calls == [1, len(REFRAMINGS)]  # one batch for every framing
    # one framing of seven read it: the plate is as sure as the framings agree, not as the winner
    assert plate.confidence == pytest.approx(0.99 / (1 + len(REFRAMINGS)))
    assert np.prod([c for _, c in plate.areas[0].chars]) == pytest.approx(plate.confidence)


def test_a_sure_plate_is_read_once() -> None:
    reader = FramingReader(line("123가3456", 0.97), line("999가9999", 0.999))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration()))
    assert (plate.text, plate.reread, reader.calls) == ("123가3456", False, [1])


def test_a_sure_plate_of_the_short_form_gets_one_look_left_and_keeps_its_read() -> None:
    reader = FramingReader(line("12가3456", 0.97), line("99가9999", 0.999))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration()))
    assert (plate.text, plate.reread, reader.calls) == ("12가3456", False, [1, 1])


def test_a_sure_read_that_is_no_plate_is_read_again() -> None:
    """164구582 at 0.999: the quad cut the last digit off; a framing that sees it whole reads the plate."""
    reader = FramingReader(line("164구582", 0.999, valid=False), line("164구5820", 0.99))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration()))
    assert (plate.text, plate.valid, plate.reread) == ("164구5820", True, True)
    assert reader.calls == [1, len(REFRAMINGS)]


def test_reread_below_zero_turns_it_off() -> None:
    reader = FramingReader(line("12가3458", 0.5), line("12가3456", 0.99))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration(), reread_below=0.0))
    assert (plate.text, plate.reread, reader.calls) == ("12가3458", False, [1])
    assert plate.confidence == pytest.approx(0.5)


def test_the_config_default_is_the_engines() -> None:
    from edge.config_schema import RecognitionConfig

    assert RecognitionConfig.model_fields["reread_below"].default == REREAD_BELOW


class LeftReader:
    """Reads ``whole`` in an area cut that reaches left of the plate quad (`LEFT_LOOK`), ``cut`` in any
    other; counts calls."""

    def __init__(self, cut: LineRead, whole: LineRead) -> None:
        self.cut, self.whole = cut, whole
        self.calls = 0

    def read(self, cuts: Sequence[AreaCut]) -> list[LineRead]:
        self.calls += 1
        return [self.whole if c.quad[0, 0] < RECT[0, 0] - 5 else self.cut for c in cuts]


GRAY = np.full((200, 400), 128, np.uint8)


@pytest.mark.parametrize(
    ("first", "wider", "expected"),
    [
        (line("18라1686", 1.0), line("318라1686", 0.99), "318라1686"),  # the digit the quad cut off
        (line("18라1686", 0.6), line("318라1686", 0.99), "318라1686"),  # unsure or not
        (line("18라1686", 1.0), line("18라1686", 0.99), None),  # nothing more at the left
        (line("18라1686", 1.0), line("19라1686", 0.99), None),  # another plate: not this one longer
        (line("18라1686", 1.0), line("서울18라1686", 0.99), None),  # a region name is not a digit
        (line("18라1686", 1.0), line("318라1686", 0.99, valid=False), None),
        (line("318라1686", 1.0), line("2318라1686", 0.99, valid=False), None),  # 3 digits: no look
        (line("서울18라1686", 1.0), line("1서울18라1686", 0.9), None),
        (line("18라168", 0.9, valid=False), line("318라168", 0.99), None),
    ],
)
def test_look_left(first: LineRead, wider: LineRead, expected: str | None) -> None:
    reader = LeftReader(first, wider)
    got = look_left(GRAY, RECT, first, reader)
    assert (got.text if got else None) == expected
    looked = first.valid and len(first.text) == 7
    assert reader.calls == int(looked)  # one look, and only at a 2-digit front
    if got is not None:  # no surer than the first read was
        assert got.confidence == pytest.approx(min(first.confidence, wider.confidence))


def test_the_left_look_reaches_a_tenth_of_the_plate_further_left() -> None:
    quad = reframe(RECT, LEFT_LOOK)
    width = float(RECT[1, 0] - RECT[0, 0])
    assert RECT[0, 0] - quad[0, 0] == pytest.approx(0.1 * width)
    assert quad[1, 0] - RECT[1, 0] == pytest.approx(0.02 * width)


def test_a_plate_that_lost_its_first_digit_is_read_whole() -> None:
    reader = LeftReader(line("18라1686", 1.0), line("318라1686", 0.999))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration()))
    assert (plate.text, plate.reread, reader.calls) == ("318라1686", True, 2)
    assert plate.confidence == pytest.approx(0.999)


def test_no_left_look_when_re_reading_is_off() -> None:
    reader = LeftReader(line("18라1686", 1.0), line("318라1686", 0.999))
    plate = read_rect(Engine(FakeLocator(), reader, Calibration(), reread_below=0.0))
    assert (plate.text, plate.reread, reader.calls) == ("18라1686", False, 1)
