"""Text-detector backend without its model: resize rule, normalisation, DB post-processing, grouping of
text boxes into plate candidates, and confirmation by a (fake) reading engine."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from edge.detector import Detection, confirm_candidates
from edge.text_detector import db_boxes, network_size, preprocess
from edge.text_grouping import GroupingParams, TextBox, order_clockwise, plate_candidates, shape_prior


def tb(x0: float, y0: float, x1: float, y1: float, score: float = 0.9) -> TextBox:
    return TextBox(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32), score)


def covers(box: tuple[int, int, int, int], inner: tuple[float, float, float, float]) -> bool:
    return box[0] <= inner[0] and box[1] <= inner[1] and box[2] >= inner[2] and box[3] >= inner[3]


# --- pre-processing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hw", "limit", "expected"),
    [
        ((1080, 1920), 1280, (704, 1280)),  # 720 rounds to 704 (rapidocr rounds to the nearest 32)
        ((720, 1280), 1280, (704, 1280)),
        ((1080, 1920), 960, (544, 960)),
        ((50, 100), 1280, (64, 96)),  # never upscaled, only rounded
        ((5, 5), 1280, (32, 32)),
    ],
)
def test_network_size(hw: tuple[int, int], limit: int, expected: tuple[int, int]) -> None:
    assert network_size(*hw, limit) == expected


def test_preprocess_normalises_to_minus_one_one_in_bgr_order() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[..., 0] = 255  # blue
    x = preprocess(img, 1280)
    assert x.shape == (1, 3, 64, 64) and x.dtype == np.float32
    assert np.allclose(x[0, 0], 1.0) and np.allclose(x[0, 1:], -1.0)
    assert preprocess(np.zeros((64, 64), np.uint8), 1280).shape == (1, 3, 64, 64)


def test_order_clockwise() -> None:
    pts = np.array([[10, 10], [0, 10], [10, 0], [0, 0]], np.float32)
    assert order_clockwise(pts).tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]


# --- DB post-processing -------------------------------------------------------------------------------


def test_db_box_is_the_unclipped_rectangle() -> None:
    prob = np.zeros((200, 400), np.float32)
    prob[90:110, 100:200] = 0.9  # a 100 x 20 kernel
    (box,) = db_boxes(prob, (200, 400))
    # the contour of the (dilated) blob spans 100 x 20 px; PaddleOCR's unclip offsets it by
    # area * 1.6 / perimeter on every side
    w, h = 100, 20
    d = w * h * 1.6 / (2 * (w + h))
    assert box.length == pytest.approx(w + 2 * d, abs=2)
    assert box.height == pytest.approx(h + 2 * d, abs=2)
    assert 0.8 < box.score <= 0.9  # the dilated contour includes a ring of zeros, as in rapidocr
    assert np.allclose(box.centre, (150, 100), atol=1.5)


def test_db_boxes_scale_to_the_source_frame() -> None:
    prob = np.zeros((200, 400), np.float32)
    prob[90:110, 100:200] = 0.9
    (small,) = db_boxes(prob, (200, 400))
    (big,) = db_boxes(prob, (400, 800))
    assert big.length == pytest.approx(2 * small.length, abs=2)
    assert np.allclose(big.centre, 2 * small.centre, atol=2)


def test_db_weak_blobs_and_specks_are_dropped() -> None:
    prob = np.zeros((200, 400), np.float32)
    prob[20:40, 20:120] = 0.4  # above thresh (0.3), below box_thresh (0.5)
    prob[100:102, 300:302] = 0.99  # a speck: short side < 3
    assert db_boxes(prob, (200, 400)) == []


def test_slow_score_keeps_an_l_shaped_blob_that_fast_drops() -> None:
    prob = np.zeros((200, 400), np.float32)
    pts = np.array([[100, 60], [140, 60], [140, 110], [300, 110], [300, 140], [100, 140]], np.int32)
    cv2.fillPoly(prob, [pts], 0.7)
    # two-line plates often give one L-shaped blob: its rectangle is half empty
    assert len(db_boxes(prob, (200, 400), score_mode="slow")) == 1
    assert db_boxes(prob, (200, 400), score_mode="fast") == []


# --- grouping -----------------------------------------------------------------------------------------


def test_pieces_of_one_line_make_one_candidate() -> None:
    pieces = [tb(100, 100, 160, 130), tb(170, 101, 260, 131)]  # "12가" + "3456", gap 10 px
    (cand,) = plate_candidates(pieces, (720, 1280))
    assert len(cand.lines) == 1 and len(cand.texts) == 2
    assert covers(cand.box, (100, 100, 260, 131))
    # loose box: 15 % of the width and 30 % of the height on each side (of the merged, slightly
    # rotated rectangle, hence the tolerance)
    assert cand.box == pytest.approx((76, 91, 284, 140), abs=3)


def test_two_line_plate_pairs_and_keeps_its_bottom_line_as_an_alternative() -> None:
    top = tb(130, 100, 200, 118)  # region + digits, about half the height, narrower
    bottom = tb(110, 122, 230, 158)  # Hangul + 4 digits
    cands = plate_candidates([bottom, top], (720, 1280))
    assert len(cands) == 2
    pair, alone = cands
    assert len(pair.lines) == 2 and pair.lines[0] is top
    assert covers(pair.box, (110, 100, 230, 158))
    assert len(alone.lines) == 1 and alone.confidence < pair.confidence
    no_alt = plate_candidates([bottom, top], (720, 1280), GroupingParams(alternative_factor=0))
    assert len(no_alt) == 1


def test_small_dealer_text_under_a_plate_is_not_merged() -> None:
    plate = tb(100, 100, 300, 140)
    dealer = tb(150, 146, 250, 153)  # 7 px high, right below
    cands = plate_candidates([plate, dealer], (720, 1280))
    assert len(cands) == 1  # the dealer line alone is under min_text_height
    assert len(cands[0].lines) == 1
    cands = plate_candidates([plate, dealer], (720, 1280), GroupingParams(min_text_height=4))
    assert sorted(len(c.texts) for c in cands) == [1, 1]


def test_text_far_along_the_line_or_of_another_size_stays_apart() -> None:
    plate = tb(100, 100, 300, 140)
    sign = tb(340, 100, 420, 140)  # 40 px gap = 1 text height: beyond line_gap
    big = tb(305, 90, 400, 160)  # adjacent but 1.75x taller
    assert len(plate_candidates([plate, sign], (720, 1280))) == 2
    assert len(plate_candidates([plate, big], (720, 1280))) == 2


def test_tilted_line_pieces_merge() -> None:
    def rotated(cx: float, cy: float, w: float, h: float, deg: float) -> TextBox:
        return TextBox(order_clockwise(cv2.boxPoints(((cx, cy), (w, h), deg)).astype(np.float32)), 0.9)

    a = rotated(200, 200, 80, 30, 8)
    b = rotated(200 + 90 * np.cos(np.deg2rad(8)), 200 + 90 * np.sin(np.deg2rad(8)), 80, 30, 8)
    (cand,) = plate_candidates([a, b], (720, 1280))
    assert len(cand.texts) == 2


def test_candidates_are_clipped_sorted_and_plate_shaped_first() -> None:
    edge_plate = tb(0, 690, 200, 719)
    square = tb(500, 300, 540, 340)  # a single glyph, e.g. "P"
    assert len(plate_candidates([square, edge_plate], (720, 1280))) == 1  # the glyph: below min_confidence
    cands = plate_candidates([square, edge_plate], (720, 1280), GroupingParams(min_confidence=0))
    assert [len(c.texts) for c in cands] == [1, 1]
    assert cands[0].box[0] == 0 and cands[0].box[3] == 720
    assert cands[0].confidence > cands[1].confidence
    assert shape_prior([tb(0, 0, 200, 40)]) == 1.0
    assert shape_prior([tb(0, 0, 40, 40)]) < 0.3


def test_no_boxes_no_candidates() -> None:
    assert plate_candidates([], (720, 1280)) == []


# --- confirmation -------------------------------------------------------------------------------------


@dataclass
class FakeRead:
    text: str
    valid: bool
    confidence: float


class FakeEngine:
    def __init__(self, reads: dict[tuple[int, int, int, int], FakeRead | None]) -> None:
        self.reads = reads
        self.calls: list[tuple[int, int, int, int]] = []

    def read_plate(self, image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> FakeRead:
        assert box is not None
        self.calls.append(box)
        read = self.reads[box]
        if read is None:
            raise ValueError("plate crop too small")
        return read


def test_confirm_keeps_valid_reads_dedupes_and_stops_at_max() -> None:
    a, a2, b, c, d = (
        (10, 10, 110, 40),
        (12, 8, 112, 42),
        (300, 300, 400, 330),
        (500, 10, 501, 12),
        (600, 600, 700, 640),
    )
    engine = FakeEngine(
        {
            a: FakeRead("12가3456", True, 0.8),
            a2: FakeRead("12가3456", True, 0.9),  # same plate, better read: replaces a
            b: FakeRead("PARKING", False, 0.3),
            c: None,  # the locator cannot use it
            d: FakeRead("34나5678", True, 0.95),
        }
    )
    dets = [Detection(box, 0.9 - i * 0.1) for i, box in enumerate((a, b, a2, c, d))]
    image = np.zeros((720, 1280, 3), np.uint8)
    kept = confirm_candidates(image, dets, engine, max_candidates=4)  # type: ignore[arg-type]
    assert engine.calls == [a, b, a2, c]
    assert [(det.box, read.text) for det, read in kept] == [(a2, "12가3456")]
    kept = confirm_candidates(image, dets, engine, max_candidates=8)  # type: ignore[arg-type]
    assert [read.text for _, read in kept] == ["34나5678", "12가3456"]
