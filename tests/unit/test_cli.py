"""The command line: check-config output and exit codes, --version, --help, logging options."""

import argparse
import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import edge
from edge import cli
from edge.logs import setup_logging

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "config"

# A misspelt key (line 8), a wrong type (line 4) and a camera without a URL (line 9).
THREE_PROBLEMS = """\
site: gate-1
mqtt:
  host: broker.local
  port: eighty
cameras:
  - id: entry
    url: rtsp://cam/1
    detct_fps: 5
  - id: exit
    direction: exit
"""
THREE_PROBLEM_LINES = [
    ":4: mqtt.port: Input should be a valid integer, unable to parse string as an integer (got 'eighty')",
    ":8: cameras[0].detct_fps: unknown key 'detct_fps' (did you mean 'detect_fps'?)",
    ":9: cameras[1].url: required key is missing",
]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures the root logger; put it back so other tests see what they expect."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def three_problems(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(THREE_PROBLEMS, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "cameras"), [("demo.yaml", 1), ("site.example.yaml", 2)])
def test_check_config_ok(capsys: pytest.CaptureFixture[str], name: str, cameras: int) -> None:
    path = str(CONFIG_DIR / name)
    assert cli.main(["check-config", path]) == 0
    assert capsys.readouterr().out == f"OK: {path} ({cameras} cameras)\n"


def test_check_config_names_every_problem(capsys: pytest.CaptureFixture[str], three_problems: Path) -> None:
    assert cli.main(["check-config", str(three_problems)]) == 2
    assert capsys.readouterr().out.splitlines() == [f"{three_problems}{line}" for line in THREE_PROBLEM_LINES]


def test_console_script(three_problems: Path) -> None:
    script = Path(sys.executable).with_name("plate-edge")  # installed by `pip install -e .` next to python
    result = subprocess.run(
        [script, "check-config", three_problems], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout.splitlines() == [f"{three_problems}{line}" for line in THREE_PROBLEM_LINES]
    ok = subprocess.run(
        [script, "check-config", CONFIG_DIR / "demo.yaml"], capture_output=True, text=True, check=False
    )
    assert (ok.returncode, ok.stdout.startswith("OK: ")) == (0, True)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, r"^{file}: cannot read the config file: No such file or directory$"),
        ("site: [a\n", r"^{file}:2: YAML syntax error: "),
        ("", r"^{file}: the file is empty"),
    ],
    ids=["missing", "syntax", "empty"],
)
def test_check_config_unreadable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "site.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert cli.main(["check-config", str(path)]) == 2
    assert re.search(expected.format(file=re.escape(str(path))), capsys.readouterr().out)


def test_check_config_strict_checks_files(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CONFIG_DIR / "site.example.yaml")
    assert cli.main(["check-config", "--strict", path]) == 2
    out = capsys.readouterr().out
    assert f"{path}:19: mqtt.tls.ca_file: file not found: /etc/plate-edge/tls/ca.pem\n" in out
    assert f"lists.allow.file: file not found: {CONFIG_DIR / 'allow.txt'}" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"plate-edge {edge.__version__}\n"


def _listed_commands(help_text: str) -> list[str]:
    section = help_text.split("\ncommands:\n", 1)[1]
    return re.findall(r"^    (\S+)", section, re.MULTILINE)


def test_help_lists_exactly_the_registered_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert _listed_commands(capsys.readouterr().out) == [command.name for command in cli.COMMANDS]
    # nothing advertised before it exists
    assert [command.name for command in cli.COMMANDS] == [
        "run",
        "check-config",
        "eval",
        "analyze",
        "serve",
        "events",
        "bench",
    ]


def test_registered_command_runs_and_failures_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def configure(parser: argparse.ArgumentParser) -> cli.Handler:
        parser.add_argument("--fail", action="store_true")

        def handler(args: argparse.Namespace) -> int:
            if args.fail:
                raise RuntimeError("camera exploded")
            return 0

        return handler

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, cli.Command("probe", "a test command", configure)])
    assert cli.main(["--help"]) == 0
    assert _listed_commands(capsys.readouterr().out) == [*(c.name for c in cli.COMMANDS[:-1]), "probe"]
    assert cli.main(["probe"]) == 0
    assert cli.main(["--log-format", "json", "probe", "--fail"]) == 1
    [record] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (record["level"], record["msg"]) == ("ERROR", "probe failed")
    assert "RuntimeError: camera exploded" in record["exc"]


@pytest.mark.parametrize(
    "argv",
    [[], ["run"], ["check-config"], ["--log-format", "xml", "check-config", "x"], ["check-config", "a", "b"]],
    ids=["no command", "unknown command", "missing file argument", "bad option value", "extra argument"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert cli.main(argv) == 2
    assert "usage: plate-edge" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-format", "json", "--log-level", "debug", "check-config", "{file}"],
        [
            "check-config",
            "--log-format",
            "json",
            "--log-level",
            "DEBUG",
            "{file}",
        ],  # options after the command
    ],
    ids=["before", "after"],
)
def test_json_logging_from_the_command_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    path = str(CONFIG_DIR / "demo.yaml")
    assert cli.main([arg.replace("{file}", path) for arg in argv]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"OK: {path} (1 cameras)\n"  # logs stay off stdout, which carries the result
    records = [json.loads(line) for line in captured.err.splitlines()]
    assert {
        "level": "DEBUG",
        "logger": "edge.cli",
        "msg": "config is valid",
        "file": path,
        "cameras": 1,
    }.items() <= (records[-1].items())


def test_json_lines() -> None:
    stream = io.StringIO()
    setup_logging("json", "INFO", stream=stream)
    log = logging.getLogger("edge.test")
    log.debug("not shown")
    log.info("plate read\nsecond line", extra={"camera": "entry", "plate": "12가3456", "path": Path("/x")})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed", extra={"level": "must not replace the fixed keys"})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert datetime.fromisoformat(first["ts"]).utcoffset() is not None  # ISO-8601 with an offset
    assert {k: first[k] for k in ("level", "logger", "msg", "camera", "plate", "path")} == {
        "level": "INFO", "logger": "edge.test", "msg": "plate read\nsecond line",
        "camera": "entry", "plate": "12가3456", "path": "/x",
    }  # fmt: skip
    assert "12가3456" in stream.getvalue()  # readable in journalctl, not \uXXXX
    assert (second["level"], second["msg"]) == ("ERROR", "failed") and "ValueError: boom" in second["exc"]


def test_text_lines_and_reconfiguring() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("text", "DEBUG", stream=first)
    setup_logging("text", logging.WARNING, stream=second)  # replaces the first handler, does not add one
    log = logging.getLogger("edge.test")
    log.info("quiet")
    log.warning("stream lost", extra={"camera": "exit"})
    assert first.getvalue() == ""
    assert re.fullmatch(r"\S+ WARNING edge\.test: stream lost camera=exit\n", second.getvalue())


@pytest.mark.parametrize(("fmt", "level"), [("xml", "INFO"), ("text", "LOUD")])
def test_setup_logging_rejects_unknown_values(fmt: str, level: str) -> None:
    with pytest.raises(ValueError):
        setup_logging(fmt, level)  # type: ignore[arg-type]
