"""A query's relative IRIs resolve against the base it is given, with the same answers on the embedded
store and on a remote SPARQL endpoint (a real `oxigraph serve`), which takes no base parameter: there
the base is written into the query as a ``BASE`` before the text's own."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from allianceld.store import KnowledgeBase
from allianceld.store.execution import QueryRequest, execute

BASE = "http://127.0.0.1:8000/sparql"
GRAPH = "https://w3id.org/allianceld/graph/user/relative"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def answer(kb: KnowledgeBase, sparql: str) -> list[dict[str, str]] | list[str]:
    """The query's answer through :func:`execute`, as the endpoint gives it: rows or N-Triples lines."""
    got = execute(
        kb, QueryRequest(sparql, "application/sparql-results+json", "application/n-triples", 2**20, base_iri=BASE)
    )
    if got.kind == "graph":
        return sorted(got.body.decode().splitlines())
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(got.body)["results"]["bindings"]]


@pytest.mark.parametrize(
    ("sparql", "expected"),
    [
        ("SELECT ?o WHERE { <s> ?p ?o }", [{"o": "relative"}]),
        ("SELECT ?o WHERE { <#s> ?p ?o }", []),
        (
            "CONSTRUCT { <s> <p> 1 } WHERE {}",
            ['<http://127.0.0.1:8000/s> <http://127.0.0.1:8000/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .'],
        ),
        ("BASE <https://example.org/> SELECT (<s> AS ?s) WHERE {}", [{"s": "https://example.org/s"}]),
        ("BASE <sub/> SELECT (<s> AS ?s) WHERE {}", [{"s": "http://127.0.0.1:8000/sub/s"}]),
        ("PREFIX e: <e/> SELECT (e:x AS ?x) WHERE {}", [{"x": "http://127.0.0.1:8000/e/x"}]),
    ],
    ids=["select", "fragment", "construct", "own-base", "relative-base", "relative-prefix"],
)
def test_both_backends_resolve_against_the_base(kb: KnowledgeBase, sparql: str, expected: list) -> None:
    kb.replace_graphs({GRAPH: [ox.Triple(ox.NamedNode("http://127.0.0.1:8000/s"), LABEL, ox.Literal("relative"))]})
    assert answer(kb, sparql) == expected
