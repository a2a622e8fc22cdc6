"""The pictures in a real browser (Debian's chromium driven by Playwright) against the app served
by Werkzeug on 127.0.0.1 over the shipped data: the network's slider, heading and address, labels
that do not overlap, timelines that fit their width, the chart's axes."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def base(app) -> Iterator[str]:
    """The test app (shipped data) served on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser.new_page(viewport={"width": 1200, "height": 900})
        browser.close()


def _json(base: str, path: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Accept": "application/json"})) as r:
        return json.load(r)


def _slide(page, day: str) -> None:
    """Moves the network's slider to ``day`` as a user's drag does (an input event)."""
    page.evaluate(
        "(day) => { const s = document.getElementById('network-slider');"
        " s.value = String(Date.parse(day + 'T00:00:00Z') / 86400000); s.dispatchEvent(new Event('input')); }",
        day,
    )
    page.wait_for_selector(f"#network[data-rendered='{day}']", timeout=20000)


def test_the_slider_moves_the_heading_the_table_and_the_address(base: str, page) -> None:
    page.goto(base + "/network?date=1990-01-01")
    page.wait_for_selector("#network[data-rendered='1990-01-01']", timeout=20000)
    assert page.inner_text("#network-table-date") == "1990-01-01"
    day = "2012-12-20"
    _slide(page, day)
    assert page.inner_text("#network-table-date") == day
    assert page.evaluate("location.search").endswith("date=" + day)
    expected = _json(base, f"/network.json?date={day}")
    assert page.locator("#network-table tr").count() == 1 + len(expected["edges"])
    assert page.get_attribute("#network-json", "href").endswith("date=" + day)
    # the address it left opens at that day
    page.goto(page.url)
    page.wait_for_selector(f"#network[data-rendered='{day}']", timeout=20000)
    assert page.inner_text("#network-table-date") == day
    assert page.input_value("#network-day") == day


def test_a_state_page_network_link_follows_the_slider(base: str, page) -> None:
    page.goto(base + "/id/state/jpn")
    page.wait_for_selector("#network[data-rendered]", timeout=20000)
    _slide(page, "1990-01-01")
    assert page.get_attribute("#ego-network-page", "href") == "/states/jpn/network?date=1990-01-01"
    assert page.evaluate("location.search") == ""  # the state's page keeps its own address
