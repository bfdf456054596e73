#!/usr/bin/python3
"""Serve one H.264 file over RTSP with GStreamer's gst-rtsp-server (a stand-in IP camera for tests).

Runs under the SYSTEM python (``/usr/bin/python3``, which has ``gi``), not the project's venv:

    /usr/bin/python3 tests/support/rtsp_server.py --port 8554 --file clip.mp4 --mount /cam [--loop]

Prints ``READY rtsp://127.0.0.1:PORT/MOUNT`` on stdout once it accepts connections (``--port 0``
picks a free port and the line says which). Stops on SIGTERM/SIGINT.

Modes:
- default: every client gets the file from its start, paced in real time; at its end the stream
  ends (EOS, the server sends RTCP BYE).
- ``--loop``: the file's H.264 access units are read into memory once and replayed forever with
  continuous timestamps (a live-looking camera that never ends).
- ``--shared``: all clients share one pipeline (like a real camera: a late client joins mid-stream
  and waits for the next keyframe); without it each client gets its own pipeline from frame 0.

Containers: ``.mp4``/``.mov``/``.m4v`` (qtdemux), ``.mkv``/``.webm`` (matroskademux), ``.ts`` (tsdemux),
``.h264``/``.264`` (raw Annex B).
"""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

DEMUXERS = {
    ".mp4": "qtdemux",
    ".mov": "qtdemux",
    ".m4v": "qtdemux",
    ".mkv": "matroskademux",
    ".webm": "matroskademux",
    ".ts": "tsdemux",
}
RAW_SUFFIXES = {".h264", ".264"}


def _quote(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def file_to_h264(path: Path) -> str:
    """Launch-string fragment from ``filesrc`` to parsed H.264 for ``path``'s container."""
    suffix = path.suffix.lower()
    src = f"filesrc location={_quote(path)}"
    if suffix in RAW_SUFFIXES:
        return f"{src} ! h264parse config-interval=-1"
    demux = DEMUXERS.get(suffix)
    if demux is None:
        raise SystemExit(f"rtsp_server: unsupported container {suffix!r} (use one of {sorted(DEMUXERS)})")
    return f"{src} ! {demux} ! h264parse config-interval=-1"


@dataclass
class AccessUnit:
    pts: int  # ns, relative to the file's first frame
    dts: int  # ns, or -1 when unknown
    duration: int  # ns
    data: bytes
    delta: bool  # not a keyframe


@dataclass
class Clip:
    caps: Any  # Gst.Caps
    units: list[AccessUnit]
    period: int  # ns: one pass through the file


def load_clip(path: Path) -> Clip:
    """Demux ``path`` to H.264 byte-stream access units held in memory."""
    pipeline = Gst.parse_launch(
        f"{file_to_h264(path)} ! video/x-h264,stream-format=byte-stream,alignment=au "
        "! appsink name=sink sync=false"
    )
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    caps: Any = None
    raw: list[tuple[int, int, int, bytes, bool]] = []
    try:
        while True:
            sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
            if sample is None:
                if sink.get_property("eos"):
                    break
                raise SystemExit(f"rtsp_server: timed out demuxing {path}")
            buf = sample.get_buffer()
            if caps is None:
                caps = sample.get_caps()
            ok, info = buf.map(Gst.MapFlags.READ)
            if not ok:
                raise SystemExit("rtsp_server: cannot map buffer")
            try:
                data = bytes(info.data)
            finally:
                buf.unmap(info)
            delta = bool(buf.get_flags() & Gst.BufferFlags.DELTA_UNIT)
            raw.append((buf.pts, buf.dts, buf.duration, data, delta))
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not raw or caps is None:
        raise SystemExit(f"rtsp_server: no H.264 frames in {path}")
    structure = caps.get_structure(0)
    ok, num, den = structure.get_fraction("framerate")
    frame_ns = Gst.SECOND * den // num if ok and num > 0 else Gst.SECOND // 25
    valid_pts = [pts for pts, *_ in raw if pts != Gst.CLOCK_TIME_NONE]
    base = min(valid_pts) if valid_pts else 0
    units: list[AccessUnit] = []
    for i, (pts, dts, duration, data, delta) in enumerate(raw):
        rel_pts = pts - base if pts != Gst.CLOCK_TIME_NONE else i * frame_ns
        rel_dts = dts - base if dts != Gst.CLOCK_TIME_NONE and dts >= base else -1
        dur = duration if duration != Gst.CLOCK_TIME_NONE and duration > 0 else frame_ns
        units.append(AccessUnit(rel_pts, rel_dts, dur, data, delta))
    period = max(u.pts + u.duration for u in units)
    return Clip(caps=caps, units=units, period=period)


class LoopFeeder:
    """Feeds one media's appsrc with the clip's access units, forever, timestamps continuing across loops."""

    def __init__(self, clip: Clip, appsrc: Any) -> None:
        self.clip = clip
        self.appsrc = appsrc
        self.index = 0
        self.loop = 0
        appsrc.set_property("caps", clip.caps)
        appsrc.set_property("format", Gst.Format.TIME)
        appsrc.set_property("is-live", False)
        appsrc.set_property("do-timestamp", False)
        appsrc.set_property("max-bytes", 2_000_000)
        appsrc.connect("need-data", self.on_need_data)

    def on_need_data(self, src: Any, _length: int) -> None:
        unit = self.clip.units[self.index]
        offset = self.loop * self.clip.period
        buf = Gst.Buffer.new_wrapped(unit.data)
        buf.pts = unit.pts + offset
        buf.dts = unit.dts + offset if unit.dts >= 0 else Gst.CLOCK_TIME_NONE
        buf.duration = unit.duration
        if unit.delta:
            buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
        src.emit("push-buffer", buf)
        self.index += 1
        if self.index == len(self.clip.units):
            self.index = 0
            self.loop += 1


def build_factory(args: argparse.Namespace) -> Any:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_shared(args.shared)
    if args.tcp_only:
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    pay = "rtph264pay name=pay0 pt=96 config-interval=1"
    if args.loop:
        clip = load_clip(args.file)
        factory.set_launch(f"( appsrc name=src ! h264parse ! {pay} )")
        feeders: list[LoopFeeder] = []

        def on_media_configure(_factory: Any, media: Any) -> None:
            appsrc = media.get_element().get_by_name("src")
            feeder = LoopFeeder(clip, appsrc)
            feeders.append(feeder)  # keep a reference while the media lives
            media.connect("unprepared", lambda _m: feeders.remove(feeder))

        factory.connect("media-configure", on_media_configure)
    else:
        factory.set_launch(f"( {file_to_h264(args.file)} ! {pay} )")
    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--file", type=Path, required=True, help="H.264 file to serve")
    parser.add_argument("--mount", default="/stream", help="mount point, e.g. /cam")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    parser.add_argument("--loop", action="store_true", help="replay the file forever")
    parser.add_argument("--shared", action="store_true", help="one pipeline shared by all clients")
    parser.add_argument("--tcp-only", action="store_true", help="refuse UDP transport (interleaved only)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")
    if not args.mount.startswith("/"):
        args.mount = "/" + args.mount

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, build_factory(args))

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 1
    port = server.get_bound_port()

    def stop(*_: object) -> bool:
        loop.quit()
        return False  # GLib.SOURCE_REMOVE

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, stop)
    print(f"READY rtsp://{args.host}:{port}{args.mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
