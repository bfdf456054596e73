"""Start and stop server subprocesses in their own process group, so nothing outlives a test."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any, Self

_PR_SET_PDEATHSIG = 1
try:  # resolved in the parent: a preexec_fn must not load libraries or spawn processes
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux/glibc
    _prctl = None


def die_with_parent() -> None:
    """``preexec_fn`` for servers: the kernel SIGKILLs the child when the test process dies without
    cleaning up (pytest itself killed), so no broker or camera outlives the run holding a port."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def terminate_group(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM ``proc``'s process group, SIGKILL it if it is still there after ``timeout`` seconds; reap."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGKILL ``proc``'s whole process group (a crash, no clean shutdown) and reap the leader."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=timeout)


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing (for error messages)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


class Service:
    """A test server with ``start()``/``stop()`` that is also a context manager (start on enter, stop on
    exit), so each fixture class does not repeat the protocol."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
