"""`plate-edge serve` wiring (address from the command line or the config, model failures) without
starting a server: uvicorn.run and the model loader are replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from edge import cli, recognizer
from edge.reread import REREAD_BELOW
from edge.runtime import ModelError
from tests.support.fakes import fake_recognizer

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def run(app: FastAPI, **kwargs: Any) -> None:
        calls.update(kwargs, app=app)

    def load(
        models_dir: Path,
        device: str,
        detector: str,
        threads: int = 0,
        reread_below: float = -1.0,
        precision: str = "unset",
    ) -> Any:
        calls["models"] = (models_dir, device, detector)
        calls["reread_below"] = reread_below
        calls["precision"] = precision
        return fake_recognizer()

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(recognizer, "load_recognizer", load)
    return calls


def test_defaults(served: dict[str, Any]) -> None:
    assert cli.main(["serve"]) == 0
    assert (served["host"], served["port"], served["log_config"]) == ("127.0.0.1", 8080, None)
    assert isinstance(served["app"], FastAPI)
    assert served["models"][1:] == ("auto", "text")
    assert served["reread_below"] == REREAD_BELOW
    assert served["precision"] == "float"


@pytest.mark.parametrize(
    ("config_value", "argv", "expected"),
    [
        ("int8", [], "int8"),  # the config's
        ("int8", ["--reader-precision", "float"], "float"),  # the command line wins
        (None, ["--reader-precision", "int8"], "int8"),
    ],
)
def test_reader_precision_from_config_then_command_line(
    served: dict[str, Any], tmp_path: Path, config_value: str | None, argv: list[str], expected: str
) -> None:
    text = (CONFIG_DIR / "demo.yaml").read_text(encoding="utf-8")
    if config_value is not None:
        text += f"\nrecognition:\n  reader_precision: {config_value}\n"
    conf = tmp_path / "site.yaml"
    conf.write_text(text, encoding="utf-8")
    assert cli.main(["serve", "--config", str(conf), *argv]) == 0
    assert served["precision"] == expected


def test_an_unknown_reader_precision_is_a_config_error_naming_the_key(
    served: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (CONFIG_DIR / "demo.yaml").read_text(encoding="utf-8")
    conf = tmp_path / "site.yaml"
    conf.write_text(text + "\nrecognition:\n  reader_precision: int4\n", encoding="utf-8")
    assert cli.main(["serve", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "recognition.reader_precision" in err and "int4" in err
    assert "precision" not in served


def test_reread_below_comes_from_the_config(served: dict[str, Any], tmp_path: Path) -> None:
    text = (CONFIG_DIR / "demo.yaml").read_text(encoding="utf-8")
    conf = tmp_path / "site.yaml"
    conf.write_text(text + "\nrecognition:\n  reread_below: 0\n", encoding="utf-8")
    assert cli.main(["serve", "--config", str(conf)]) == 0
    assert served["reread_below"] == 0


def test_config_then_command_line(served: dict[str, Any]) -> None:
    assert cli.main(["serve", "--config", str(CONFIG_DIR / "demo.yaml")]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8080)
    demo = str(CONFIG_DIR / "demo.yaml")
    argv = [
        "serve",
        "--config",
        demo,
        "--port",
        "9999",
        "--host",
        "0.0.0.0",
        "--device",
        "cpu",
        "--detector",
        "text",
    ]
    assert cli.main(argv) == 0
    assert (served["host"], served["port"], served["models"][1:]) == ("0.0.0.0", 9999, ("cpu", "text"))


def test_bad_config_exits_2(
    served: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: x\n", encoding="utf-8")
    assert cli.main(["serve", "--config", str(bad)]) == 2
    assert "mqtt: required key is missing" in capsys.readouterr().err
    assert "app" not in served


def test_missing_models_exit_1(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ModelError("model file missing: models/reader.onnx")

    monkeypatch.setattr(recognizer, "load_recognizer", fail)
    assert cli.main(["serve"]) == 1
    assert "model file missing" in capsys.readouterr().out  # serve is a service: it logs to stdout
    assert "app" not in served


def test_own_detector_fails_loudly_without_its_model(tmp_path: Path) -> None:
    from edge.recognizer import load_detector
    from edge.runtime import ModelError

    (tmp_path / "manifest.json").write_text('{"models": {}}', encoding="utf-8")
    with pytest.raises(ModelError, match="no 'detector' entry"):
        load_detector("own", models_dir=tmp_path)
