"""The query editor in a real browser: Debian's chromium driven by Playwright against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from web.browsing import CHROMIUM, chromium_page, validate_pasted
from web.test_server import server, server_url  # noqa: F401 - the real-server fixtures

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make test installs Debian's chromium)"),
]


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with chromium_page(1280, 720) as opened:  # Playwright's default window
        yield opened


def test_yasgui_runs_a_query_and_shows_rows(server: str, page) -> None:  # noqa: F811
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(server + "/sparql")
    page.wait_for_selector("#yasgui[data-ready]", timeout=20000)
    page.click("button.example[data-name='nato-members-on-1990-01-01']")
    page.evaluate("window.allianceldYasgui.getTab().query()")
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)
    rows = page.locator(".yasr table tbody tr")
    assert rows.count() == 16
    assert "Spain" in page.inner_text(".yasr table")
    assert [u for u in failed if u.startswith(server)] == []  # everything it needs is served by the app


def test_editor_knows_the_ontology_prefixes(server: str, page) -> None:  # noqa: F811
    page.goto(server + "/sparql")
    page.wait_for_selector("#yasgui[data-ready]", timeout=20000)
    prefixes = page.evaluate("window.allianceldYasgui.getTab().getYasqe().getPrefixesFromQuery()")
    assert prefixes["ald"] == "https://w3id.org/allianceld/ontology#"


def test_home_page_form_shows_the_report_of_pasted_text(server: str, page) -> None:  # noqa: F811
    from conftest import TEST_DATA

    validate_pasted(page, server, (TEST_DATA / "invalid" / "membership-start-before-founding.ttl").read_text())
    assert "Does not conform" in page.inner_text("#verdict")
    assert "cannot start before its alliance was founded" in page.inner_text("#results")


def test_a_state_page_links_each_derived_fact_to_its_explanation(server: str, page) -> None:  # noqa: F811
    page.goto(server + "/id/state/usa")
    assert page.inner_text("h1#label") == "United States"
    assert page.locator("#memberships").get_by_role("link", name="North Atlantic Treaty Organization").count() == 1
    why = page.locator("#derived a.why[href*='p=org:memberOf&o=id:alliance/nato']")
    assert why.count() == 1
    why.click()
    page.wait_for_url("**/reasoning/explain?**")
    assert page.inner_text("h1") == "Why does this hold?"
    triple = page.inner_text("#triple")
    assert "United States" in triple and "North Atlantic Treaty Organization" in triple
    assert "inferred" in page.inner_text("#how")
    assert "membership/nato-usa" in page.inner_text("#premises")


# -- pictures over time ----------------------------------------------------------------------------


def _json(base: str, path: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Accept": "application/json"})) as r:
        return json.load(r)


def test_nato_page_draws_one_timeline_bar_per_membership(server: str, page) -> None:  # noqa: F811
    expected = _json(server, "/alliances/nato/timeline")["total"]
    assert expected == 32
    asked: list[str] = []

    def record(request) -> None:
        asked.append(request.url)

    page.on("request", record)
    page.goto(server + "/id/alliance/nato")
    page.wait_for_selector("#timeline[data-rendered]", timeout=20000)
    assert page.locator("#timeline .vis-item.vis-range:not(.event):not(.exercise)").count() == expected
    assert page.locator("#timeline .vis-label", has_text="Sweden").count() == 1  # a row per member, named
    page.remove_listener("request", record)
    assert [u for u in asked if not u.startswith((server, "data:"))] == []  # no CDN
    assert server + "/assets/vendor/vis-timeline/vis-timeline-graph2d.min.js" in asked


def test_network_page_draws_the_states_and_links_of_the_day(server: str, page) -> None:  # noqa: F811
    page.goto(server + "/network?date=1990-01-01")
    page.wait_for_selector("#network[data-rendered='1990-01-01']", timeout=20000)
    assert page.evaluate("window.allianceldNetwork.cy.nodes().length") == 23
    assert page.evaluate("window.allianceldNetwork.cy.edges().length") == 136
    assert page.locator("#network canvas").count() >= 1
    assert page.inner_text("#network-edges") == "136"
    # moving the slider to another day draws that day's network
    day = "2012-12-20"
    page.evaluate(
        "(day) => { const s = document.getElementById('network-slider');"
        " s.value = String(Date.parse(day + 'T00:00:00Z') / 86400000); s.dispatchEvent(new Event('input')); }",
        day,
    )
    page.wait_for_selector(f"#network[data-rendered='{day}']", timeout=20000)
    expected = _json(server, f"/network.json?date={day}")
    assert page.evaluate("window.allianceldNetwork.cy.nodes().length") == len(expected["nodes"])
    assert page.evaluate("window.allianceldNetwork.cy.edges().length") == len(expected["edges"])


def test_state_page_draws_its_network(server: str, page) -> None:  # noqa: F811
    expected = _json(server, "/states/jpn/network")
    page.goto(server + "/id/state/jpn")
    page.wait_for_selector("#network[data-rendered]", timeout=20000)
    assert page.evaluate("window.allianceldNetwork.cy.nodes().length") == len(expected["nodes"]) > 1
    assert page.evaluate("window.allianceldNetwork.cy.edges().length") == len(expected["edges"])
    assert page.evaluate("window.allianceldNetwork.cy.nodes('.ego').map((n) => n.id())") == ["jpn"]


def test_defence_expenditure_charts_draw_bars_and_points(server: str, page) -> None:  # noqa: F811
    page.goto(server + "/charts/defence-expenditure?state=pol&year=2023")
    bars = page.locator("svg#chart rect.bar")
    assert bars.count() == 30  # the Allies with armed forces in NATO's March 2024 report
    widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0
    guideline = page.locator("svg#chart line.guideline").bounding_box()
    # Denmark's 2.00 ends at the guideline; Norway's 1.80 (below it) ends short of it
    denmark = page.locator('svg#chart rect.bar[data-state="dnk"]').bounding_box()
    norway = page.locator('svg#chart rect.bar[data-state="nor"]').bounding_box()
    assert abs(denmark["x"] + denmark["width"] - guideline["x"]) < 2 and norway["x"] + norway["width"] < guideline["x"]
    assert page.locator("svg#series circle.point").count() == 11  # Poland, every year from 2014 to 2024


def test_charts_page_draws_one_bar_per_decade_and_type(server: str, page) -> None:  # noqa: F811
    data = _json(server, "/charts/data")
    page.goto(server + "/charts")
    bars = page.locator("svg#chart rect.bar")
    assert bars.count() == sum(len(d["counts"]) for d in data["decades"]) == 17  # the curated data (test_pictures)
    box = bars.first.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0


# -- the Content-Security-Policy -------------------------------------------------------------------


def test_no_page_breaks_the_content_security_policy(server: str, page) -> None:  # noqa: F811
    """The pages' own scripts and styles are all allowed: the browser reports no CSP violation."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    # waited for by selectors: a wait_for_function predicate is evaluated by eval(), which the
    # CSP (rightly) forbids once the predicate is not true at its first look
    for path, ready in [
        ("/sparql", "#yasgui[data-ready]"),
        ("/id/state/jpn", "#network[data-rendered]"),
        ("/id/alliance/nato", ".vis-item"),
        ("/network", "#network[data-rendered]"),
        ("/charts", "svg#chart rect.bar"),
        ("/charts/defence-expenditure?state=pol", "svg#series circle.point"),
        ("/", "body"),
    ]:
        page.goto(server + path)
        page.wait_for_selector(ready, timeout=20000)
    assert violations == []


def test_a_contributed_javascript_iri_is_text_that_runs_nothing(server_url: str, page) -> None:  # noqa: F811
    """A contribution whose source is javascript:... : its page shows it as text; clicking runs nothing."""
    import json
    import urllib.parse
    import urllib.request

    from web.test_server import TOKENS

    base, kind = server_url.split("#")
    evil = "javascript:document.title='pwned'"
    body = (
        b"<https://w3id.org/allianceld/id/region/browser-xss> a <https://w3id.org/allianceld/ontology#Region> ; "
        b'<http://www.w3.org/2000/01/rdf-schema#label> "Browser XSS test"@en .'
    )
    request = urllib.request.Request(
        base + "/contributions?" + urllib.parse.urlencode({"source": evil, "license": evil}),
        data=body,
        headers={"Authorization": f"Bearer {TOKENS[kind]}", "Content-Type": "text/turtle"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        url = json.load(resp)["url"]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + url)
    title = page.title()
    assert page.locator("a[href^='javascript' i]").count() == 0
    page.get_by_text(evil).first.click()
    assert page.title() == title and "pwned" not in page.title()
    assert page.evaluate("location.pathname") == url and dialogs == []
