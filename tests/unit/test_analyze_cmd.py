"""`plate-edge analyze` with a fake recognizer: inputs, output shape, errors in place, --json, --draw.
(tests/integration/test_analyze_real.py runs the same command with the real models.)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from edge import analyze_cmd, cli
from edge.draw import draw_analysis, hangul_font_path
from edge.runtime import ModelError
from tests.support import images
from tests.support.fakes import FAKE_TEXT, fake_recognizer
from tests.support.schemas import assert_analysis, assert_error


@pytest.fixture(autouse=True)
def _fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyze_cmd, "load_recognizer_for", lambda args: fake_recognizer())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "shots"
    d.mkdir()
    (d / "a.jpg").write_bytes(images.jpeg_bytes(400, 300))
    (d / "b.png").write_bytes(images.png_bytes(200, 100))
    (d / "notes.txt").write_text("not an image")
    return d


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = cli.main(["analyze", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_one_file_prints_one_object(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, doc = run(capsys, str(folder / "a.jpg"))
    assert code == 0
    assert_analysis(doc)
    assert doc["image"]["name"] == "a.jpg" and doc["plates"][0]["text"] == FAKE_TEXT


def test_folder_and_glob_print_arrays(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, doc = run(capsys, str(folder))
    assert code == 0 and [d["image"]["name"] for d in doc] == ["a.jpg", "b.png"]
    for d in doc:
        assert_analysis(d)
    code, doc = run(capsys, str(folder / "*.png"))
    assert code == 0 and [d["image"]["name"] for d in doc] == ["b.png"]


def test_bad_files_get_error_objects_and_exit_2(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    (folder / "cut.jpg").write_bytes(images.jpeg_bytes(400, 300)[:500])
    code, doc = run(capsys, str(folder / "a.jpg"), str(folder / "cut.jpg"), str(folder / "missing.jpg"),
                    str(folder / "*.webp"), str(folder / "b.png"))  # fmt: skip
    assert code == 2
    assert [d["image"]["name"] for d in doc] == [
        "a.jpg",
        "cut.jpg",
        "missing.jpg",
        str(folder / "*.webp"),
        "b.png",
    ]
    assert_analysis(doc[0])
    assert_analysis(doc[4])
    for d in doc[1:4]:
        assert_error(d, 422)
    assert "No such file" in doc[2]["error"]["message"]


def test_internal_failure_is_exit_1_and_others_still_analysed(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = fake_recognizer()
    real = rec.analyze

    def flaky(image: np.ndarray, name: str, decode_ms: float = 0.0) -> dict[str, Any]:
        if name == "a.jpg":
            raise RuntimeError("boom")
        return real(image, name, decode_ms)

    monkeypatch.setattr(rec, "analyze", flaky)
    monkeypatch.setattr(analyze_cmd, "load_recognizer_for", lambda args: rec)
    code, doc = run(capsys, str(folder))
    assert code == 1
    assert_error(doc[0], 500)
    assert_analysis(doc[1])


def test_models_that_fail_to_load_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(args: argparse.Namespace) -> Any:
        raise ModelError("model manifest not found: /nowhere/manifest.json")

    monkeypatch.setattr(analyze_cmd, "load_recognizer_for", fail)
    assert cli.main(["analyze", "x.jpg"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "model manifest not found" in captured.err


def test_json_file_is_the_same_json(capsys: pytest.CaptureFixture[str], folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "result.json"
    code = cli.main(["analyze", str(folder), "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and out.read_text(encoding="utf-8") == printed
    assert FAKE_TEXT in printed  # Hangul as UTF-8, not \\uXXXX escapes


def test_draw_one_file_and_a_folder(capsys: pytest.CaptureFixture[str], folder: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.png"
    assert cli.main(["analyze", str(folder / "a.jpg"), "--draw", str(one)]) == 0
    assert Image.open(one).size == (400, 300)
    many = tmp_path / "drawn"
    assert cli.main(["analyze", str(folder), "--draw", str(many)]) == 0
    assert sorted(p.name for p in many.iterdir()) == ["a.png", "b.png"]
    capsys.readouterr()


def test_drawing_renders_hangul() -> None:
    """With a Hangul font, plates differing only in their Hangul draw differently (a font without Hangul
    draws the same empty box for both)."""
    assert hangul_font_path() is not None, "install fonts-nanum (scripts/sysdeps.sh)"
    image = np.full((300, 400, 3), 90, np.uint8)
    doc = fake_recognizer().analyze(image, "x.png")
    drawn = np.asarray(draw_analysis(image, doc))
    assert drawn.shape == (300, 400, 3) and not np.array_equal(drawn, image[:, :, ::-1])
    other = np.asarray(draw_analysis(image, {**doc, "plates": [{**doc["plates"][0], "text": "12나3456"}]}))
    assert not np.array_equal(drawn, other)
