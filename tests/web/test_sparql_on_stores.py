"""/sparql answers the same on the embedded store, on `oxigraph serve` and on Virtuoso (docs/operations.md,
"Virtuoso"): a query with a BASE of its own (Virtuoso takes one BASE only, before any PREFIX; allianceld
sends it one, the base in force after the query's prologue), and a CONSTRUCT or DESCRIBE (Virtuoso answers
one as a table of ?s ?p ?o to a client that accepts SPARQL results: allianceld asks for triples)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib.compare import isomorphic

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.web import create_app

E = "https://example.org/a/"
GRAPH = "https://w3id.org/allianceld/graph/user/sparql-on-stores"
NT = {"Accept": "application/n-triples"}
ROWS = {"Accept": "application/sparql-results+json"}


def _iri(local: str) -> ox.NamedNode:
    return ox.NamedNode(E + local)


BLANK = ox.BlankNode()
TRIPLES = [
    ox.Triple(_iri("s"), _iri("p"), ox.Literal("one")),
    ox.Triple(_iri("s"), _iri("p"), ox.NamedNode("https://example.org/b/t")),
    ox.Triple(_iri("s"), _iri("q"), ox.Literal("deux", language="fr")),
    ox.Triple(ox.NamedNode("https://example.org/b/t"), _iri("r"), BLANK),
    ox.Triple(BLANK, _iri("p"), ox.Literal("blank")),
]


@pytest.fixture
def client(kb: KnowledgeBase, settings: Settings) -> FlaskClient:
    """/sparql over ``kb`` (embedded, `oxigraph serve` or Virtuoso) holding :data:`TRIPLES`."""
    kb.replace_graphs({GRAPH: TRIPLES})
    return create_app({"SETTINGS": settings, "KB": kb, "TESTING": True}).test_client()


def rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    """The solutions of ``query`` sent to /sparql, each variable's value as text, in the answer's order."""
    got = client.post("/sparql", data={"query": query}, headers=ROWS)
    assert got.status_code == 200, got.data
    return [{k: v["value"] for k, v in row.items()} for row in got.get_json()["results"]["bindings"]]


def graph(client: FlaskClient, query: str, accept: str = "application/n-triples") -> rdflib.Graph:
    """The triples ``query`` sent to /sparql answers, in the media type ``accept``."""
    got = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
    assert got.status_code == 200, got.data
    assert got.mimetype == accept
    return rdflib.Graph().parse(data=got.data, format="nt" if accept == "application/n-triples" else "turtle")


def expected(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("BASE <https://example.org/a/> SELECT ?o WHERE { <s> <q> ?o }", [{"o": "deux"}]),
        (  # a second BASE resolves against the first
            "BASE <https://example.org/x/y> BASE <../a/> SELECT ?o WHERE { <s> <q> ?o }",
            [{"o": "deux"}],
        ),
        (  # a PREFIX resolves against the base in force where it is declared, the query against the last
            "BASE <https://example.org/> PREFIX a: <a/> BASE <b/> SELECT ?o WHERE { a:s a:p ?o FILTER(?o = <t>) }",
            [{"o": "https://example.org/b/t"}],
        ),
        (  # a PREFIX before the query's BASE, resolved against the request's URL
            "PREFIX h: <here/> BASE <https://example.org/a/> SELECT ?h ?o WHERE { <s> <q> ?o BIND(h:x AS ?h) }",
            [{"h": "http://127.0.0.1:8000/here/x", "o": "deux"}],
        ),
        (
            "base <sub/> SELECT (<x> AS ?x) WHERE {}",
            [{"x": "http://127.0.0.1:8000/sub/x"}],
        ),  # against the request's URL (the default public base)
        ("# the prologue\nBASE <https://example.org/a/> ASK { <s> <p> 'one' }", None),
    ],
    ids=["own-base", "two-bases", "prefix-between-bases", "prefix-before-base", "relative-base", "ask"],
)
def test_a_query_with_its_own_base_answers_the_same_on_every_store(
    client: FlaskClient, query: str, answer: list[dict[str, str]] | None
) -> None:
    if answer is None:
        got = client.post("/sparql", data={"query": query}, headers=ROWS)
        assert got.status_code == 200, got.data
        assert got.get_json()["boolean"] is True
        return
    assert rows(client, query) == answer


@pytest.mark.parametrize("accept", ["application/n-triples", "text/turtle"])
def test_a_construct_answers_the_same_triples_on_every_store(client: FlaskClient, accept: str) -> None:
    assert isomorphic(
        graph(client, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}", accept), expected(TRIPLES)
    )
    relative = "BASE <https://example.org/a/> CONSTRUCT { <s> <label> ?o } WHERE { <s> <q> ?o }"
    assert isomorphic(
        graph(client, relative, accept),
        expected([ox.Triple(_iri("s"), _iri("label"), ox.Literal("deux", language="fr"))]),
    )


def test_a_describe_answers_the_same_triples_on_every_store(client: FlaskClient) -> None:
    """A resource named only as a subject, with no blank node, is described alike by every store."""
    assert isomorphic(graph(client, f"DESCRIBE <{E}s>"), expected(TRIPLES[:3]))
    assert isomorphic(
        graph(client, "BASE <https://example.org/a/> DESCRIBE ?x WHERE { ?x <q> ?o }"), expected(TRIPLES[:3])
    )


def test_a_describe_of_a_resource_that_is_also_an_object_differs_by_store(request, client: FlaskClient) -> None:
    """As docs/operations.md says: Oxigraph follows the blank nodes of a description (its concise bounded
    description), Virtuoso adds the triples that name the resource as their object instead; both give the
    triples that have it as subject."""
    described = graph(client, "DESCRIBE <https://example.org/b/t>")
    if request.node.callspec.params["kb"] == "virtuoso":
        assert isomorphic(described, expected([TRIPLES[3], TRIPLES[1]]))
    else:
        assert isomorphic(described, expected(TRIPLES[3:]))
