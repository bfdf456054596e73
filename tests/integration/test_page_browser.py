"""The page at ``GET /`` in a real browser against ``plate-edge serve`` with the real models: choose an
image, see the plate text, download the JSON."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.images import pillow_bytes
from tests.support.page_driver import drive_page, page_error, require_browser
from tests.support.ports import LOOPBACK, free_port, wait_for_port
from tests.support.processes import die_with_parent, tail, terminate_group
from tests.support.real_models import require_models
from tests.support.schemas import assert_analysis

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("plate-edge")
REPO = Path(__file__).resolve().parents[2]
#: The bundled sample and its plate, as `python -m models.training.scenes --out demo --n 4 --seed 11` prints.
DEMO, DEMO_TEXT = REPO / "demo" / "gate-01.jpg", "23육5849"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`plate-edge serve` on a free loopback port; its log is shown if it does not come up."""
    require_models()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [SCRIPT, "serve", "--host", LOOPBACK, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
    try:
        if not wait_for_port(LOOPBACK, port, timeout=120) or proc.poll() is not None:
            pytest.fail(f"plate-edge serve did not come up:\n{tail(log_path)}", pytrace=False)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        terminate_group(proc)


def test_upload_shows_the_plate_and_downloads_the_json(server: str, tmp_path: Path) -> None:
    require_browser()
    assert DEMO.is_file(), f"bundled sample missing: {DEMO}"
    result = drive_page(server, DEMO, screenshot=tmp_path / "page.png")
    assert result.errors == []
    assert result.status_line.startswith("Ready")
    assert result.plate_texts[:1] == [DEMO_TEXT]
    assert result.canvas_size == (1280, 720)
    assert result.download_name == "gate-01.json"
    assert_analysis(result.download)
    assert result.download["image"]["name"] == "gate-01.jpg"
    assert result.download["plates"][0]["text"] == DEMO_TEXT


def test_page_shows_upload_errors(server: str, tmp_path: Path) -> None:
    """A file the API refuses (a GIF called .png) shows the API's message, not a blank page."""
    require_browser()
    bad = tmp_path / "not-really.png"
    bad.write_bytes(pillow_bytes("GIF"))
    message = page_error(server, bad)
    assert message.startswith("415:") and "JPEG or PNG" in message
