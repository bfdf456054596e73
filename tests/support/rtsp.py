"""Stand-in IP cameras for tests: a GStreamer RTSP server subprocess, and a server that never answers."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

import av

from .ports import LOOPBACK, wait_for_port_closed
from .processes import Service, die_with_parent, kill_group, tail, terminate_group

#: The system interpreter: it has PyGObject (``gi``) and GStreamer's introspection data; the venv has not.
SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")

#: Options for ``av.open`` on an RTSP URL that the daemon's reader is expected to use too.
#: PyAV 18: ``timeout=(open_s, read_s)`` arms FFmpeg's interrupt callback (seconds, float): the
#: open phase (connect, DESCRIBE/SETUP/PLAY, stream probing) must finish within open_s, and each
#: later packet read within read_s. FFmpeg's own ``timeout`` option (microseconds, string) is the
#: RTSP socket I/O timeout.
AV_RTSP_OPTIONS: dict[str, str] = {"rtsp_transport": "tcp", "timeout": "5000000"}


def open_rtsp(url: str, timeout: tuple[float, float] = (5.0, 5.0)) -> av.container.InputContainer:
    """``av.open`` an RTSP URL over TCP with both timeouts armed (never hangs on a dead camera)."""
    return av.open(url, options=dict(AV_RTSP_OPTIONS), timeout=timeout)


class RtspServerError(RuntimeError):
    """The RTSP server did not come up (the message carries the end of its log)."""


class RtspServer(Service):
    """``/usr/bin/python3 tests/support/rtsp_server.py`` serving ``file`` at ``rtsp://host:port/mount``.

    The first :meth:`start` lets the server pick a free port (``--port 0``, race-free) unless
    ``port`` was given; later starts reuse that port, so :meth:`stop`/:meth:`kill` then
    :meth:`start` is a camera that went away and came back at the same address.
    """

    def __init__(
        self,
        file: Path,
        *,
        mount: str = "/cam",
        port: int = 0,
        host: str = LOOPBACK,
        loop: bool = False,
        shared: bool = False,
        tcp_only: bool = False,
        log_path: Path | None = None,
    ) -> None:
        self.file = Path(file)
        self.mount = mount if mount.startswith("/") else "/" + mount
        self.port = port
        self.host = host
        self.loop = loop
        self.shared = shared
        self.tcp_only = tcp_only
        if log_path is None:
            log_path = Path(tempfile.gettempdir()) / f"rtsp-server-{os.getpid()}-{id(self):x}.log"
        self.log_path = log_path
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if not self.port:
            raise RtspServerError("the server has not started yet: no port")
        return f"rtsp://{self.host}:{self.port}{self.mount}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def command(self) -> list[str]:
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--host", self.host, "--port", str(self.port)]
        cmd += ["--file", str(self.file), "--mount", self.mount]
        if self.loop:
            cmd.append("--loop")
        if self.shared:
            cmd.append("--shared")
        if self.tcp_only:
            cmd.append("--tcp-only")
        return cmd

    def start(self, timeout: float = 15.0) -> None:
        """Start the server (no-op when running) and wait for its ``READY`` line."""
        if self.running:
            return
        env = dict(os.environ)
        # The venv's variables must not leak into the system interpreter.
        for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(key, None)
        log = self.log_path.open("ab")
        try:
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent,
                env=env,
            )
        finally:
            log.close()
        self._proc = proc
        assert proc.stdout is not None
        line = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n") and time.monotonic() < deadline:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    break
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:  # EOF: the process died
                    break
                line += chunk
        text = line.decode(errors="replace").strip()
        if not text.startswith("READY "):
            terminate_group(proc)
            self._proc = None
            raise RtspServerError(
                f"RTSP server did not become ready (got {text!r}, exit {proc.returncode}):\n"
                + tail(self.log_path)
            )
        url = text.split(maxsplit=1)[1]
        self.port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        self.starts += 1

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the server's process group; the port is free on return."""
        if self._proc is not None:
            terminate_group(self._proc, timeout)
            self._close()

    def kill(self) -> None:
        """SIGKILL the server's process group (the camera loses power mid-stream)."""
        if self._proc is not None:
            kill_group(self._proc)
            self._close()

    def _close(self) -> None:
        assert self._proc is not None
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
        if self.port:
            wait_for_port_closed(self.host, self.port, timeout=5.0)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RtspServer {self.host}:{self.port}{self.mount} {state} file={self.file.name}>"


SilentMode = Literal["silent", "close", "garbage"]


class SilentServer(Service):
    """A TCP server on loopback that accepts connections and then misbehaves, in a thread.

    - ``"silent"``: accepts and never sends a byte (a camera that hangs after the TCP handshake);
      connections stay open until :meth:`stop`.
    - ``"close"``: accepts and closes at once.
    - ``"garbage"``: answers every request with bytes that are not RTSP.
    """

    def __init__(self, mode: SilentMode = "silent", host: str = LOOPBACK, path: str = "/silent") -> None:
        self.mode = mode
        self.host = host
        self.path = path
        self.connections = 0
        self.received = bytearray()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]
        self._clients: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"silent-server-{self.port}", daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"rtsp://{self.host}:{self.port}{self.path}"

    def start(self) -> None:
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                self._drain()
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            if self.mode == "close":
                conn.close()
                continue
            conn.setblocking(False)
            self._clients.append(conn)

    def _drain(self) -> None:
        for conn in list(self._clients):
            try:
                data = conn.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self._clients.remove(conn)
                conn.close()
                continue
            with self._lock:
                self.received += data
            if self.mode == "garbage":
                with contextlib.suppress(OSError):
                    conn.sendall(b"\x00\xffNOT-RTSP\r\n\r\n" * 4)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for conn in self._clients:
            conn.close()
        self._clients.clear()
        self._sock.close()
