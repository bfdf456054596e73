"""The synthesizer's video codec (`models.training.video_codec`): real libx264 round trips, and the
seeded draws it must leave alone."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.training import capture
from models.training.capture import jpeg
from models.training.probes import main, psnr
from models.training.video_codec import QP_RANGE, draw_h264, h264, hevc

Codec = Callable[..., np.ndarray]


def _plate_like(h: int, w: int) -> np.ndarray:
    """Dark strokes on a light ground with some texture: what a codec has to keep."""
    rng = np.random.default_rng(3)
    image = np.full((h, w, 3), 215, np.uint8)
    for x in range(6, w - 10, 14):
        cv2.rectangle(image, (x, h // 4), (x + 4, 3 * h // 4), (25, 25, 25), -1)
        cv2.line(image, (x, h // 4), (x + 9, h // 2), (25, 25, 25), 2)
    noise = rng.normal(0, 4, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", [(48, 160), (49, 161), (17, 63)])
@pytest.mark.parametrize("codec", [h264, hevc])
def test_a_round_trip_keeps_the_shape_and_the_picture(shape: tuple[int, int], codec: Codec) -> None:
    image = _plate_like(*shape)
    out = codec(image, 24)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert psnr(image, out) > 30.0


@pytest.mark.parametrize("codec", [h264, hevc])
def test_the_same_picture_codes_the_same(codec: Codec) -> None:
    image = _plate_like(48, 160)
    assert np.array_equal(codec(image, 34, (3.0, 1.0)), codec(image, 34, (3.0, 1.0)))


@pytest.mark.parametrize("codec", [h264, hevc])
def test_a_coarser_quantizer_loses_more(codec: Codec) -> None:
    image = _plate_like(64, 200)
    scores = [psnr(image, codec(image, qp)) for qp in (18, 30, 42)]
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize("codec", [h264, hevc])
def test_a_predicted_frame_is_not_the_key_frame(codec: Codec) -> None:
    image = _plate_like(64, 200)
    key, predicted = codec(image, 36), codec(image, 36, (4.0, 0.0))
    assert not np.array_equal(key, predicted)
    assert psnr(image, predicted) > 20.0  # the car moved; the plate is still there


@pytest.mark.parametrize(
    ("image", "qp", "match"),
    [
        (np.zeros((16, 16), np.uint8), 30, "BGR uint8"),
        (np.zeros((16, 16, 3), np.float32), 30, "BGR uint8"),
        (np.zeros((16, 16, 3), np.uint8), 52, "outside"),
        (np.zeros((16, 16, 3), np.uint8), -1, "outside"),
    ],
)
def test_what_cannot_be_coded_is_refused(image: np.ndarray, qp: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        h264(image, qp)


def test_draws_stay_in_the_quantizer_range_and_repeat_by_seed() -> None:
    image = _plate_like(48, 160)
    once = [draw_h264(image, np.random.default_rng(s), 20.0) for s in range(4)]
    again = [draw_h264(image, np.random.default_rng(s), 20.0) for s in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(once, again, strict=True))
    worst = h264(image, QP_RANGE[1] + 6)
    assert all(psnr(image, o) > psnr(image, worst) for o in once)


def test_without_video_degrade_draws_what_it_always_drew() -> None:
    scene = _plate_like(80, 260).astype(np.float32)
    quad = np.array([[40, 20], [220, 20], [220, 60], [40, 60]], np.float32)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(capture.degrade(scene, a, quad, 30.0), capture.degrade(scene, b, quad, 30.0, 0.0))
    assert a.random() == b.random()  # and left the stream where it was


def test_with_video_every_image_goes_through_h264(monkeypatch: pytest.MonkeyPatch) -> None:
    coded: list[int] = []
    real = capture.draw_h264

    def counted(image: np.ndarray, rng: np.random.Generator, char_h: float) -> np.ndarray:
        coded.append(image.shape[0])
        return real(image, rng, char_h)

    monkeypatch.setattr(capture, "draw_h264", counted)
    scene = _plate_like(80, 260).astype(np.float32)
    quad = np.array([[40, 20], [220, 20], [220, 60], [40, 60]], np.float32)
    for seed in range(3):
        out = capture.degrade(scene, np.random.default_rng(seed), quad, 30.0, video=1.0)
        assert out.shape == (80, 260, 3) and out.dtype == np.uint8
    assert coded == [80, 80, 80]


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    rows = [("a.png", "12가3456"), ("b.png", "34나5678"), ("c.png", "56다7890")]
    for name, _ in rows:
        cv2.imwrite(str(src / "images" / name), _plate_like(40, 150))
    with (src / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate_text", "x1", "y1", "x2", "y2", "kind"])
        w.writerows([name, text, "", "", "", "", "crop"] for name, text in rows)
    return src / "manifest.csv"


def test_the_h264_probe_codes_each_crop_and_keeps_the_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _source(tmp_path)
    out = tmp_path / "h264"
    argv = [
        "h264",
        "--manifest",
        str(manifest),
        "--out",
        str(out),
        "--qp",
        "36",
        "--motion",
        "3",
        "--first",
        "2",
    ]
    assert main(argv) == 0
    assert "median PSNR" in capsys.readouterr().out
    got = list(csv.DictReader((out / "manifest.csv").open(encoding="utf-8")))
    assert [(r["file"], r["plate_text"]) for r in got] == [("a.png", "12가3456"), ("b.png", "34나5678")]
    source = cv2.imread(str(tmp_path / "src" / "images" / "a.png"))
    assert np.array_equal(cv2.imread(str(out / "images" / "a.png")), h264(source, 36, (-3.0, 0.0)))
    assert np.array_equal(cv2.imread(str(out / "images" / "b.png")), h264(source, 36, (3.0, 0.0)))


def test_the_jpeg_probe_codes_each_crop(tmp_path: Path) -> None:
    manifest = _source(tmp_path)
    assert main(["jpeg", "--manifest", str(manifest), "--out", str(tmp_path / "j"), "--quality", "20"]) == 0
    source = cv2.imread(str(tmp_path / "src" / "images" / "c.png"))
    assert np.array_equal(cv2.imread(str(tmp_path / "j" / "images" / "c.png")), jpeg(source, 20))


@pytest.mark.parametrize(("what", "missing"), [("h264", "--qp"), ("hevc", "--qp"), ("jpeg", "--quality")])
def test_a_codec_probe_needs_its_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, missing: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([what, "--manifest", str(_source(tmp_path)), "--out", str(tmp_path / "o")])
    assert stopped.value.code == 2 and f"{what} needs {missing}" in capsys.readouterr().err
