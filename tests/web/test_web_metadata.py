"""SPARQL Service Description at /sparql and VoID at /.well-known/void, generated from the store."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


@pytest.mark.parametrize(("mime", "fmt"), [("text/turtle", "turtle"), ("application/ld+json", "json-ld")])
def test_service_description(client, shared_kb, mime: str, fmt: str) -> None:
    resp = client.get("/sparql", headers={"Accept": mime})
    assert resp.status_code == 200
    assert resp.mimetype == mime
    g = rdflib.Graph().parse(data=resp.data.decode(), format=fmt)
    service = g.value(predicate=RDF.type, object=SD.Service)
    assert service is not None
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.feature, SD.UnionDefaultGraph) in g
    names = {str(n) for n in g.objects(None, SD.name)}
    assert names == set(shared_kb.graphs())


def test_void_is_counted_from_the_store(client, shared_kb) -> None:
    resp = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200
    g = rdflib.Graph().parse(data=resp.data.decode(), format="turtle")
    ds = g.value(
        predicate=VOID.sparqlEndpoint,
        object=URIRef(client.application.config["SETTINGS"].public_url + "sparql"),
        any=False,
    )
    assert ds is not None
    asserted = sum(shared_kb.count(n) for n in shared_kb.asserted_graphs())
    assert g.value(ds, VOID.triples) == Literal(asserted)
    subsets = {str(s) for s in g.objects(ds, VOID.subset)}
    assert set(shared_kb.graphs()) <= subsets
    linkset = URIRef(client.application.config["SETTINGS"].public_url + ".well-known/void#wikidata-links")
    assert (linkset, RDF.type, VOID.Linkset) in g
    states = shared_kb.select("SELECT (COUNT(*) AS ?n) WHERE { ?s a ald:State }", inference=False)
    assert int(g.value(linkset, VOID.triples)) > int(states[0]["n"])  # every state, and most alliances
    partitions = {
        str(g.value(p, VOID["class"])): int(g.value(p, VOID.entities)) for p in g.objects(ds, VOID.classPartition)
    }
    assert partitions["https://w3id.org/allianceld/ontology#State"] == int(states[0]["n"])


def test_void_refuses_unacceptable_types(client) -> None:
    assert client.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406
