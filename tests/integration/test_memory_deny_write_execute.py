"""The CPU pipeline runs under systemd's MemoryDenyWriteExecute=yes (deploy/plate-edge.service sets it).

A library that JIT-compiles (or maps anything writable and executable) would make the service die or
misbehave at start on the gate box, far from any developer. This runs the real thing under the same
seccomp rules systemd installs (tests/support/mdwe.py): ONNX Runtime with the shipped models and the
text detector analysing a demo frame, and PyAV decoding H.264, in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.clips import ClipInfo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import av
    from edge.cli import main

    with av.open(sys.argv[1]) as container:
        frames = sum(1 for _ in container.decode(video=0))
    sys.stdout.write(json.dumps({"frames": frames}) + "\\n")
    sys.stdout.flush()
    sys.exit(main(["analyze", sys.argv[2]]))
    """
)


def test_analysis_and_decoding_under_memory_deny_write_execute(
    tmp_path: Path, synthetic_clip: ClipInfo
) -> None:
    script = tmp_path / "under_mdwe.py"
    script.write_text(SCRIPT)
    image = ROOT / "demo" / "gate-01.jpg"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.mdwe", str(script), str(synthetic_clip.path), str(image)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, rest = proc.stdout.split("\n", 1)
    assert json.loads(first)["frames"] == synthetic_clip.frames
    analysis = json.loads(rest)  # one image: one analysis object
    assert analysis["plates"], "no plate read under the filter"
    assert analysis["plates"][0]["text"] == "23육5849"


def test_the_filter_is_real(tmp_path: Path) -> None:
    """Control: under the filter a W+X mapping is refused (so the test above proves something)."""
    script = tmp_path / "wx.py"
    script.write_text("import mmap\nmmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.mdwe", str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "PermissionError" in proc.stderr
