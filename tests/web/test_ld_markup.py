"""The pages' terms, links, sources and dates as HTML: escaped, and linked only where safe."""

from __future__ import annotations

import pytest

from allianceld.web import ld_markup


def test_an_iri_with_a_label_links_here_with_its_prefixed_name() -> None:
    t = {"kind": "iri", "iri": "https://w3id.org/allianceld/id/state/fra", "href": "/id/state/fra", "label": "France"}
    t["short"] = "id:state/fra"
    assert str(ld_markup.term(t)) == (
        '<a class="term" href="/id/state/fra" title="https://w3id.org/allianceld/id/state/fra">France</a>'
        ' <code class="short">id:state/fra</code>'
    )


def test_labels_and_values_are_escaped() -> None:
    t = {
        "kind": "iri",
        "iri": "https://e.org/x",
        "href": "https://e.org/x",
        "label": "<script>x</script>",
        "short": "x",
    }
    html = str(ld_markup.term(t))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    literal = {"kind": "literal", "value": '"><img src=x onerror=alert(1)>', "datatype": "xsd:string"}
    assert str(ld_markup.term(literal)) == (
        '<span class="literal">&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</span> <small>xsd:string</small>'
    )


@pytest.mark.parametrize("href", ["javascript:alert(1)", "data:text/html,x", "//evil.example/", " https://x"])
def test_an_unsafe_target_is_text_not_a_link(href: str) -> None:
    t = {"kind": "iri", "iri": href, "href": href, "label": "", "short": "x"}
    assert str(ld_markup.term(t)) == f'<span class="term" title="{href}">x</span>'
    assert "<a" not in str(ld_markup.source({"kind": "graph", "url": href, "name": "n"}))


def test_a_duration_reads_in_words_with_its_iso_form_in_the_title() -> None:
    t = {"kind": "literal", "value": "P1Y", "readable": "1 year", "datatype": "xsd:duration"}
    assert str(ld_markup.term(t)) == '<span class="literal duration" title="P1Y">1 year</span>'
    tagged = {"kind": "literal", "value": "OTAN", "language": "fr"}
    assert str(ld_markup.term(tagged)) == '<span class="literal">OTAN</span> <small>@fr</small>'


def test_sources_and_dates() -> None:
    assert str(ld_markup.source({"kind": "file", "name": "data/nato.ttl"})) == "data file <code>data/nato.ttl</code>"
    contribution = {"kind": "contribution", "url": "/contributions/c1", "name": "c1"}
    assert str(ld_markup.source(contribution)) == '<a href="/contributions/c1">contribution c1</a>'
    assert str(ld_markup.source({"kind": "graph", "graph": "urn:g"})) == "graph <code>urn:g</code>"
    assert str(ld_markup.date("1949-04-04", None)) == '<time datetime="1949-04-04">1949-04-04</time>'
    assert str(ld_markup.date("1949", "year")) == (
        '<time datetime="1949">1949</time> <small>(known to the year)</small>'
    )
    assert str(ld_markup.date(None, "year")) == ""
