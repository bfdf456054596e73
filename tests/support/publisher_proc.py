"""A publisher in its own process, for crash tests (``kill -9``) of the outbox and the Last Will.

Run as ``python -m tests.support.publisher_proc --host H --port P --db FILE --prefix PREFIX
[--put N | --burst]``. It starts an `edge.publisher.Publisher`, puts N sample events (or, with
``--burst``, puts events until killed) and reports on stdout, one line each, flushed:
``PUT <count>`` after every put, ``CONNECTED`` once connected, ``DRAINED`` whenever the outbox became
empty. SIGTERM stops it cleanly. :class:`PublisherProcess` drives it from a test.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from .processes import die_with_parent, kill_group, tail, terminate_group

REPO = Path(__file__).resolve().parents[2]


class PublisherProcess:
    """The helper script as a child process in its own process group; its stdout lines are collected."""

    def __init__(
        self, host: str, port: int, db: Path, prefix: str, *, put: int = 0, burst: bool = False
    ) -> None:
        args = [sys.executable, "-m", "tests.support.publisher_proc", "--host", host, "--port", str(port)]
        args += ["--db", str(db), "--prefix", prefix, "--put", str(put)] + (["--burst"] if burst else [])
        self.lines: list[str] = []
        self.log_path = db.with_name(db.name + f".{time.monotonic_ns()}.log")  # its logging (stderr)
        self._cond = threading.Condition()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """The first output line starting with ``text`` (waiting for it); AssertionError with the output."""

        def find() -> str | None:
            return next((line for line in self.lines if line.startswith(text)), None)

        with self._cond:
            if not self._cond.wait_for(lambda: find() is not None or self.proc.poll() is not None, timeout):
                raise AssertionError(f"no {text!r} within {timeout}s; output:\n{self._output()}")
            line = find()
        if line is None:
            raise AssertionError(f"exited ({self.proc.returncode}) before {text!r}:\n{self._output()}")
        return line

    def _output(self) -> str:
        return "\n".join(self.lines[-20:]) + "\n--- stderr:\n" + tail(self.log_path, 20)

    def puts(self) -> int:
        """The highest ``PUT n`` reported so far (puts that returned, i.e. committed)."""
        with self._cond:
            counts = [int(line.split()[1]) for line in self.lines if line.startswith("PUT ")]
        return max(counts, default=0)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no DISCONNECT, nothing flushed."""
        kill_group(self.proc)  # type: ignore[arg-type]

    def stop(self) -> None:
        terminate_group(self.proc)  # type: ignore[arg-type]


def main() -> None:
    from edge.config_schema import Backoff, MqttConfig
    from edge.logs import setup_logging
    from edge.outbox import Outbox
    from edge.publisher import Publisher
    from tests.support.events import sample_event

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--put", type=int, default=0)
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    setup_logging("text", "INFO")

    cfg = MqttConfig(
        host=args.host,
        port=args.port,
        client_id="crash-test-publisher",
        keepalive_s=5,
        reconnect=Backoff(initial_s=0.1, max_s=0.5),
    )
    publisher = Publisher(cfg, args.prefix, Outbox(args.db, 100_000), owns_outbox=True)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    publisher.start()
    count = 0
    while count < args.put or (args.burst and not stop.is_set()):
        count += 1
        publisher.publish_event(sample_event(count))
        print(f"PUT {count}", flush=True)
    connected = drained = False
    while not stop.wait(0.02):
        if publisher.connected and not connected:
            print("CONNECTED", flush=True)
        connected = publisher.connected
        if publisher.outbox_depth == 0 and not drained:
            print("DRAINED", flush=True)
        drained = publisher.outbox_depth == 0
    publisher.stop()


if __name__ == "__main__":
    main()
