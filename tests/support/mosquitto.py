"""A real Mosquitto broker on a loopback port, owned by a test (no systemd, no shared state)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from .ports import LOOPBACK, free_port, wait_for_port, wait_for_port_closed
from .processes import Service, die_with_parent, kill_group, tail, terminate_group

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


class BrokerError(RuntimeError):
    """The broker did not start (the message carries the end of its log)."""


class MosquittoBroker(Service):
    """One ``mosquitto -c <workdir>/mosquitto.conf`` process listening on ``host:port``.

    The config is ``listener PORT HOST``, ``allow_anonymous``, persistence into ``workdir/data/``,
    logging into ``workdir/mosquitto.log``, then ``extra_conf`` verbatim: options there that
    belong to a listener (``cafile``, ``certfile``, ``keyfile``, ``require_certificate``, ...)
    apply to the main listener; ``password_file``/``acl_file`` are global. Another listener can be
    added with its own ``listener`` line (use :func:`tests.support.ports.free_port`).

    :meth:`stop` (SIGTERM: the broker saves its database) / :meth:`kill` (SIGKILL: a crash) and
    :meth:`start` again reuse the SAME port, so clients can reconnect to the same address.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        host: str = LOOPBACK,
        extra_conf: str = "",
        allow_anonymous: bool = True,
        binary: str = MOSQUITTO,
    ) -> None:
        self.workdir = Path(workdir)
        self.host = host
        self._port_pinned = port is not None
        self.port = port if port is not None else free_port(host)
        self.extra_conf = extra_conf
        self.allow_anonymous = allow_anonymous
        self.binary = binary
        self.conf_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self.data_dir = self.workdir / "data"
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    # -- config -----------------------------------------------------------------------------------
    def render_conf(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            "autosave_interval 1",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto 2 drops to user "mosquitto", which cannot read pytest's 0700 tmp dirs.
            lines.append("user root")
        return "\n".join(lines) + "\n" + self.extra_conf.strip() + "\n"

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker (no-op when running) and wait until its port accepts connections."""
        if self.running:
            return
        attempts = 1 if (self._port_pinned or self.starts) else 3
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                self.starts += 1
                return
            except BrokerError:
                in_use = "Address already in use" in tail(self.log_path, 5)
                if not in_use or attempt == attempts - 1:
                    raise
                self.port = free_port(self.host)  # lost the race for the probed port: try another

    def _start_once(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.render_conf())
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self._proc = proc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise BrokerError(
                    f"mosquitto exited with {proc.returncode} on port {self.port}:\n{tail(self.log_path)}"
                )
            if wait_for_port(self.host, self.port, timeout=0.1):
                return
        terminate_group(proc)
        self._proc = None
        raise BrokerError(f"mosquitto not accepting on {self.host}:{self.port} after {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful shutdown (SIGTERM; persistence is written). Port free on return."""
        if self._proc is not None:
            terminate_group(self._proc, timeout)
            self._proc = None
            wait_for_port_closed(self.host, self.port, timeout=timeout)

    def kill(self) -> None:
        """Crash the broker (SIGKILL; nothing saved since the last autosave). Port free on return."""
        if self._proc is not None:
            kill_group(self._proc)
            self._proc = None
            wait_for_port_closed(self.host, self.port)

    def restart(self, timeout: float = 10.0) -> None:
        self.stop()
        self.start(timeout)

    def ensure_running(self) -> None:
        """Start the broker again if a test stopped or crashed it."""
        if not self.running:
            self._proc = None
            self.start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MosquittoBroker {self.host}:{self.port} {state} dir={self.workdir}>"


def write_password_file(path: Path, users: Mapping[str, str]) -> Path:
    """Write a mosquitto password file (hashed with ``mosquitto_passwd``) for ``users`` (name -> password)."""
    if not users:
        raise ValueError("at least one user is needed")
    passwd = shutil.which("mosquitto_passwd") or MOSQUITTO_PASSWD
    path = Path(path)
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    for name, password in users.items():
        subprocess.run([passwd, "-b", str(path), name, password], check=True, capture_output=True, timeout=30)
    path.chmod(0o600)
    return path
