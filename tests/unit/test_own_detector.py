"""The own detector's arithmetic without its model: letterbox, output decoding, NMS, loose boxes, and the
training targets (whatever the trainer encodes, the runtime decoder must decode back exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.own_detector import IN_H, IN_W, STRIDE, decode, iou, letterbox, loose_box, nms


@pytest.mark.parametrize(
    ("w", "h", "scale", "content"),
    [
        (1920, 1080, 1 / 3, (640, 360)),
        (1280, 720, 0.5, (640, 360)),
        (1600, 900, 0.4, (640, 360)),
        (640, 384, 1.0, (640, 384)),
        (1440, 1080, 384 / 1080, (512, 384)),  # 4:3: height-limited, padded on the right
        (320, 180, 2.0, (640, 360)),  # small frames are enlarged
    ],
)
def test_letterbox_scale_and_padding(w: int, h: int, scale: float, content: tuple[int, int]) -> None:
    img = np.full((h, w, 3), 200, np.uint8)
    out, s = letterbox(img)
    assert out.shape == (IN_H, IN_W, 3) and out.dtype == np.uint8
    assert s == pytest.approx(scale)
    cw, ch = content
    assert (out[:ch, :cw] == 200).all()
    assert (out[ch:, :] == 0).all() and (out[:, cw:] == 0).all()


def test_letterbox_accepts_grey() -> None:
    out, s = letterbox(np.full((720, 1280), 90, np.uint8))
    assert out.shape == (IN_H, IN_W, 3) and s == 0.5 and out[0, 0].tolist() == [90, 90, 90]


def _maps(plates: list[tuple[float, np.ndarray, tuple[float, float]]]) -> np.ndarray:
    """Output maps holding ``(score, quad in input px, (box w, h))`` at each quad's centre cell."""
    gh, gw = IN_H // STRIDE, IN_W // STRIDE
    maps = np.zeros((11, gh, gw), np.float32)
    for score, quad, (bw, bh) in plates:
        c = (quad.min(axis=0) + quad.max(axis=0)) / 2
        ix, iy = int(c[0] // STRIDE), int(c[1] // STRIDE)
        maps[0, iy, ix] = score
        maps[1:3, iy, ix] = np.log(np.array([bw, bh]) / STRIDE)
        cell = np.array([(ix + 0.5) * STRIDE, (iy + 0.5) * STRIDE])
        maps[3:, iy, ix] = ((quad - cell) / STRIDE).reshape(-1)
    return maps


def _quad(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def test_decode_maps_cells_back_to_frame_pixels() -> None:
    q1, q2 = _quad(100, 200, 120, 26), _quad(400, 100, 60, 30)
    maps = _maps([(0.9, q1, (120, 26)), (0.6, q2, (60, 30))])
    out = decode(maps, scale=0.5, thresh=0.3)
    assert [round(s, 2) for _, _, s in out] == [0.9, 0.6]  # most confident first
    box, quad, _ = out[0]
    np.testing.assert_allclose(quad, q1 / 0.5, atol=1e-3)
    np.testing.assert_allclose(box, [200, 400, 440, 452], atol=1e-3)


@pytest.mark.parametrize(("thresh", "expected"), [(0.2, 2), (0.5, 1), (0.95, 0)])
def test_decode_threshold(thresh: float, expected: int) -> None:
    maps = _maps([(0.9, _quad(100, 200, 120, 26), (120, 26)), (0.3, _quad(400, 100, 60, 30), (60, 30))])
    assert len(decode(maps, 1.0, thresh)) == expected


def test_decode_keeps_only_local_maxima() -> None:
    q = _quad(100, 200, 120, 26)
    maps = _maps([(0.9, q, (120, 26))])
    c = (q.min(axis=0) + q.max(axis=0)) / 2
    iy, ix = int(c[1] // STRIDE), int(c[0] // STRIDE)
    maps[0, iy, ix + 1] = 0.8  # the shoulder of the same peak, not a second plate
    assert len(decode(maps, 1.0, 0.3)) == 1


def test_decode_nms_merges_two_peaks_of_one_plate() -> None:
    q = _quad(96, 200, 200, 40)
    maps = _maps([(0.9, q, (200, 40))])
    c = (q.min(axis=0) + q.max(axis=0)) / 2
    iy, ix = int(c[1] // STRIDE), int(c[0] // STRIDE)
    maps[:, iy, ix + 3] = maps[:, iy, ix]  # a second, separate peak predicting the same plate
    maps[3::2, iy, ix + 3] -= 3  # its offsets are relative to its own cell
    maps[0, iy, ix + 3] = 0.7
    assert len(decode(maps, 1.0, 0.3)) == 1


def test_decode_of_empty_maps() -> None:
    assert decode(np.zeros((11, IN_H // STRIDE, IN_W // STRIDE), np.float32), 1.0) == []


@pytest.mark.parametrize(
    ("boxes", "scores", "thresh", "kept"),
    [
        ([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], [0.9, 0.8, 0.7], 0.4, [0, 2]),
        ([[0, 0, 10, 10], [1, 1, 11, 11]], [0.5, 0.8], 0.4, [1]),
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.4, [0, 1]),  # IoU 1/3: both kept
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.3, [0]),
        ([], [], 0.4, []),
    ],
)
def test_nms(boxes: list[list[float]], scores: list[float], thresh: float, kept: list[int]) -> None:
    b = np.array(boxes, np.float32).reshape(-1, 4)
    assert nms(b, np.array(scores, np.float32), thresh) == kept


def test_iou_table() -> None:
    a = np.array([0, 0, 10, 10], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(iou(a, b), [1.0, 1 / 3, 0.0, 0.0], atol=1e-6)


def test_loose_box_grows_and_clips() -> None:
    q = _quad(100, 100, 100, 20)
    assert loose_box(q, 1280, 720) == (92, 95, 208, 125)
    assert loose_box(_quad(0, 0, 100, 20), 90, 18) == (0, 0, 90, 18)


def test_training_targets_decode_back_to_the_quads() -> None:
    from models.training.train_detector import CROP_H, CROP_W, targets

    quads = np.stack(
        [_quad(40, 60, 150, 32), _quad(250, 180, 64, 14) + np.array([[0, 0], [0, -3], [0, 3], [0, 0]])]
    )
    heat, reg, _wgt = targets(quads.astype(np.float32), CROP_H // STRIDE, CROP_W // STRIDE)
    maps = np.concatenate([np.where(heat >= 1.0, heat, 0.0)[None], reg], 0).astype(np.float32)
    out = decode(maps, 1.0, 0.99)
    assert len(out) == 2
    for q in quads:
        assert any(np.abs(d[1] - q).max() < 1e-3 for d in out)
