"""Camera frames: one thread per camera decoding an RTSP stream (or a video file) with PyAV.

What this stage guarantees to the worker behind it:

* **Fresh frames, never a backlog.** A live camera does not wait for us: frames go into a one-slot
  "latest wins" buffer and a frame the worker had no time for is dropped (counted). Video files instead
  block (nothing dropped, deterministic tests), played as fast as the worker goes (``pace: fast``) or at
  their native rate (``pace: realtime``, as a camera would).
* **Only needed frames are converted.** Every packet must be decoded (H.264 frames depend on their
  predecessors), but only frames due at the camera's ``detect_fps`` are converted to BGR arrays, the
  costly part at 1080p. With ``idle_keyframes_only`` the decoder even skips non-key frames while the
  worker reports an idle lane (saves most decode CPU; costs up to two keyframe intervals of latency when
  a car appears: motion is seen on a keyframe, and full decoding resumes cleanly only at the next one).
* **Dead cameras are noticed and retried.** PyAV's ``timeout=(open, read)`` arms FFmpeg's interrupt
  callback, so a camera that accepts the connection and then sends nothing fails the read within
  ``read_timeout_s``; a stream that sends packets but yields no picture trips the frame-age watchdog.
  Reconnects back off exponentially (capped, with jitter so that the cameras of a site that lost power
  together do not reconnect in lock-step).
* **State changes are reported** (`streaming`, `reconnecting`, `error` after repeated failures) through
  a callback; the reason never contains the URL (RTSP URLs carry the camera password).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import av
import numpy as np

from edge.config import CameraConfig
from edge.events import CameraHealth, CameraState, now

log = logging.getLogger(__name__)

#: Consecutive failed attempts (no frame in between) before `reconnecting` becomes `error`.
ERROR_AFTER_FAILURES = 3


@dataclass(frozen=True)
class Frame:
    """A decoded frame as it crosses from the source to the camera worker."""

    camera: str
    index: int  # frames decoded by this source so far (all of them, not only converted ones)
    t: float  # seconds on the camera's clock: media time for files, monotonic arrival for streams
    wall: datetime  # when it was captured (aware); events are stamped with it
    image: np.ndarray  # BGR uint8


class SourceStall(RuntimeError):
    """No picture (or no answer) for longer than a configured timeout."""


@dataclass
class SourceStats:
    """Counters read by the service for metrics and STATUS; written by the source thread only."""

    decoded: int = 0
    delivered: int = 0
    dropped_stale: int = 0
    reconnects: int = 0
    fps: float = 0.0
    last_frame_mono: float = 0.0


class FrameSource:
    """Decodes one camera in a background thread; `get` returns sampled frames."""

    def __init__(
        self,
        camera: CameraConfig,
        on_state: Callable[[CameraState], None] | None = None,
        sample_fps: float | None = None,
    ) -> None:
        self.camera = camera
        self.sample_fps = sample_fps or camera.detect_fps
        self.on_state = on_state
        self.stats = SourceStats()
        self.state: CameraHealth | None = None
        self.reason: str | None = None
        self.ended = threading.Event()  # a file reached its end (or cannot be opened); streams never end
        self.idle = False  # set by the worker: the lane is empty (idle_keyframes_only decodes keyframes)
        self._live = camera.is_stream
        self._queue: queue.Queue[Frame] = queue.Queue(maxsize=1 if self._live else 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"source-{camera.id}", daemon=True)
        self._t_offset = 0.0  # keeps the camera clock increasing across reconnects (files)
        self._got_frames = False
        self._last_packet = 0.0

    # --- public API ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        try:  # unblock a file source waiting on a full queue
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout if timeout is not None else self.camera.read_timeout_s + 2)

    def get(self, timeout: float) -> Frame | None:
        """The next sampled frame, or None after ``timeout`` seconds without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def frame_age(self) -> float:
        """Seconds since the last decoded frame (inf before the first)."""
        last = self.stats.last_frame_mono
        return time.monotonic() - last if last else float("inf")

    # --- the thread ------------------------------------------------------------------------------------
    def _set_state(self, state: CameraHealth, reason: str | None = None) -> None:
        if state == self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        level = logging.INFO if state == "streaming" else logging.WARNING
        extra = {"camera": self.camera.id} | ({"reason": reason} if reason else {})
        log.log(level, "camera %s", state, extra=extra)
        if self.on_state is not None:
            try:
                self.on_state(CameraState(self.camera.id, state, now(), self.stats.fps or None, reason))
            except Exception:  # a broken publisher must not kill the camera
                log.exception("camera %s: state callback failed", self.camera.id)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._got_frames = False
            try:
                self._stream_once()
            except Exception as e:  # av.error.*, SourceStall, OSError: all mean "try again"
                reason = _describe(e)
            else:
                if not self._live:
                    self.ended.set()
                    return
                reason = "the stream ended"
            got_frames = self._got_frames
            if self._stop.is_set():
                return
            if not self._live and not got_frames:
                self._set_state("error", reason)
                self.ended.set()
                return
            failures = 0 if got_frames else failures + 1
            self.stats.reconnects += 1
            self._set_state("error" if failures >= ERROR_AFTER_FAILURES else "reconnecting", reason)
            backoff = self.camera.reconnect
            delay = min(backoff.max_s, backoff.initial_s * 2 ** max(0, failures - 1))
            self._stop.wait(delay * random.uniform(0.5, 1.0))

    def _open(self) -> av.container.InputContainer:
        cam = self.camera
        if self._live:
            options = {"rtsp_transport": cam.transport, "timeout": str(int(cam.read_timeout_s * 1e6))}
            return av.open(cam.url, options=options, timeout=(cam.open_timeout_s, cam.read_timeout_s))
        return av.open(cam.url)

    def _stream_once(self) -> None:
        """Open and decode until the stream ends (returns) or fails (raises).

        FFmpeg reports an interrupted (timed-out) read as whatever error the half-read data caused,
        typically "Invalid data found", so a failure that took the whole timeout is reported as one."""
        t_open = time.monotonic()
        try:
            container = self._open()
        except Exception as e:
            if self._live and time.monotonic() - t_open >= self.camera.open_timeout_s - 0.2:
                raise SourceStall(f"timed out: no answer within {self.camera.open_timeout_s:g} s") from e
            raise
        self._last_packet = time.monotonic()
        try:
            self._decode(container)
        except Exception as e:
            if self._live and time.monotonic() - self._last_packet >= self.camera.read_timeout_s - 0.2:
                raise SourceStall(f"timed out: no data for {self.camera.read_timeout_s:g} s") from e
            raise
        finally:
            container.close()

    def _decode(self, container: av.container.InputContainer) -> None:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: 1080p H.264 decodes ~2x faster on 2 cores
        ctx = stream.codec_context
        start_wall, start_mono = now(), time.monotonic()
        first_media: float | None = None
        next_due = -np.inf
        last_frame_mono = time.monotonic()
        window_start, window_frames = last_frame_mono, 0
        resync = False
        for packet in container.demux(stream):
            if self._stop.is_set():
                break
            mono = self._last_packet = time.monotonic()
            if mono - last_frame_mono > self.camera.read_timeout_s:
                raise SourceStall(f"no picture for {self.camera.read_timeout_s:.0f} s")
            skip: Literal["NONKEY", "DEFAULT"] = (
                "NONKEY" if (self.idle and self.camera.idle_keyframes_only) else "DEFAULT"
            )
            if ctx.skip_frame != skip:
                # Leaving keyframes-only mid-GOP: the next P-frames reference frames we skipped, and
                # FFmpeg would hand out smeared, concealed pictures; wait for the next keyframe.
                resync = skip == "DEFAULT"
                ctx.skip_frame = skip
            for frame in packet.decode():
                if resync and not frame.key_frame:
                    continue
                resync = False
                mono = time.monotonic()
                last_frame_mono = mono
                self.stats.last_frame_mono = mono
                self.stats.decoded += 1
                window_frames += 1
                if mono - window_start >= 2.0:
                    self.stats.fps = window_frames / (mono - window_start)
                    window_start, window_frames = mono, 0
                if not self._got_frames:
                    self._got_frames = True
                    self._set_state("streaming")
                media_t = float(frame.time) if frame.time is not None else None
                if self._live or media_t is None:
                    t = mono
                    wall = start_wall + timedelta(seconds=mono - start_mono)
                else:
                    if first_media is None:
                        first_media = media_t
                    t = self._t_offset + media_t - first_media
                    wall = start_wall + timedelta(seconds=t - self._t_offset)
                    if self.camera.pace == "realtime":
                        self._stop.wait(max(0.0, start_mono + (t - self._t_offset) - time.monotonic()))
                if t + 1e-6 < next_due:
                    continue
                # Keep the sampling grid (no drift from frame-time jitter), restarting it after a gap.
                period = 1.0 / self.sample_fps
                next_due = t + period if t - next_due >= period else next_due + period
                image = frame.to_ndarray(format="bgr24")
                self._deliver(Frame(self.camera.id, self.stats.decoded, t, wall, image))
        if first_media is not None:
            self._t_offset = next_due + 1.0

    def _deliver(self, frame: Frame) -> None:
        if self._live:
            try:
                self._queue.put_nowait(frame)
            except queue.Full:
                try:  # latest wins: the worker is behind, an old frame is worth nothing at a gate
                    self._queue.get_nowait()
                    self.stats.dropped_stale += 1
                except queue.Empty:
                    pass
                self._queue.put_nowait(frame)
        else:
            while not self._stop.is_set():
                try:
                    self._queue.put(frame, timeout=0.2)
                    break
                except queue.Full:
                    continue
        self.stats.delivered += 1


def _describe(exc: BaseException) -> str:
    """A short reason for a failure, without the URL (FFmpeg messages often include it)."""
    if isinstance(exc, SourceStall):
        return str(exc)
    if isinstance(exc, av.error.TimeoutError) or "timed out" in str(exc).lower():
        return "timed out waiting for the camera"
    if isinstance(exc, av.error.ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, av.error.FileNotFoundError):
        return "not found"
    if isinstance(exc, av.error.FFmpegError):
        return f"{exc.strerror or type(exc).__name__}"
    return type(exc).__name__
