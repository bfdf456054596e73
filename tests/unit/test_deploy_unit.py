"""deploy/plate-edge.service and its GPU drop-in: `systemd-analyze verify` (works without systemd running,
so CI needs only the `systemd` package: scripts/sysdeps.sh), the hardening score, and the settings the
daemon and the rest of the deployment rely on.

`verify` insists that ExecStart's binary exists, so the unit is checked as a copy in a temporary folder
with only the ``/opt/plate-edge`` prefix of ExecStart moved there (where a stub executable waits);
nothing else is changed. Warnings (unknown keys, bad values) do not change verify's exit code, so any
output at all counts as a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "plate-edge.service"
GPU_DROPIN = ROOT / "deploy" / "plate-edge-gpu.conf"
EXEC = "/opt/plate-edge/venv/bin/plate-edge"


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail(
            "systemd-analyze not found: install the Debian package `systemd` (scripts/sysdeps.sh lists it; "
            "`make sysdeps`). It checks the unit file without systemd running.",
            pytrace=False,
        )
    return path


def settings(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in order (keys may repeat, as systemd allows)."""
    out, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


def values(text: str, key: str, section: str = "Service") -> list[str]:
    return [v for s, k, v in settings(text) if s == section and k == key]


def staged_unit(tmp_path: Path, *, gpu: bool = False, unit_text: str | None = None) -> Path:
    """A copy of the unit whose ExecStart points at a stub under tmp_path; the drop-in next to it."""
    stub = tmp_path / EXEC.lstrip("/")
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = unit_text if unit_text is not None else UNIT.read_text()
    assert text.count(f"ExecStart={EXEC} ") == 1
    unit = tmp_path / "plate-edge.service"
    unit.write_text(text.replace(f"ExecStart={EXEC} ", f"ExecStart={stub} "))
    if gpu:
        dropin = tmp_path / "plate-edge.service.d"
        dropin.mkdir(exist_ok=True)
        shutil.copy(GPU_DROPIN, dropin / "gpu.conf")
    return unit


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", str(unit)], capture_output=True, text=True, timeout=60, cwd=unit.parent
    )


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "gpu-dropin"])
def test_systemd_analyze_verify(tmp_path: Path, gpu: bool) -> None:
    result = verify(staged_unit(tmp_path, gpu=gpu))
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_verify_catches_mistakes(tmp_path: Path) -> None:
    """Control: the check above is not vacuous (a typo is reported even though the exit code is 0)."""
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict")
    result = verify(staged_unit(tmp_path, unit_text=broken))
    assert "Unknown key" in result.stdout + result.stderr


def test_hardening_exposure(tmp_path: Path) -> None:
    """`systemd-analyze security` scores exposure 0 (locked down) .. 10; we stay at or below 2.0 ("OK")."""
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--threshold=20", str(staged_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert result.returncode == 0 and score is not None, result.stdout[-2000:] + result.stderr
    assert float(score.group(1)) <= 2.0


def test_settings_the_deployment_relies_on() -> None:
    text = UNIT.read_text()
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "WatchdogSec": "30",
        "Restart": "on-failure",
        "DynamicUser": "yes",
        "StateDirectory": "plate-edge",
        "ConfigurationDirectory": "plate-edge",
        "LoadCredential": "mqtt-password:/etc/plate-edge/mqtt-password",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "NoNewPrivileges": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "MemoryDenyWriteExecute": "yes",
        "UMask": "0077",
    }
    for key, value in expected.items():
        assert values(text, key) == [value], key
    assert "@system-service" in values(text, "SystemCallFilter")
    assert values(text, "ExecStart") == [f"{EXEC} run --config /etc/plate-edge/site.yaml"]
    assert values(text, "MemoryMax") and values(text, "TimeoutStartSec") and values(text, "RestartSec")
    assert values(text, "StartLimitIntervalSec", "Unit") and values(text, "StartLimitBurst", "Unit")
    # Watchdog pings every WatchdogSec/2 at most, from the main loop: give it room above the camera
    # read timeout (5 s) so one slow iteration is not a restart.
    assert int(values(text, "WatchdogSec")[0]) >= 20
    # A comment says why, right above every setting of [Service].
    lines = text.splitlines()
    service = lines.index("[Service]")
    for i, line in enumerate(lines[service + 1 :], service + 1):
        if line.startswith("["):
            break
        if "=" in line and not line.startswith("#"):
            j = i - 1
            while j > service and lines[j] and not lines[j].startswith("#"):
                j -= 1  # a group of related settings shares the comment above it
            assert lines[j].startswith("#"), f"no comment above: {line}"


def test_unit_matches_config_and_installer() -> None:
    """The unit, the example config and install.sh agree on paths."""
    unit = UNIT.read_text()
    example = yaml.safe_load((ROOT / "config" / "site.example.yaml").read_text())
    credential = values(unit, "LoadCredential")[0].split(":", 1)[0]
    assert example["mqtt"]["password_file"] == f"/run/credentials/plate-edge.service/{credential}"
    assert example["storage"]["state_dir"] == "/var/lib/" + values(unit, "StateDirectory")[0]
    install = (ROOT / "deploy" / "install.sh").read_text()
    assert "APP=$PREFIX/opt/plate-edge" in install and "VENV=$APP/venv" in install
    assert f"SupplementaryGroups={_group(install)}" in unit


def test_gpu_dropin_relaxes_only_what_the_gpu_needs() -> None:
    text = GPU_DROPIN.read_text()
    keys = {k for s, k, v in settings(text)}
    assert keys == {
        "PrivateDevices",
        "DevicePolicy",
        "DeviceAllow",
        "SupplementaryGroups",
        "MemoryDenyWriteExecute",
        "MemoryHigh",
        "MemoryMax",
        "TimeoutStartSec",
    }
    assert values(text, "PrivateDevices") == ["no"] and values(text, "DevicePolicy") == ["closed"]
    assert "char-nvidia-uvm rw" in values(text, "DeviceAllow")


def _group(install_sh: str) -> str:
    match = re.search(r"^GROUP=(\S+)$", install_sh, re.M)
    assert match is not None
    return match.group(1)


def test_install_sh_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail(
            "shellcheck not found: install the Debian package `shellcheck` (scripts/sysdeps.sh)",
            pytrace=False,
        )
    result = subprocess.run(
        [shellcheck, "-x", str(ROOT / "deploy" / "install.sh")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
