"""`plate-edge run` refuses to start on bad input, before loading anything, with the problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge import cli

GOOD = """site: gate-1
mqtt: {host: 127.0.0.1, port: 1}
cameras:
  - {id: entry, url: clip.mp4}
storage: {state_dir: state}
"""


@pytest.mark.parametrize(
    ("yaml_text", "files", "message"),
    [
        (
            GOOD.replace("detect", "x") + "recognition: {detct_fps: 5}\n",
            {"clip.mp4": b""},
            "recognition.detct_fps",
        ),
        (GOOD, {}, "cameras[0].url: file not found"),  # the video file does not exist (checked at start-up)
        (GOOD + "lists: {allow: {file: allow.txt}}\n", {"clip.mp4": b""}, "lists.allow.file"),
        (GOOD.replace("port: 1", "port: 70000"), {"clip.mp4": b""}, "mqtt.port"),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, files: dict[str, bytes], message: str
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    config = tmp_path / "site.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    assert cli.main(["run", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_undecodable_list_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    (tmp_path / "allow.txt").write_bytes(b"\xff\xfe\xfa not utf-8")
    config = tmp_path / "site.yaml"
    config.write_text(GOOD + "lists: {allow: {file: allow.txt}}\n", encoding="utf-8")
    assert cli.main(["run", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert "allow.txt" in captured.out + captured.err


def test_config_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run"]) == 2
    assert "--config" in capsys.readouterr().err
