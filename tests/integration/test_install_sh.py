"""deploy/install.sh into a throwaway root (--prefix): a real venv and a real `pip install`, as a user gets.

Installs, checks the layout and that the installed command works (help, check-config on the installed
config, an analysis with the installed models), installs again over an operator's edited config
(idempotent: nothing of theirs is touched), verifies the installed unit, then uninstalls and purges.
pip uses whatever the environment gives it (PyPI, PIP_FIND_LINKS, the wheel cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "deploy" / "install.sh"


def run(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, cwd="/"
    )


def install(prefix: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    result = run("bash", INSTALL, "--prefix", prefix, "--cpu", "--no-systemctl", *extra)
    elapsed = time.monotonic() - t0
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, elapsed


def tree(root: Path) -> dict[str, str]:
    """Relative path -> fingerprint (size and mode) of every file the operator owns or the installer must
    leave alone: everything but /opt/plate-edge (a copy of the source tree, which is a working checkout that
    other work may change while this test runs) and the examples (always refreshed)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("opt/plate-edge/") or ".example." in rel or not path.is_file():
            continue
        st = path.stat()
        out[rel] = f"{st.st_size}:{oct(st.st_mode)}"
    return out


def test_install_twice_then_uninstall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "root"
    app, etc = prefix / "opt/plate-edge", prefix / "etc/plate-edge"
    venv_bin = app / "venv/bin"

    first, t_first = install(prefix)
    assert "wrote" in first.stdout and "site.yaml" in first.stdout

    # Layout
    assert (venv_bin / "plate-edge").is_file() and os.access(venv_bin / "plate-edge", os.X_OK)
    manifest = json.loads((app / "models/manifest.json").read_text())
    for entry in manifest["models"].values():
        assert (app / "models" / entry["file"]).is_file()
    assert not list((app / "models").glob("*.pt")), "training checkpoints are not installed"
    assert (app / "edge/__init__.py").is_file() and list((app / "edge").rglob("*.pyc")), "precompiled"
    assert not list(app.glob("*.egg-info"))
    assert (etc / "site.yaml").stat().st_mode & 0o777 == 0o640
    assert etc.stat().st_mode & 0o777 == 0o750
    assert (etc / "site.example.yaml").is_file()
    unit = prefix / "etc/systemd/system/plate-edge.service"
    assert unit.read_text() == (ROOT / "deploy/plate-edge.service").read_text()
    assert not (prefix / "etc/systemd/system/plate-edge.service.d/gpu.conf").exists()
    assert "flavour=cpu" in (app / "INSTALLED").read_text()

    # The installed command works, from its own tree
    assert run(venv_bin / "plate-edge", "--help").returncode == 0
    checked = run(venv_bin / "plate-edge", "check-config", etc / "site.yaml")
    assert checked.returncode == 0 and checked.stdout.startswith("OK:"), checked.stdout + checked.stderr
    where = run(venv_bin / "python", "-c", "import edge.runtime as r; print(r.DEFAULT_MODELS_DIR)")
    assert where.stdout.strip() == str(app / "models"), where.stderr
    analysed = run(venv_bin / "plate-edge", "analyze", ROOT / "demo/gate-01.jpg", timeout=120)
    assert analysed.returncode == 0, analysed.stderr[-2000:]
    assert json.loads(analysed.stdout)["plates"][0]["text"] == "23육5849"

    # Idempotent: a second run over an operator's edited config changes nothing of theirs
    edited = (etc / "site.yaml").read_text().replace("site: gate-1", "site: gate-7")
    (etc / "site.yaml").write_text(edited)
    (etc / "mqtt-password").write_text("secret\n")
    before, app_entries = tree(prefix), sorted(os.listdir(app))
    second, t_second = install(prefix)
    assert "kept the existing" in second.stdout
    assert (etc / "site.yaml").read_text() == edited
    assert (etc / "mqtt-password").read_text() == "secret\n"
    assert tree(prefix) == before
    assert sorted(os.listdir(app)) == app_entries  # no leftovers (models.new, *.egg-info, build)
    assert run(venv_bin / "plate-edge", "check-config", etc / "site.yaml").returncode == 0

    # The installed unit verifies with its ExecStart pointing at the installed binary
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze not found: install `systemd` (scripts/sysdeps.sh)", pytrace=False)
    staged = tmp_path / "plate-edge.service"
    staged.write_text(
        unit.read_text().replace(
            "ExecStart=/opt/plate-edge/venv/bin/plate-edge", f"ExecStart={venv_bin / 'plate-edge'}"
        )
    )
    verified = run(analyze, "verify", staged)
    assert verified.returncode == 0 and not (verified.stdout + verified.stderr).strip(), verified.stderr

    # Uninstall keeps config and state; purge removes them
    (prefix / "var/lib/private/plate-edge").mkdir(parents=True)
    removed = run("bash", INSTALL, "--prefix", prefix, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not app.exists() and not unit.exists()
    assert (etc / "site.yaml").read_text() == edited and (prefix / "var/lib/private/plate-edge").is_dir()
    purged = run("bash", INSTALL, "--prefix", prefix, "--uninstall", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not etc.exists() and not (prefix / "var/lib/private/plate-edge").exists()

    with capsys.disabled():
        print(f"\ninstall.sh: first install {t_first:.1f} s, second (idempotent) {t_second:.1f} s")


def test_usage_errors() -> None:
    assert run("bash", INSTALL, "--bogus").returncode == 2
    assert run("bash", INSTALL, "--prefix", "relative/dir").returncode == 2
    assert run("bash", INSTALL, "--purge").returncode == 2
    helped = run("bash", INSTALL, "--help")
    assert helped.returncode == 0 and "--uninstall" in helped.stdout and "--prefix" in helped.stdout
