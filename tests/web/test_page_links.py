"""Links on pages are safe: only http, https and mailto IRIs (and the site's own paths) become
hrefs; a contributed ``javascript:`` source, licence or ``skos:closeMatch`` is shown as text; the
Content-Security-Policy lets scripts come only from the service's own origin."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from allianceld.web.links import safe_href
from conftest import Site

EVIL = "javascript:alert(1)"
REGION = "https://w3id.org/allianceld/id/region/xss-test"
BODY = f"""@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<{REGION}> a ald:Region ; rdfs:label "XSS test region"@en ;
    skos:closeMatch <{EVIL}>, <data:text/html,x>, <https://example.org/fine> .
""".encode()


class Hrefs(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.targets += [v or "" for k, v in attrs if k in ("href", "src", "action", "formaction")]


def targets(html: str) -> list[str]:
    parser = Hrefs()
    parser.feed(html)
    return parser.targets


@pytest.mark.parametrize(
    "value",
    [
        EVIL,
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/\\evil.example/x",
        "relative/path",
        "ftp://example.org/",
        "mailto:",
        "https://exa mple.org/",
        "",
        None,
    ],
)
def test_unsafe_targets_are_not_links(value: str | None) -> None:
    assert safe_href(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/a?b=c#d",
        "HTTP://example.org/",
        "mailto:someone@example.org",
        "/id/alliance/nato",
        "#Alliance",
    ],
)
def test_safe_targets_are_links(value: str) -> None:
    assert safe_href(value) == value


def test_javascript_iris_in_a_contribution_are_shown_as_text(site: Site) -> None:
    made = site.client.post(
        "/contributions", data=BODY, query_string={"source": EVIL, "license": EVIL}, headers=site.auth()
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    url = made.get_json()["url"]
    pages = {
        path: site.client.get(path, headers={"Accept": "text/html"})
        for path in ("/contributions", url, "/id/region/xss-test")
    }
    for path, resp in pages.items():
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        assert EVIL in html, path  # shown
        bad = [t for t in targets(html) if safe_href(t) is None]
        assert bad == [], (path, bad)  # never a link
    links_out = targets(pages["/id/region/xss-test"].get_data(as_text=True))
    assert "https://example.org/fine" in links_out  # a safe link out still is one


def test_pages_allow_scripts_only_from_the_service(site: Site) -> None:
    resp = site.client.get("/sparql", headers={"Accept": "text/html"})
    policy = dict(p.strip().split(" ", 1) for p in resp.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "<script>" not in resp.get_data(as_text=True)  # no inline script the policy would block
