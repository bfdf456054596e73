"""Synthetic H.264 clips for tests: frame generator, frame-index barcode, encoder.

Frames are BGR ``uint8`` arrays of shape ``(height, width, 3)`` (OpenCV's convention) unless a
function says otherwise. Every synthetic frame carries its index twice: as text (for people looking
at a frame) and as a 16-bit barcode in the top-left corner (for tests: :func:`read_frame_index`
recovers it from a decoded frame, surviving H.264 compression), so a test can check that frames
arrive complete, in order, and whether a looping source wrapped around.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
FrameSource = Iterable[Frame] | Callable[[int], Frame]
PixelFormat = Literal["bgr24", "rgb24"]

#: H.264 encoders tried in order; PyAV 18's bundled FFmpeg ships ``libx264``.
H264_ENCODERS: tuple[str, ...] = ("libx264", "libopenh264")

BARCODE_BITS = 16
BARCODE_CELL = 16  # pixels; macroblock-aligned so compression barely touches the cells
BARCODE_WIDTH = BARCODE_BITS * BARCODE_CELL
MIN_SIZE = (BARCODE_WIDTH, 2 * BARCODE_CELL)


@dataclass(frozen=True)
class ClipInfo:
    """What :func:`write_h264_clip` wrote."""

    path: Path
    frames: int
    fps: int
    size: tuple[int, int]  # (width, height)
    gop: int
    codec: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


def h264_encoder() -> str:
    """Name of the first usable H.264 encoder in PyAV's FFmpeg (``libx264`` on PyAV 18 wheels)."""
    for name in H264_ENCODERS:
        if name in av.codecs_available:
            try:
                av.codec.Codec(name, "w")
            except Exception:  # pragma: no cover - depends on the FFmpeg build
                continue
            return name
    raise RuntimeError(f"no H.264 encoder in PyAV's FFmpeg (tried {', '.join(H264_ENCODERS)})")


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"size must be positive and even for yuv420p, got {width}x{height}")


def draw_frame_index(frame: Frame, index: int) -> Frame:
    """Draw ``index`` (mod 2**16) as a black/white barcode into the top-left corner, in place."""
    height, width = frame.shape[:2]
    if width < BARCODE_WIDTH or height < BARCODE_CELL:
        raise ValueError(f"frame {width}x{height} too small for the {BARCODE_WIDTH}px barcode")
    value = index % (1 << BARCODE_BITS)
    for bit in range(BARCODE_BITS):
        on = (value >> (BARCODE_BITS - 1 - bit)) & 1
        x = bit * BARCODE_CELL
        frame[0:BARCODE_CELL, x : x + BARCODE_CELL] = 255 if on else 0
    return frame


def read_frame_index(frame: npt.NDArray[Any]) -> int:
    """Read the barcode drawn by :func:`draw_frame_index` from a (decoded, BGR or RGB) frame."""
    height, width = frame.shape[:2]
    if width < BARCODE_WIDTH or height < BARCODE_CELL:
        raise ValueError(f"frame {width}x{height} too small to hold a barcode")
    value = 0
    margin = BARCODE_CELL // 4  # sample the cell's centre, away from blurred edges
    for bit in range(BARCODE_BITS):
        x = bit * BARCODE_CELL
        cell = frame[margin : BARCODE_CELL - margin, x + margin : x + BARCODE_CELL - margin]
        value = (value << 1) | int(float(cell.mean()) > 127.5)
    return value


def synthetic_frame(index: int, size: tuple[int, int] = (320, 240)) -> Frame:
    """A BGR test frame: grey background, two rectangles moving with ``index``, index as text and barcode."""
    width, height = size
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise ValueError(f"synthetic frames need at least {MIN_SIZE[0]}x{MIN_SIZE[1]}, got {width}x{height}")
    frame = np.full((height, width, 3), 96, dtype=np.uint8)
    box = max(8, min(width, height) // 6)
    span_x = max(1, width - box)
    span_y = max(1, height - BARCODE_CELL - box)
    x1 = (index * 7) % span_x
    y1 = BARCODE_CELL + (index * 3) % span_y
    cv2.rectangle(frame, (x1, y1), (x1 + box, y1 + box), (40, 200, 40), thickness=-1)
    x2 = span_x - 1 - (index * 5) % span_x
    y2 = BARCODE_CELL + span_y - 1 - (index * 2) % span_y
    cv2.rectangle(frame, (x2, y2), (x2 + box, y2 + box), (200, 60, 40), thickness=-1)
    scale = max(0.4, height / 240)
    cv2.putText(
        frame,
        f"#{index}",
        (8, min(height - 8, BARCODE_CELL + int(30 * scale))),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness=max(1, int(2 * scale)),
        lineType=cv2.LINE_AA,
    )
    return draw_frame_index(frame, index)


def synthetic_frames(count: int, size: tuple[int, int] = (320, 240), start: int = 0) -> Iterator[Frame]:
    """``count`` consecutive :func:`synthetic_frame` frames starting at index ``start``."""
    for index in range(start, start + count):
        yield synthetic_frame(index, size)


def _frame_iter(frames: FrameSource, n_frames: int | None) -> Iterator[Frame]:
    if callable(frames):
        if n_frames is None:
            raise ValueError("n_frames is required when frames is a callable")
        return (frames(i) for i in range(n_frames))
    it = iter(frames)
    if n_frames is None:
        return it
    return (frame for _, frame in zip(range(n_frames), it, strict=False))


def write_h264_clip(
    path: str | os.PathLike[str],
    frames: FrameSource,
    fps: int = 25,
    size: tuple[int, int] | None = None,
    gop: int | None = None,
    *,
    n_frames: int | None = None,
    pixel_format: PixelFormat = "bgr24",
    crf: int = 20,
) -> ClipInfo:
    """Encode ``frames`` to an H.264 (yuv420p, Baseline-like: no B-frames) file and return what was written.

    ``path``'s suffix picks the container (``.mp4``, ``.mkv``, ``.ts``, ...). ``frames`` is an iterable
    of arrays or a callable ``index -> array`` (then ``n_frames`` is required); with an iterable,
    ``n_frames`` caps how many are taken. ``size`` is ``(width, height)``, taken from the first frame
    when omitted; every frame must match it. ``gop`` is the fixed keyframe interval in frames
    (default: ``fps``, one keyframe a second; scene-cut keyframes are disabled so it is exact).
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    gop = fps if gop is None else gop
    if gop <= 0:
        raise ValueError(f"gop must be positive, got {gop}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    codec = h264_encoder()
    source = _frame_iter(frames, n_frames)
    count = 0
    with av.open(str(out), mode="w") as container:
        stream: av.VideoStream | None = None
        stream_size = (0, 0)
        for frame in source:
            if stream is None:
                if size is None:
                    size = (int(frame.shape[1]), int(frame.shape[0]))
                _check_size(size)
                stream_size = size
                options = {"crf": str(crf), "bf": "0"}
                if codec == "libx264":
                    options |= {
                        "preset": "ultrafast",
                        "tune": "zerolatency",
                        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
                    }
                added = container.add_stream(codec, rate=fps, options=options)
                if not isinstance(added, av.VideoStream):  # pragma: no cover - H.264 is a video codec
                    raise TypeError(f"{codec} did not give a video stream")
                stream = added
                stream.width, stream.height = size
                stream.pix_fmt = "yuv420p"
                stream.time_base = Fraction(1, fps)
                stream.codec_context.gop_size = gop
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"frame {count}: expected uint8 HxWx3, got {frame.dtype} {frame.shape}")
            if (frame.shape[1], frame.shape[0]) != stream_size:
                raise ValueError(
                    f"frame {count}: size {frame.shape[1]}x{frame.shape[0]} != clip size {stream_size}"
                )
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=pixel_format)
            video_frame.pts = count
            video_frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(video_frame))
            count += 1
        if stream is None:
            raise ValueError("no frames to encode")
        container.mux(stream.encode(None))
    return ClipInfo(path=out, frames=count, fps=fps, size=stream_size, gop=gop, codec=codec)


def write_synthetic_clip(
    path: str | os.PathLike[str],
    n_frames: int,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    gop: int | None = None,
    start: int = 0,
) -> ClipInfo:
    """Encode ``n_frames`` :func:`synthetic_frame` frames (indices ``start``...) to ``path``."""
    return write_h264_clip(path, synthetic_frames(n_frames, size, start), fps, size, gop)


@dataclass(frozen=True)
class DecodedClip:
    """Summary of a decoded file, for assertions."""

    size: tuple[int, int]
    indices: list[int]
    keyframes: list[int]  # positions (0-based decode order) of key frames
    codec: str


def decode_clip(path: str | os.PathLike[str]) -> DecodedClip:
    """Decode every frame of ``path``'s first video stream; read each frame's barcode."""
    indices: list[int] = []
    keyframes: list[int] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        size = (stream.codec_context.width, stream.codec_context.height)
        for position, frame in enumerate(container.decode(stream)):
            indices.append(read_frame_index(frame.to_ndarray(format="bgr24")))
            if frame.key_frame:
                keyframes.append(position)
    return DecodedClip(size=size, indices=indices, keyframes=keyframes, codec=codec)
