"""`plate-edge bench`: dispatches to benchmarks/<name>.py with its own arguments."""

from __future__ import annotations

import re

import pytest

from edge import cli


def test_bench_runs_a_benchmark_with_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "reader", "--repeats", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"reader_ms_1core=\d+\.\d\d reader_int8_ms_1core=\d+\.\d\d int8_speedup=\d+\.\d\d "
        r"locator_ms_1core=\d+\.\d\d reread_cost_ratio=\d+\.\d\d",
        last,
    ), last


def test_unknown_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "nonsense"]) == 2
    assert "invalid choice" in capsys.readouterr().err
