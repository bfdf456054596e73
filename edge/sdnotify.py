"""systemd's sd_notify protocol (``Type=notify`` services): readiness, status lines and the watchdog.

The protocol is one datagram of ``KEY=VALUE`` lines sent to the ``AF_UNIX``/``SOCK_DGRAM`` socket named by
``$NOTIFY_SOCKET`` (a file path, or an abstract-namespace name when it starts with ``@``); see
sd_notify(3). That is a dozen lines of code, so it is written here instead of taken from a library: the
``sdnotify`` package on PyPI is unmaintained (last release 2017) and does not handle ``WATCHDOG_USEC`` or
``WATCHDOG_PID``, ``systemd-python`` needs libsystemd headers and a compiler on the gate box, and
``cysystemd`` is a C extension too. None of them is worth a dependency for one ``sendto``.

Design choices:

* `Notifier.from_env` never fails: without ``$NOTIFY_SOCKET`` (run by hand, in a container, under the
  tests) it returns a disabled notifier whose methods do nothing, so the daemon calls it unconditionally.
  A send error (systemd restarted, socket gone) is logged once and otherwise ignored: notification is
  advisory and must never take a gate down. (If systemd stops hearing ``WATCHDOG=1`` it restarts us,
  which is exactly the behaviour we want when the socket really is gone for good.)
* `Watchdog` is deliberately passive: the daemon's main loop calls `Watchdog.beat` with the outcome of its
  own health check, and a ping leaves only from that call. There is no background thread that could keep
  pinging while the pipeline is frozen (the classic way to defeat a watchdog). The price is that the main
  loop must come round at least every `Watchdog.period_s` (block on queues with a timeout, never forever).
* Messages are sent with ``sendto`` on one socket kept open for the process's life (created lazily): one
  syscall per ping, no per-message socket churn.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

__all__ = ["Notifier", "Watchdog", "notify_address"]


def notify_address(value: str | None) -> str | bytes | None:
    """The socket address for a ``$NOTIFY_SOCKET`` value: a path, or bytes starting with NUL for the
    abstract namespace (``@name``). None when unset, empty or of a kind we do not speak (``vsock:``,
    which systemd 254+ may use for VMs; relative paths, which sd_notify(3) rejects too)."""
    if not value:
        return None
    if value.startswith("@"):
        # Linux abstract namespace: a leading NUL instead of the '@'; no file, no permissions to manage.
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None


def _watchdog_usec(environ: Mapping[str, str]) -> int | None:
    """``$WATCHDOG_USEC`` when it is meant for this process (``$WATCHDOG_PID`` unset or our pid)."""
    raw = environ.get("WATCHDOG_USEC")
    if not raw:
        return None
    pid = environ.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None  # inherited from a parent that is the one being watched
        except ValueError:
            return None
    try:
        usec = int(raw)
    except ValueError:
        return None
    return usec if usec > 0 else None


class Notifier:
    """Sends sd_notify messages to one address; disabled (every method a no-op) when ``address`` is None.

    Every send method returns True when the datagram was handed to the kernel, False when disabled or on
    an error (logged once per notifier, then silently dropped).
    """

    def __init__(self, address: str | bytes | None, *, watchdog_usec: int | None = None) -> None:
        self.address = address
        self._watchdog_usec = watchdog_usec
        self._sock: socket.socket | None = None
        self._error_logged = False

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, unset_environment: bool = False
    ) -> Notifier:
        """A notifier for ``$NOTIFY_SOCKET`` / ``$WATCHDOG_USEC`` / ``$WATCHDOG_PID`` (from ``environ``,
        default ``os.environ``). ``unset_environment`` removes those variables from ``os.environ`` so
        child processes (ffmpeg, helpers) do not inherit them; with ``NotifyAccess=main`` systemd would
        ignore their messages anyway, so the default leaves the environment alone."""
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET")
        address = notify_address(raw)
        if raw and address is None:
            log.warning("NOTIFY_SOCKET=%r is not a path or @abstract name; systemd notification is off", raw)
        notifier = cls(address, watchdog_usec=_watchdog_usec(env))
        if unset_environment:
            for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
                os.environ.pop(key, None)
        return notifier

    @property
    def enabled(self) -> bool:
        """Whether messages go anywhere (``$NOTIFY_SOCKET`` was set and usable)."""
        return self.address is not None

    def watchdog_interval_s(self) -> float | None:
        """systemd's watchdog timeout for this process in seconds (``WatchdogSec=``), or None when the
        watchdog is off or meant for another pid. Ping at least twice per interval: see `Watchdog`."""
        return self._watchdog_usec / 1e6 if self._watchdog_usec else None

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` (each ``KEY=VALUE``) as one datagram."""
        if self.address is None or not lines:
            return False
        payload = "\n".join(lines).encode("utf-8", errors="replace")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, self.address)
        except OSError as e:
            if not self._error_logged:
                self._error_logged = True
                log.warning("sd_notify to %r failed (%s); further failures are not logged", self.address, e)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up finished (systemd then reports the unit started), optionally with a
        status line in the same datagram."""
        return self.notify("READY=1", *([_status_line(status)] if status is not None else []))

    def status(self, text: str) -> bool:
        """``STATUS=...``: one free-form line shown by ``systemctl status`` (newlines are flattened)."""
        return self.notify(_status_line(text))

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: one keep-alive ping. Prefer `Watchdog.beat`, which rate-limits and gates it."""
        return self.notify("WATCHDOG=1")

    def watchdog_trigger(self) -> bool:
        """``WATCHDOG=trigger``: ask systemd to treat the watchdog as expired now (restart us)."""
        return self.notify("WATCHDOG=trigger")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: a clean shutdown began (systemd stops expecting watchdog pings)."""
        return self.notify("STOPPING=1", *([_status_line(status)] if status is not None else []))

    def reloading(self) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC`` (required by ``Type=notify-reload``, systemd 253+);
        send `ready` again when the reload is done."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def extend_timeout(self, seconds: float) -> bool:
        """``EXTEND_TIMEOUT_USEC``: ask for ``seconds`` more before ``TimeoutStartSec=`` kills a slow start
        (a cold GPU provider can take long to initialise)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1e6))}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __repr__(self) -> str:
        return f"<Notifier address={self.address!r} watchdog={self.watchdog_interval_s()}>"


def _status_line(text: str) -> str:
    return "STATUS=" + " ".join(str(text).split())


class Watchdog:
    """Rate-limited, health-gated ``WATCHDOG=1`` pings, driven by the caller's main loop.

    Call ``beat(healthy)`` once per main-loop iteration. A ping is sent only when ``healthy`` is true and
    at least `period_s` (half the watchdog interval, as sd_watchdog_enabled(3) recommends, so one late
    iteration does not kill the service) passed since the last one. No thread of its own: if the loop
    freezes, or keeps reporting unhealthy, the pings stop and systemd restarts the service after
    ``WatchdogSec=``. Disabled (beat is a cheap no-op) when the notifier has no watchdog interval.
    """

    def __init__(
        self,
        notifier: Notifier,
        interval_s: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.interval_s = interval_s if interval_s is not None else notifier.watchdog_interval_s()
        self._clock = clock
        self._last_ping: float | None = None
        self._healthy = True
        self.pings = 0  # pings sent, for tests and the status line

    @property
    def enabled(self) -> bool:
        return self.notifier.enabled and self.interval_s is not None and self.interval_s > 0

    @property
    def period_s(self) -> float | None:
        """Seconds between pings (half the interval); the main loop must iterate at least this often."""
        return self.interval_s / 2 if self.enabled and self.interval_s is not None else None

    def beat(self, healthy: bool, reason: str = "") -> bool:
        """Report one main-loop iteration; returns True when a ``WATCHDOG=1`` was sent.

        ``reason`` says why the loop is unhealthy; it is logged once when health is lost, and the
        recovery is logged too (state changes only, never once per iteration).
        """
        if healthy != self._healthy:
            self._healthy = healthy
            if healthy:
                log.info("watchdog: healthy again, pinging systemd")
            else:
                log.warning("watchdog: unhealthy (%s), withholding pings", reason or "no reason given")
        if not healthy or not self.enabled or self.period_s is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.period_s:
            return False
        if self.notifier.watchdog():
            self._last_ping = now
            self.pings += 1
            return True
        return False
