"""Relative IRIs over HTTP: a posted RDF body (/data, /contributions, /validate) and a SPARQL query
or update resolve them against the URL the request was sent to (the configured ALLIANCELD_BASE_URL
when set, else the configured host and port; never the Host header), unless the text declares its
own base. Queries resolve them the same way as updates, in this process and in a query worker."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.store import KnowledgeBase
from conftest import Site, open_site

USER_GRAPH = "https://w3id.org/allianceld/graph/user/relative"
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
PREFIXES = "@prefix prov: <http://www.w3.org/ns/prov#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n"
# <> cites <#x>, a source without the title a cited source needs: the report names <#x>
UNTITLED = PREFIXES + '<> prov:wasDerivedFrom <#x> .\n<#x> a prov:Entity ; dcterms:publisher "tests" .\n'
TITLED = PREFIXES + (
    '<> a prov:Entity ; dcterms:title "A document"@en ; dcterms:publisher "tests" .\n'
    '<#x> a prov:Entity ; dcterms:title "A part of it"@en ; dcterms:publisher "tests" .\n'
)
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def base_of(site: Site) -> str:
    """The public URL the site's answers are written with (``Settings.public_url``)."""
    return site.app.config["SETTINGS"].public_url


def subjects(kb: KnowledgeBase, graph: str) -> list[str]:
    return sorted({t.subject.value for t in kb.triples(graph)})


@pytest.fixture
def configured(tmp_path: Path, small_store: KnowledgeBase) -> Iterator[Site]:
    """A site with ALLIANCELD_BASE_URL set (with a path of its own)."""
    opened = open_site(tmp_path, small_store, base_url="https://kb.example.org/ald")
    yield opened
    opened.app.extensions["allianceld"].close()
    opened.kb.close()


def focus_nodes(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["focusNode"] for r in resp.get_json()["results"]]


def test_a_validated_body_resolves_against_the_request_url(site: Site) -> None:
    resp = site.client.post("/validate", data=UNTITLED, headers={"Content-Type": "text/turtle", **EVIL})
    assert focus_nodes(resp) == [base_of(site) + "validate#x"]


def test_a_validated_body_resolves_against_the_configured_base(configured: Site) -> None:
    assert base_of(configured) == "https://kb.example.org/ald/"
    resp = configured.client.post("/validate", data=UNTITLED, headers={"Content-Type": "text/turtle", **EVIL})
    assert focus_nodes(resp) == ["https://kb.example.org/ald/validate#x"]


def test_a_pasted_form_and_an_uploaded_file_resolve_the_same_way(site: Site) -> None:
    pasted = site.client.post("/validate", data={"data": UNTITLED, "format": "text/turtle"})
    uploaded = site.client.post(
        "/validate", data={"file": (io.BytesIO(UNTITLED.encode()), "mine.ttl")}, content_type="multipart/form-data"
    )
    assert focus_nodes(pasted) == focus_nodes(uploaded) == [base_of(site) + "validate#x"]


def test_a_body_that_declares_its_base_keeps_it(site: Site) -> None:
    body = "@base <https://example.org/doc/> .\n" + UNTITLED
    resp = site.client.post("/validate", data=body, headers={"Content-Type": "text/turtle"})
    assert focus_nodes(resp) == ["https://example.org/doc/#x"]


@pytest.mark.parametrize("multipart", [False, True], ids=["body", "multipart"])
def test_a_graph_store_write_resolves_against_the_request_url(site: Site, multipart: bool) -> None:
    url = f"/data?graph={USER_GRAPH}"
    if multipart:
        part = (io.BytesIO(TITLED.encode()), "doc.ttl", "text/turtle")
        resp = site.client.post(
            url, data={"doc": part}, content_type="multipart/form-data", headers=site.auth(ctype=None, **EVIL)
        )
    else:
        resp = site.client.put(url, data=TITLED, headers=site.auth(**EVIL))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert subjects(site.kb, USER_GRAPH) == [base_of(site) + "data", base_of(site) + "data#x"]


def test_a_graph_store_write_resolves_against_the_configured_base(configured: Site) -> None:
    resp = configured.client.put(f"/data?graph={USER_GRAPH}", data=TITLED, headers=configured.auth(**EVIL))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert subjects(configured.kb, USER_GRAPH) == [
        "https://kb.example.org/ald/data",
        "https://kb.example.org/ald/data#x",
    ]


def test_a_contribution_resolves_against_the_request_url(site: Site) -> None:
    resp = site.client.post("/contributions", data=TITLED, headers=site.auth(**EVIL))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    graph = resp.get_json()["graph"]
    assert subjects(site.kb, graph) == [base_of(site) + "contributions", base_of(site) + "contributions#x"]


def test_n_triples_still_takes_absolute_iris_only(site: Site) -> None:
    body = f'<x> {LABEL} "x" .\n'
    resp = site.client.post("/validate", data=body, headers={"Content-Type": "application/n-triples"})
    assert resp.status_code == 400 and "No scheme found" in resp.get_data(as_text=True)


def sparql(site: Site, text: str, *, update: bool = False, accept: str = "application/sparql-results+json"):
    ctype = "application/sparql-update" if update else "application/sparql-query"
    resp = site.client.post("/sparql", data=text, headers=site.auth(site.admin, ctype, Accept=accept, **EVIL))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def solutions(resp) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(resp.get_data())["results"]["bindings"]]


def check_queries_and_updates_resolve_alike(site: Site, base: str) -> None:
    """An update writes <s>; a query reads <s>: the same IRI, the endpoint's URL resolved."""
    sparql(site, f'INSERT DATA {{ GRAPH <{USER_GRAPH}> {{ <s> {LABEL} "relative"@en }} }}', update=True)
    assert subjects(site.kb, USER_GRAPH) == [base + "s"]
    assert solutions(sparql(site, "SELECT ?p ?o WHERE { <s> ?p ?o }")) == [
        {"p": "http://www.w3.org/2000/01/rdf-schema#label", "o": "relative"}
    ]
    constructed = sparql(site, "CONSTRUCT { <s> <p> 1 } WHERE {}", accept="application/n-triples")
    assert [str(t) for t in ox.parse(constructed.get_data(), format=ox.RdfFormat.N_TRIPLES)] == [
        f'<{base}s> <{base}p> "1"^^<http://www.w3.org/2001/XMLSchema#integer>'
    ]
    own = sparql(site, "BASE <https://example.org/> SELECT (<s> AS ?s) WHERE {}")
    assert solutions(own) == [{"s": "https://example.org/s"}]
    relative_base = sparql(site, "BASE <sub/> SELECT (<s> AS ?s) WHERE {}")  # resolved against the endpoint
    assert solutions(relative_base) == [{"s": base + "sub/s"}]


def test_a_query_resolves_as_an_update_does(site: Site) -> None:
    check_queries_and_updates_resolve_alike(site, base_of(site))


def test_a_query_resolves_against_the_configured_base(configured: Site) -> None:
    check_queries_and_updates_resolve_alike(configured, "https://kb.example.org/ald/")


def test_a_query_in_a_worker_resolves_the_same_way(tmp_path: Path, small_store: KnowledgeBase) -> None:
    pooled = open_site(tmp_path, small_store, query_timeout=30)
    try:
        assert pooled.app.extensions["allianceld"].pool is not None
        check_queries_and_updates_resolve_alike(pooled, base_of(pooled))
    finally:
        pooled.app.extensions["allianceld"].close()
        pooled.kb.close()


def test_a_query_by_get_resolves_against_the_endpoint_not_its_query_string(site: Site) -> None:
    resp = site.client.get(
        "/sparql", query_string={"query": "SELECT (<#x> AS ?x) WHERE {}"}, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert solutions(resp) == [{"x": base_of(site) + "sparql#x"}]
