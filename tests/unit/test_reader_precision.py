"""Which copy of the reader a session loads (`edge.ocr.choose_precision`, `edge.ocr.int8_state`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.ocr import choose_precision, int8_state
from edge.runtime import ModelEntry, ModelError


def _entry(name: str, **meta: str) -> ModelEntry:
    return ModelEntry(name, Path(f"{name}.onnx"), "ab" * 32, ("batch", 1, 32, 128), dict(meta))


@pytest.mark.parametrize(
    ("requested", "state"),
    [
        ("float", "fresh"),
        ("float", "stale"),  # a stale int8 copy beside it does not stop the float reader
        ("float", "missing"),
        ("int8", "fresh"),
    ],
)
def test_the_copy_asked_for_is_the_copy_loaded(requested: str, state: str) -> None:
    assert choose_precision(requested, state) == requested  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "message"),
    [("missing", "no 'reader_int8' entry"), ("stale", "quantized from another reader")],
)
def test_int8_without_a_usable_copy_is_an_error(state: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        choose_precision("int8", state)  # type: ignore[arg-type]


def test_int8_state_compares_the_copy_with_the_float_reader() -> None:
    reader = _entry("reader")
    assert int8_state(reader, None) == "missing"
    assert int8_state(reader, _entry("reader_int8", quantized_from=reader.sha256)) == "fresh"
    assert int8_state(reader, _entry("reader_int8", quantized_from="cd" * 32)) == "stale"
    assert int8_state(reader, _entry("reader_int8")) == "stale"  # made before the field existed
