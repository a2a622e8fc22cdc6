"""What a person reads, in a real browser (Debian's chromium driven by Playwright against a real
server): result links to this server's pages, durations in words, ISO date fields, pages no wider
than the window. Waits are by selector: the CSP forbids the eval a wait_for_function needs."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from allianceld.web.durations import readable_duration
from web.browsing import CHROMIUM, chromium_page, validate_pasted
from web.test_server import TOKENS, server, server_url  # noqa: F401 - the real-server fixtures

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)"),
    pytest.mark.parametrize("server_url", ["development"], indirect=True),  # one server is enough here
]
WIDTH = 800


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with chromium_page(WIDTH, 700) as opened:
        yield opened


def _run_example(page, server: str, name: str) -> None:  # noqa: F811
    page.goto(server + "/sparql")
    page.wait_for_selector("#yasgui[data-ready]", timeout=20000)
    page.click(f"button.example[data-name='{name}']")
    page.evaluate("window.allianceldYasgui.getTab().query()")
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)


def _no_wider_than_the_window(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_result_links_open_this_servers_pages(server: str, page) -> None:  # noqa: F811
    _run_example(page, server, "nato-members-on-1990-01-01")
    hrefs = [a.get_attribute("href") for a in page.locator(".yasr table tbody a.iri").all()]
    assert len(hrefs) >= 16
    assert [h for h in hrefs if h.startswith("https://w3id.org/allianceld/")] == []
    assert len([h for h in hrefs if h.startswith("/id/state/")]) == 16 and "/id/state/esp" in hrefs
    page.locator(".yasr table tbody a.iri[href='/id/state/esp']").first.click()
    page.wait_for_url(server + "/id/state/esp")  # in this tab, on this server
    assert page.inner_text("h1#label") == "Spain"


def test_the_editor_shows_durations_in_years_and_days(server: str, page) -> None:  # noqa: F811
    _run_example(page, server, "longest-standing-memberships")
    cells = page.locator(".yasr table tbody span.duration").all()
    assert len(cells) == 25
    for cell in cells:
        iso = cell.get_attribute("title")
        assert re.fullmatch(r"P\d+D", iso)
        assert cell.inner_text() == readable_duration(iso)  # the same words as the server's pages
    assert re.search(r"\bP\d+D\b", page.inner_text(".yasr table")) is None


def test_date_fields_show_iso_days(server: str, page) -> None:  # noqa: F811
    for path in ("/alliances", "/states"):
        page.goto(server + path)
        field = page.locator("#filters input[name=active_on]")
        assert field.get_attribute("type") == "text" and field.get_attribute("placeholder") == "YYYY-MM-DD"
        field.fill("1990-01-01")
        field.press("Enter")
        page.wait_for_url("**active_on=1990-01-01**")
        assert page.locator("#filters input[name=active_on]").input_value() == "1990-01-01"


def test_the_validation_report_fits_the_window(server: str, page) -> None:  # noqa: F811
    from conftest import TEST_DATA

    validate_pasted(page, server, (TEST_DATA / "invalid" / "membership-start-before-founding.ttl").read_text())
    box = page.locator("#results").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    _no_wider_than_the_window(page)


def test_a_contribution_page_links_what_it_wrote_and_fits_the_window(server_url: str, page) -> None:  # noqa: F811
    base, kind = server_url.split("#")
    slug = "a-region-whose-identifier-is-long-enough-to-run-off-a-narrow-window-" + "x" * 60
    body = (
        f"<https://w3id.org/allianceld/id/region/{slug}> a <https://w3id.org/allianceld/ontology#Region> ; "
        '<http://www.w3.org/2000/01/rdf-schema#label> "Readable test region"@en .'
    ).encode()
    request = urllib.request.Request(
        base + "/contributions?" + urllib.parse.urlencode({"comment": "readable pages"}),
        data=body,
        headers={"Authorization": f"Bearer {TOKENS[kind]}", "Content-Type": "text/turtle"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        url = json.load(resp)["url"]
    page.goto(base + url)
    for selector in ("#provenance", "#data", "#record"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTH, selector
    _no_wider_than_the_window(page)
    link = page.locator("#written a", has_text="Readable test region")
    assert link.get_attribute("href") == f"/id/region/{slug}"
    link.click()
    page.wait_for_url(f"{base}/id/region/{slug}")


def test_table_headings_break_between_words_not_inside_them(server: str, page) -> None:  # noqa: F811
    """Long IRIs may break anywhere to fit the window; ordinary words do not ("Dec|ade")."""
    page.goto(server + "/charts")
    page.wait_for_selector("svg#chart rect.bar")
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    headings = page.locator("main table th")
    for cell in (headings.filter(has_text="Decade").first, headings.filter(has_text="0s").first):
        assert cell.evaluate(lines) == 1, f"{cell.inner_text()!r} is broken over lines"


def test_the_network_day_fields_show_iso_days(server: str, page) -> None:  # noqa: F811
    """The network pages' day fields hold ISO days (not the browser's locale format) and follow the slider."""
    for path in ("/network?date=1990-01-01", "/id/state/jpn"):
        page.goto(server + path)
        page.wait_for_selector("#network[data-rendered]")
        field = page.locator("#network-day")
        assert field.get_attribute("type") == "text" and field.get_attribute("placeholder") == "YYYY-MM-DD"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", field.input_value()), field.input_value()
