"""The W3C SPARQL 1.1 Service Description tests, run against /sparql on a live server.

Every case that does not pass is listed here with its reason; a case that starts or stops passing
fails this test, so the count in docs/conformance.md stays true.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib

from allianceld.vocab import DEFAULT_GRAPH
from conftest import ROOT
from w3c import service_description
from w3c.replay import LiveServer

NOT_PASSING: dict[str, str] = {}
SD = service_description.SD

CONFORMANCE = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not service_description.MANIFEST.is_file(), reason="../shared/testsuites/sparql11 is not on this machine"
    ),
]


def test_service_description_suite(w3c_server: LiveServer) -> None:
    w3c_server.reset()
    triple = ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
    w3c_server.kb.replace_graphs({DEFAULT_GRAPH: [triple], "http://example.org/g": [triple]})
    described, _ = service_description.fetch(w3c_server, "text/turtle")
    assert described is not None
    assert len(set(described.objects(None, SD.namedGraph))) == 2  # the schema checks have named graphs to judge
    cases = service_description.cases()
    outcomes = {case.name: service_description.check(w3c_server, case) for case in cases}
    failing = {name: why for name, why in outcomes.items() if why is not None}
    assert sorted(failing) == sorted(NOT_PASSING), failing
    counts = (len(cases) - len(failing), len(cases))
    stated = re.search(r"test_w3c_service_description\.py`[^*]*\*\*(\d+) of (\d+) pass\*\*", CONFORMANCE)
    assert stated is not None and tuple(map(int, stated.groups())) == counts, "docs/conformance.md states another count"
    assert counts == (3, 3)


def test_the_schema_check_finds_departures() -> None:
    g = rdflib.Graph()
    service, dataset, named = rdflib.BNode(), rdflib.BNode(), rdflib.BNode()
    g.add((service, SD.endpoint, rdflib.URIRef("http://example.org/sparql")))
    g.add((service, SD.supportedLanguage, SD.SPARQL12Query))
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, rdflib.RDF.type, SD.Dataset))
    g.add((dataset, SD.namedGraph, named))
    g.add((named, SD.name, rdflib.Literal("not an IRI")))
    problems = " | ".join(service_description.schema_problems(g))
    assert "sd:SPARQL12Query is not a term" in problems
    assert "has sd:name" in problems
    assert "is not typed sd:Service" in problems
    assert "is not typed sd:NamedGraph" in problems
    assert "no sd:supportedLanguage" in problems
    assert service_description.schema_problems(rdflib.Graph()) == []


def test_the_description_names_query_and_update(w3c_server: LiveServer) -> None:
    described, problem = service_description.fetch(w3c_server, "application/rdf+xml")
    assert described is not None, problem
    service = rdflib.URIRef(w3c_server.base + "/sparql")
    assert set(described.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query, SD.SPARQL11Update}
