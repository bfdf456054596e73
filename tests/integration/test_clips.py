"""The clip helpers write real H.264 with the requested frames, size and keyframe interval."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.clips import (
    BARCODE_BITS,
    decode_clip,
    draw_frame_index,
    h264_encoder,
    read_frame_index,
    synthetic_frame,
    synthetic_frames,
    write_h264_clip,
    write_synthetic_clip,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def test_libx264_is_the_encoder() -> None:
    assert "libx264" in av.codecs_available
    assert h264_encoder() == "libx264"


@pytest.mark.parametrize("index", [0, 1, 2, 255, 256, 12345, (1 << BARCODE_BITS) - 1])
def test_frame_index_barcode_round_trip(index: int) -> None:
    frame = np.full((240, 320, 3), 128, dtype=np.uint8)
    assert read_frame_index(draw_frame_index(frame, index)) == index


def test_synthetic_frames_differ_and_carry_their_index() -> None:
    frames = list(synthetic_frames(3, (320, 240), start=7))
    assert [f.shape for f in frames] == [(240, 320, 3)] * 3
    assert [f.dtype for f in frames] == [np.uint8] * 3
    assert [read_frame_index(f) for f in frames] == [7, 8, 9]
    assert not np.array_equal(frames[0][32:], frames[1][32:])  # the rectangles move


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".ts"])
def test_write_and_decode(tmp_path: Path, suffix: str) -> None:
    info = write_synthetic_clip(tmp_path / f"clip{suffix}", 45, fps=15, size=(352, 288), gop=15)
    assert info.frames == 45 and info.size == (352, 288) and info.codec == "libx264"
    assert info.path.stat().st_size > 1000
    decoded = decode_clip(info.path)
    assert decoded.codec == "h264"
    assert decoded.size == (352, 288)
    assert decoded.indices == list(range(45))
    assert decoded.keyframes == [0, 15, 30]  # fixed GOP, no scene-cut keyframes
    with av.open(str(info.path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 15
        assert stream.codec_context.pix_fmt == "yuv420p"


def test_callable_source_and_rgb(tmp_path: Path) -> None:
    def frame_at(i: int) -> np.ndarray:
        return synthetic_frame(i + 100, (320, 240))[:, :, ::-1]  # RGB

    info = write_h264_clip(tmp_path / "cb.mp4", frame_at, 25, n_frames=12, pixel_format="rgb24")
    assert info.frames == 12 and info.gop == 25 and info.size == (320, 240)
    assert decode_clip(info.path).indices == list(range(100, 112))


def test_pixel_content_survives_encoding(tmp_path: Path) -> None:
    frames = list(synthetic_frames(5, (320, 240)))
    info = write_h264_clip(tmp_path / "q.mp4", frames, 25)
    with av.open(str(info.path)) as container:
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == 5
    for original, got in zip(frames, decoded, strict=True):
        error = np.abs(original.astype(np.int16) - got.astype(np.int16)).mean()
        assert error < 6.0, error


def test_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        write_h264_clip(tmp_path / "odd.mp4", [np.zeros((241, 320, 3), np.uint8)], 25)
    with pytest.raises(ValueError, match="size"):
        frames = [np.zeros((240, 320, 3), np.uint8), np.zeros((120, 160, 3), np.uint8)]
        write_h264_clip(tmp_path / "mixed.mp4", frames, 25)
    with pytest.raises(ValueError, match="no frames"):
        write_h264_clip(tmp_path / "empty.mp4", [], 25)
    with pytest.raises(ValueError, match="n_frames"):
        write_h264_clip(tmp_path / "cb.mp4", lambda i: np.zeros((240, 320, 3), np.uint8), 25)
