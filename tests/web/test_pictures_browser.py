"""The pictures in a real browser (Debian's chromium driven by Playwright) against the app served
by Werkzeug on 127.0.0.1 over the shipped data: the network's slider, heading and address, labels
that do not overlap, timelines that fit their width, the chart's axes."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from web.browsing import CHROMIUM, chromium_page, network_labels, served

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)")


@pytest.fixture(scope="module")
def base(app) -> Iterator[str]:
    """The test app (shipped data) served on a free port of 127.0.0.1."""
    with served(app) as url:
        yield url


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with chromium_page() as opened:
        yield opened


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
    assert f"date={day}" in page.evaluate("location.search")
    expected = _json(base, f"/network.json?date={day}")
    assert page.locator("#network-table tr").count() == 1 + len(expected["edges"])
    assert f"date={day}" in page.get_attribute("#network-json", "href")
    # the address it left opens at that day
    page.goto(page.url)
    page.wait_for_selector(f"#network[data-rendered='{day}']", timeout=20000)
    assert page.inner_text("#network-table-date") == day
    assert page.input_value("#network-day") == day


def test_a_state_page_network_link_follows_the_slider(base: str, page) -> None:
    page.goto(base + "/id/state/jpn")
    page.wait_for_selector("#network[data-rendered]", timeout=20000)
    _slide(page, "1990-01-01")
    assert page.get_attribute("#ego-network-page", "href") == "/states/jpn/network?date=1990-01-01&obligation=defence"
    assert page.evaluate("location.search") == ""  # the state's page keeps its own address


def test_the_obligation_chosen_redraws_and_goes_into_the_address(base: str, page) -> None:
    page.goto(base + "/network?date=2018-01-01")
    page.wait_for_selector("#network[data-rendered='2018-01-01'][data-obligation='defence']", timeout=20000)
    page.select_option("#network-obligation", "any")
    page.wait_for_selector("#network[data-obligation='any']", timeout=20000)
    expected = _json(base, "/network.json?date=2018-01-01&obligation=any")
    assert page.evaluate("window.allianceldNetwork.cy.edges().length") == len(expected["edges"])
    assert "obligation=any" in page.evaluate("location.search")
    assert page.locator("#network-table tr").count() == 1 + len(expected["edges"])


# the boxes of the texts a picture shows that lie outside the picture or outside the element that
# clips them (a label cut at the edge): [text, its box, the box it must fit in]
CUT_LABELS = """(sel) => {
  const outer = document.querySelector(sel).getBoundingClientRect();
  const cut = [];
  for (const el of document.querySelectorAll(sel + ' .vis-item-content, ' + sel + ' .vis-label .vis-inner')) {
    const text = el.textContent.trim();
    if (!text) continue;
    const r = el.getBoundingClientRect();
    const clip = el.closest('.vis-item-overflow, .vis-label') || el.parentElement;
    const c = clip.getBoundingClientRect();
    const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1;
    if (!inside(r, outer) || !inside(r, c) || el.scrollWidth > el.clientWidth + 1) cut.push([text, r.right, c.right]);
  }
  return cut;
}"""


@pytest.mark.parametrize("width", [1200, 700])
def test_nato_timeline_shows_every_member_name_whole(base: str, page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(base + "/id/alliance/nato")
        page.wait_for_selector("#timeline[data-rendered]", timeout=20000)
        page.wait_for_selector("#timeline .vis-label:has-text('Sweden')", state="visible", timeout=20000)
        names = page.locator("#timeline .vis-label .vis-inner").all_inner_texts()
        assert {"North Macedonia", "Finland", "Sweden"} <= set(names)
        assert page.evaluate(CUT_LABELS, "#timeline") == []
    finally:
        page.set_viewport_size({"width": 1200, "height": 900})


@pytest.mark.parametrize(
    "path", ["/network?date=2024-06-01", "/network?date=1990-01-01&obligation=any", "/id/state/usa"]
)
def test_network_labels_shown_do_not_overlap(base: str, page, path: str) -> None:
    shown, pairs = network_labels(page, base + path)
    assert pairs == []
    assert shown >= 8  # most states keep their names: only those that would collide are hidden
