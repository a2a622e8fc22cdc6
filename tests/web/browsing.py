"""What the browser tests share: Debian's chromium, an app served on 127.0.0.1 in a thread of this
process, and a Playwright page."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by Werkzeug on a free port of 127.0.0.1; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium_page(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A page of a headless chromium, ``width`` by ``height``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


# the number of node labels the network shows, and the pairs of them whose boxes overlap
OVERLAPS = """() => {
  const cy = window.allianceldNetwork.cy;
  const opts = { includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false };
  const shown = cy.nodes().filter((n) => n.style('label') !== '').map((n) => [n.id(), n.boundingBox(opts)]);
  const pairs = [];
  for (let i = 0; i < shown.length; i++)
    for (let j = i + 1; j < shown.length; j++) {
      const a = shown[i][1], b = shown[j][1];
      const hit = a.w > 0 && b.w > 0 && a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
      if (hit) pairs.push([shown[i][0], shown[j][0]]);
    }
  return [shown.length, pairs];
}"""


def network_labels(page: Any, url: str) -> tuple[int, list[list[str]]]:
    """Open the network picture at ``url`` once drawn: how many labels it shows, and which overlap."""
    page.goto(url)
    page.wait_for_selector("#network[data-rendered]", timeout=60000)
    shown, pairs = page.evaluate(OVERLAPS)
    return shown, pairs


def validate_pasted(page: Any, base: str, text: str) -> None:
    """Paste Turtle ``text`` into the home page's validation form and wait for its report."""
    page.goto(base + "/")
    page.fill("#validate-data", text)
    page.select_option("#validate-form select[name=format]", "text/turtle")
    page.click("#validate-form button[type=submit]")
    page.wait_for_selector("#verdict", timeout=60000)
    page.wait_for_selector("#results", timeout=60000)
