"""Drive the page at ``GET /`` in Debian's Chromium through Playwright (never ``playwright install``).

`drive_page` does what a person does: choose an image, wait for the plate text, press Download. It
returns what the page showed and what it downloaded, plus every console error and uncaught exception.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageResult:
    plate_texts: list[str]
    download_name: str
    download: dict[str, Any]
    canvas_size: tuple[int, int]
    status_line: str
    errors: list[str] = field(default_factory=list)


def require_browser() -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (scripts/sysdeps.sh)", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the playwright package is needed: pip install -e '.[dev]'", pytrace=False)


def drive_page(
    base_url: str, image: Path, screenshot: Path | None = None, timeout_s: float = 60
) -> PageResult:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
            page.set_default_timeout(timeout_s * 1000)
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on(
                "console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None
            )
            page.goto(base_url + "/")
            page.wait_for_function("document.getElementById('status').textContent.startsWith('Ready')")
            page.set_input_files("#file", str(image))
            page.wait_for_selector("#plates li")
            page.wait_for_function("document.getElementById('canvas').width > 16")
            texts = page.locator("#plates .text").all_inner_texts()
            canvas = page.evaluate(
                "[document.getElementById('canvas').width, document.getElementById('canvas').height]"
            )
            status = page.inner_text("#status")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
            with page.expect_download() as info:
                page.click("#download")
            download = info.value
            path = download.path()
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return PageResult(
                texts, download.suggested_filename, data, (canvas[0], canvas[1]), status, errors
            )
        finally:
            browser.close()


def page_error(base_url: str, image: Path, timeout_s: float = 30) -> str:
    """Upload ``image`` and return the error message the page shows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.goto(base_url + "/")
            page.set_input_files("#file", str(image))
            page.wait_for_selector("#error:not([hidden])")
            return page.inner_text("#error")
        finally:
            browser.close()


def live_section(base_url: str, min_rows: int, timeout_s: float = 30) -> tuple[list[str], list[list[str]]]:
    """Open the page under the daemon and return the camera badges and the recent-event table's rows
    (each a list of cell texts) once at least ``min_rows`` events are shown; page errors fail."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.goto(base_url + "/")
            page.wait_for_function(f"document.querySelectorAll('#events tr').length >= {min_rows}")
            cameras = page.locator("#cameras span").all_inner_texts()
            rows = [row.locator("td").all_inner_texts() for row in page.locator("#events tr").all()]
        finally:
            browser.close()
    assert errors == [], errors
    return cameras, rows
