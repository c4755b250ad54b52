"""Notebook 02 in a real browser: JupyterLab and Voilà render the dashboard; Step updates it.

After the notebook ran (five programmatic Step clicks), a click on the page's Step button must
add a reasoning-chain entry and a point to the chart (``svg.main-svg``; polled, since the chart
update arrives after the log), without unexpected JavaScript errors. In JupyterLab, Run N then
runs while the kernel still answers a Pause click. In Voilà the page connects only after the
notebook ran, so the five points drawn first prove the chart re-syncs its state.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]

ENTRY = ".axon-reasoning-entry"
POINTS = ".axon-loop-stepper svg.main-svg .scatterlayer .trace .points path.point"
TIMEOUT_MS = 120_000
FONT_AWESOME = re.compile(r"^https://cdn\.jsdelivr\.net/npm/@fortawesome/")
# JavaScript console errors that are not ours: a missing favicon / resource on a fresh server.
EXPECTED_ERRORS = (
    re.compile(r"Failed to load resource: the server responded with a status of 404"),
)


class JSErrors:
    """Collect page errors and console errors of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console.error: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on(
            "requestfailed",
            lambda req: self.errors.append(f"requestfailed: {req.url} {req.failure}"),
        )

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in EXPECTED_ERRORS)]


def screenshot_path(tmp_path: Path, name: str) -> Path:
    if os.environ.get("AXON_SAVE_SCREENSHOT") == "1":
        path = ROOT / "notebooks" / "img" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path / name


def wait_count(page: Any, selector: str, n: int) -> None:
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[selector, n],
        timeout=TIMEOUT_MS,
    )  # fmt: skip


def click_step(page: Any) -> None:
    page.locator(".axon-loop-stepper button", has_text=re.compile(r"^\s*Step\s*$")).click()


def test_jupyterlab_runs_notebook_02_and_step_run_pause_drive_the_dashboard(
    jupyterlab: Server, browser_context: Any, tmp_path: Path
) -> None:
    page = browser_context.new_page()
    errors = JSErrors(page)
    token = jupyterlab.extra["token"]
    page.goto(f"{jupyterlab.url}/lab/tree/02_step_the_loop.ipynb?token={token}")
    page.wait_for_function(
        "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel"
        "?.connectionStatus === 'connected'",
        timeout=TIMEOUT_MS,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.get_by_text("final:").first.wait_for(timeout=TIMEOUT_MS)  # the last cell ran
    wait_count(page, ENTRY, 5)
    wait_count(page, POINTS, 5)

    page.locator(".axon-dashboard").scroll_into_view_if_needed()
    click_step(page)
    page.get_by_text("step 5 2020-01-12 05:00").wait_for(timeout=TIMEOUT_MS)  # the log line
    wait_count(page, ENTRY, 6)
    wait_count(page, POINTS, 6)  # polled: the chart update arrives after the log

    shot = screenshot_path(tmp_path, "dashboard.png")
    page.locator(".axon-dashboard").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # Run N runs as a task on the kernel's loop: the kernel still handles the Pause click
    stepper = page.locator(".axon-loop-stepper")
    stepper.locator("input[type=number]").fill("500")
    stepper.locator("input[type=number]").press("Enter")
    stepper.locator("button", has_text=re.compile(r"^\s*Run N\s*$")).click()
    page.get_by_text("running 500 steps").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(
        "sel => document.querySelectorAll(sel).length >= 8", arg=POINTS, timeout=TIMEOUT_MS
    )
    stepper.locator("button", has_text=re.compile(r"^\s*Pause\s*$")).click()
    paused = page.get_by_text(re.compile(r"paused after \d+ steps"))
    paused.wait_for(timeout=TIMEOUT_MS)
    ran = int(re.search(r"after (\d+) steps", paused.inner_text()).group(1))
    assert 2 <= ran < 500
    wait_count(page, POINTS, 6 + ran)

    assert errors.unexpected() == [], "\n".join(errors.unexpected())
    page.close()


def test_voila_renders_notebook_02_and_step_updates_the_dashboard(
    voila: Server, browser_context: Any, tmp_path: Path
) -> None:
    page = browser_context.new_page()
    errors = JSErrors(page)
    # Voila's template links Font Awesome from a CDN; answer it locally so an offline machine
    # (or a slow CDN) does not show up as a failed request
    page.route(FONT_AWESOME, lambda route: route.fulfill(status=200, content_type="text/css"))
    page.goto(f"{voila.url}/", timeout=TIMEOUT_MS)
    page.locator(".axon-dashboard").wait_for(timeout=TIMEOUT_MS)
    # the page connected after the five Step clicks ran: re-synced state shows them all
    wait_count(page, ENTRY, 5)
    wait_count(page, POINTS, 5)

    click_step(page)
    page.get_by_text("step 5 2020-01-12 05:00").wait_for(timeout=TIMEOUT_MS)
    wait_count(page, ENTRY, 6)
    wait_count(page, POINTS, 6)

    shot = tmp_path / "dashboard-voila.png"
    page.locator(".axon-dashboard").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert errors.unexpected() == [], "\n".join(errors.unexpected())
    page.close()
