"""The RTSP fixtures work: real frames over RTSP/TCP, looping, restart on the same port, silent cameras."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from tests.support.clips import ClipInfo, read_frame_index, write_synthetic_clip
from tests.support.fixtures import RtspServerFactory, SilentServerFactory
from tests.support.ports import port_accepts
from tests.support.rtsp import AV_RTSP_OPTIONS, open_rtsp

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def read_indices(
    container: av.container.InputContainer, count: int | None = None
) -> tuple[list[int], set[tuple[int, int]]]:
    """Decode up to ``count`` frames (all when None); return their barcode indices and the sizes seen."""
    indices: list[int] = []
    sizes: set[tuple[int, int]] = set()
    for frame in container.decode(video=0):
        sizes.add((frame.width, frame.height))
        indices.append(read_frame_index(frame.to_ndarray(format="bgr24")))
        if count is not None and len(indices) >= count:
            break
    return indices, sizes


def test_decodes_30_frames_over_rtsp(rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo) -> None:
    server = rtsp_server(synthetic_clip.path, mount="/entry")
    assert server.url == f"rtsp://127.0.0.1:{server.port}/entry"
    with open_rtsp(server.url) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        indices, sizes = read_indices(container, 30)
    assert sizes == {synthetic_clip.size} == {(320, 240)}
    assert indices == list(range(30))  # every frame, in order, from the first


def test_stream_ends_at_end_of_file(rtsp_server: RtspServerFactory, tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "short.mp4", 30, fps=25, gop=10)
    server = rtsp_server(clip.path)
    start = time.monotonic()
    with open_rtsp(server.url) as container:
        indices, _ = read_indices(container)  # ends by itself (RTCP BYE -> EOF)
    assert indices == list(range(30))
    assert time.monotonic() - start < 8


def test_loop_replays_forever(rtsp_server: RtspServerFactory, tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "loop.mkv", 20, fps=25, gop=10)
    server = rtsp_server(clip.path, loop=True)
    start = time.monotonic()
    with open_rtsp(server.url) as container:
        indices, sizes = read_indices(container, 55)
    elapsed = time.monotonic() - start
    assert sizes == {(320, 240)}
    assert indices == [i % 20 for i in range(55)]  # wrapped twice with no gap or repeat
    assert 1.0 < elapsed < 6.0  # paced in real time (55 frames at 25 fps = 2.2 s)


def test_matroska_tcp_only(rtsp_server: RtspServerFactory, tmp_path: Path) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.mkv", 40, fps=25, size=(640, 360), gop=20)
    server = rtsp_server(clip.path, tcp_only=True)
    with open_rtsp(server.url) as container:
        indices, sizes = read_indices(container, 30)
    assert sizes == {(640, 360)}
    assert indices == list(range(30))


def test_shared_media_late_client_joins_at_a_keyframe(
    rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo
) -> None:
    server = rtsp_server(synthetic_clip.path, loop=True, shared=True)
    with open_rtsp(server.url) as first:
        first_indices, _ = read_indices(first, 15)
        with open_rtsp(server.url) as late:
            late_indices, _ = read_indices(late, 5)
    assert first_indices == list(range(15))
    start = late_indices[0]
    assert start > 0 and start % synthetic_clip.gop == 0, late_indices  # mid-stream, from a keyframe
    assert late_indices == [(start + i) % synthetic_clip.frames for i in range(5)]


def test_kill_mid_stream_then_restart_on_same_port(
    rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo
) -> None:
    server = rtsp_server(synthetic_clip.path, loop=True)
    port = server.port
    container = open_rtsp(server.url, timeout=(5.0, 3.0))
    indices: list[int] = []
    ended_by = "eof"
    killed_at = 0.0
    try:
        for frame in container.decode(video=0):
            indices.append(read_frame_index(frame.to_ndarray(format="bgr24")))
            if len(indices) == 5:
                server.kill()
                killed_at = time.monotonic()
                assert not port_accepts("127.0.0.1", port)
            assert len(indices) < 200, "frames kept coming after the server was killed"
    except av.error.FFmpegError as exc:
        ended_by = type(exc).__name__
    finally:
        container.close()
    assert killed_at, "never got 5 frames"
    # The reader learns of the loss within the read timeout (buffered frames may drain first).
    assert time.monotonic() - killed_at < 6, ended_by
    assert indices[:5] == list(range(5))

    server.start()
    assert server.port == port
    assert server.starts == 2
    with open_rtsp(server.url) as container:
        again, _ = read_indices(container, 10)
    assert again == list(range(10))


def test_stop_start_keeps_url(rtsp_server: RtspServerFactory, synthetic_clip: ClipInfo) -> None:
    server = rtsp_server(synthetic_clip.path)
    url = server.url
    server.stop()
    assert not server.running
    with pytest.raises(av.error.FFmpegError):
        open_rtsp(url, timeout=(2.0, 2.0))  # connection refused
    server.start()
    assert server.url == url
    with open_rtsp(url) as container:
        indices, _ = read_indices(container, 3)
    assert indices == [0, 1, 2]


@pytest.mark.parametrize(
    ("options", "timeout"),
    [
        pytest.param(AV_RTSP_OPTIONS | {"timeout": "2000000"}, (2.0, 2.0), id="both"),
        pytest.param({"rtsp_transport": "tcp"}, (2.0, 2.0), id="pyav-timeout-only"),
        pytest.param(AV_RTSP_OPTIONS | {"timeout": "2000000"}, None, id="ffmpeg-timeout-only"),
    ],
)
def test_silent_camera_open_fails_within_timeout(
    silent_server: SilentServerFactory, options: dict[str, str], timeout: tuple[float, float] | None
) -> None:
    server = silent_server("silent")
    start = time.monotonic()
    with pytest.raises(av.error.FFmpegError):
        av.open(server.url, options=options, timeout=timeout)
    elapsed = time.monotonic() - start
    assert 1.5 < elapsed < 5.0, elapsed  # it waited for the timeout, and no longer
    assert server.connections == 1
    assert bytes(server.received).startswith(b"OPTIONS rtsp://")  # the client really spoke RTSP to it


@pytest.mark.parametrize("mode", ["close", "garbage"])
def test_misbehaving_camera_open_fails_fast(silent_server: SilentServerFactory, mode: str) -> None:
    server = silent_server(mode)
    start = time.monotonic()
    with pytest.raises(av.error.FFmpegError):
        open_rtsp(server.url, timeout=(5.0, 5.0))
    assert time.monotonic() - start < 3.0
    assert server.connections >= 1
