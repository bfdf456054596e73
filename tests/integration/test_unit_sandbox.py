"""The CPU pipeline runs inside the seccomp sandbox of deploy/plate-edge.service.

The unit sets ``MemoryDenyWriteExecute=yes`` and ``SystemCallFilter=@system-service ~@privileged``. A
library that JIT-compiles, or makes a system call outside the list, would make the service die or
silently misbehave on the gate box, far from any developer. This runs the daemon's building blocks under
the same seccomp rules (tests/support/sandbox.py; the system call list stricter than the unit: SIGSYS
instead of EPERM, so nothing is swallowed) in a subprocess: ONNX Runtime with the shipped models and the
text detector analysing a demo frame, PyAV decoding H.264, paho publishing to a real broker at QoS 1,
the SQLite outbox (WAL), sd_notify, and uvicorn serving /metrics.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.clips import ClipInfo
from tests.support.mosquitto import MosquittoBroker
from tests.support.sandbox import unit_syscalls

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "plate-edge.service"

WORKLOAD = textwrap.dedent(
    """
    import json, socket, sys, threading, time, urllib.request, uuid
    from pathlib import Path

    import av
    import paho.mqtt.client as mqtt
    import uvicorn
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.api import create_app
    from edge.cli import main
    from edge.metrics import Metrics
    from edge.outbox import Outbox
    from edge.sdnotify import Notifier
    from tests.support.fakes import fake_recognizer

    clip, image, port, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    report = {}

    with av.open(clip) as container:
        report["frames"] = sum(1 for _ in container.decode(video=0))

    with Outbox(workdir / "outbox.sqlite3") as outbox:
        row = outbox.put("plate-edge/gate-1/entry/events", b"{}")
        report["outbox"] = outbox.ack(row)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sandbox-" + uuid.uuid4().hex[:6])
    client.connect("127.0.0.1", port)
    client.loop_start()
    info = client.publish("plate-edge/gate-1/status", b"online", qos=1)
    info.wait_for_publish(10)
    report["published"] = info.is_published()
    client.loop_stop()
    client.disconnect()

    name = "plate-edge-sandbox-" + uuid.uuid4().hex
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(b"\\0" + name.encode())
    report["notified"] = Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
    report["notify_msg"] = listener.recv(100).decode()

    metrics = Metrics()
    app = create_app(fake_recognizer(), registry=metrics.registry)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    http_port = probe.getsockname()[1]
    probe.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    body = b""
    for _ in range(200):
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2).read()
            break
        except OSError:
            time.sleep(0.05)
    server.should_exit = True
    thread.join(10)
    report["metrics"] = b"process_resident_memory_bytes" in body

    print(json.dumps(report), flush=True)
    sys.exit(main(["analyze", image]))
    """
)


def run_sandboxed(
    tmp_path: Path, script_text: str, *args: str, syscalls: set[str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "workload.py"
    script.write_text(script_text)
    cmd = [sys.executable, "-m", "tests.support.sandbox"]
    if syscalls is not None:
        allowed = tmp_path / "syscalls.txt"
        allowed.write_text("\n".join(sorted(syscalls)))
        cmd += ["--syscalls", str(allowed)]
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", "PYTHONFAULTHANDLER": "1"}  # as the unit sets
    return subprocess.run(
        [*cmd, str(script), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=150
    )


def test_unit_sets_what_this_test_reproduces() -> None:
    text = UNIT.read_text()
    assert "\nMemoryDenyWriteExecute=yes\n" in text
    assert "\nSystemCallFilter=@system-service\n" in text and "\nSystemCallFilter=~@privileged\n" in text
    assert "\nEnvironment=ORT_DISABLE_TELEMETRY=1\n" in text


def service_syscalls() -> set[str]:
    """The unit's list, plus ``fchown`` when the test runs as root: SQLite gives the WAL and shared-memory
    files of a database the database's owner with fchown, but only when running as root (``geteuid() ==
    0``), which the service (DynamicUser=) never does."""
    return unit_syscalls() | ({"fchown"} if os.geteuid() == 0 else set())


def test_daemon_building_blocks_run_in_the_units_sandbox(
    tmp_path: Path, synthetic_clip: ClipInfo, mosquitto: MosquittoBroker
) -> None:
    mosquitto.ensure_running()
    proc = run_sandboxed(
        tmp_path,
        WORKLOAD,
        str(synthetic_clip.path),
        str(ROOT / "demo" / "gate-01.jpg"),
        str(mosquitto.port),
        str(tmp_path),
        syscalls=service_syscalls(),
    )
    if proc.returncode == -signal.SIGSYS:
        pytest.fail(
            "killed by SIGSYS: a system call outside @system-service ~@privileged (the unit would answer it "
            "with EPERM); find it with `strace -f` on this workload.\n" + proc.stderr[-2000:]
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, rest = proc.stdout.split("\n", 1)
    report = json.loads(first)
    assert report == {
        "frames": synthetic_clip.frames,
        "outbox": True,
        "published": True,
        "notified": True,
        "notify_msg": "READY=1",
        "metrics": True,
    }
    analysis = json.loads(rest)  # one image: one analysis object
    assert analysis["plates"], "no plate read in the sandbox"
    assert analysis["plates"][0]["text"] == "23육5849"


def test_the_filters_are_real(tmp_path: Path) -> None:
    """Controls: a W+X mapping is refused, and a call outside the list (reboot, in @privileged) kills."""
    wx = run_sandboxed(
        tmp_path, "import mmap\nmmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
    )
    assert wx.returncode != 0 and "PermissionError" in wx.stderr
    privileged = run_sandboxed(
        tmp_path, "import ctypes\nctypes.CDLL(None).sethostname(b'x', 1)\n", syscalls=unit_syscalls()
    )
    assert privileged.returncode == -signal.SIGSYS, (privileged.returncode, privileged.stderr[-500:])
