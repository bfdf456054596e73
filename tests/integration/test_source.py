"""FrameSource on real files and a real RTSP server: sampling, keyframe-only idling, stale-frame dropping,
and errors that end a file camera."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edge.config_schema import CameraConfig
from edge.events import CameraState
from edge.source import Frame, FrameSource
from tests.support.clips import ClipInfo, read_frame_index, write_synthetic_clip
from tests.support.fixtures import RtspServerFactory

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def drain(source: FrameSource, timeout: float = 20.0) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = source.get(timeout=0.2)
        if frame is not None:
            frames.append(frame)
        elif source.ended.is_set():
            break
    return frames


@pytest.mark.parametrize("detect_fps", [25, 5])
def test_file_frames_are_sampled_at_detect_fps_on_the_media_clock(
    synthetic_clip: ClipInfo, detect_fps: int
) -> None:
    states: list[CameraState] = []
    cam = CameraConfig(id="c", url=str(synthetic_clip.path), pace="fast", detect_fps=detect_fps)
    source = FrameSource(cam, on_state=states.append)
    source.start()
    frames = drain(source)
    source.stop()
    assert source.ended.is_set() and source.stats.decoded == synthetic_clip.frames
    assert len(frames) == synthetic_clip.frames * detect_fps // synthetic_clip.fps
    steps = [b.t - a.t for a, b in itertools.pairwise(frames)]
    assert all(abs(s - 1 / detect_fps) < 1e-3 for s in steps), steps
    assert [read_frame_index(f.image) for f in frames[:3]] == [0, 25 // detect_fps, 2 * 25 // detect_fps]
    assert [s.state for s in states] == ["streaming"]


def test_idle_lane_decodes_keyframes_only(synthetic_clip: ClipInfo) -> None:
    cam = CameraConfig(id="c", url=str(synthetic_clip.path), pace="fast", idle_keyframes_only=True)
    source = FrameSource(cam)
    source.idle = True  # the worker says: nothing moves
    source.start()
    frames = drain(source)
    source.stop()
    assert source.stats.decoded == synthetic_clip.frames // synthetic_clip.gop  # 6 keyframes of 60
    assert all(read_frame_index(f.image) % synthetic_clip.gop == 0 for f in frames)


def test_unreadable_file_is_an_error_and_ends(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video at all")
    states: list[CameraState] = []
    source = FrameSource(CameraConfig(id="c", url=str(bad)), on_state=states.append)
    source.start()
    assert source.ended.wait(10)
    source.stop()
    assert [s.state for s in states] == ["error"] and states[0].reason


def test_live_stream_drops_stale_frames_for_a_slow_worker(
    tmp_path: Path, rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo
) -> None:
    server = rtsp_server(synthetic_clip.path, loop=True)
    source = FrameSource(CameraConfig(id="c", url=server.url, detect_fps=25))
    source.start()
    try:
        got = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            frame = source.get(timeout=1.0)
            if frame is not None:
                got.append(frame)
                time.sleep(0.3)  # a worker slower than the camera
        assert source.stats.dropped_stale > 10
        assert got and all(time.monotonic() - f.t < 10 for f in got)
        ages = [b.t - a.t for a, b in itertools.pairwise(got)]
        assert min(ages) > 0.2  # each frame handed over was the newest, not a backlog
    finally:
        source.stop()


def test_leaving_keyframes_only_resumes_at_a_keyframe(tmp_path: Path) -> None:
    """Decoding P-frames whose references were skipped gives smeared pictures: never hand one out."""
    clip = write_synthetic_clip(tmp_path / "long.mp4", 200, fps=25, gop=10)
    cam = CameraConfig(id="c", url=str(clip.path), pace="fast", idle_keyframes_only=True, detect_fps=25)
    source = FrameSource(cam)
    source.idle = True
    source.start()
    first = source.get(timeout=10)
    assert first is not None and read_frame_index(first.image) == 0
    time.sleep(0.3)  # the decoder skips P-frames and queues keyframes until its queue is full
    source.idle = False  # a car: full decoding again, from the next keyframe on
    rest = [read_frame_index(f.image) for f in drain(source)]
    source.stop()
    resumed = next(i for i in rest if i % clip.gop != 0)
    keyframe = rest[rest.index(resumed) - 1]
    assert keyframe % clip.gop == 0 and resumed == keyframe + 1, rest
    assert rest[rest.index(resumed) :] == list(range(resumed, clip.frames))


def test_rtsp_over_udp_streams_too(rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo) -> None:
    server = rtsp_server(synthetic_clip.path, loop=True)
    states: list[CameraState] = []
    source = FrameSource(CameraConfig(id="c", url=server.url, transport="udp"), on_state=states.append)
    source.start()
    try:
        frame = source.get(timeout=10)
        assert frame is not None and frame.image.shape == (240, 320, 3)
        assert [s.state for s in states] == ["streaming"]
    finally:
        source.stop()
