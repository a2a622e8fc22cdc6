"""Descriptions of the dataset counted from the store: the SPARQL Service Description of the
query endpoint and the VoID description with its owl:sameAs linksets."""

from __future__ import annotations

import rdflib
from rdflib import RDF, XSD, BNode, Literal, URIRef

from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
WIKIDATA = "http://www.wikidata.org/entity/"
# the owl:sameAs linksets: name (the fragment of the linkset's IRI), the entities' namespace, their dataset
LINKSETS = (
    ("wikidata", WIKIDATA, "http://www.wikidata.org/"),
    ("dbpedia", "http://dbpedia.org/resource/", "http://dbpedia.org/"),
    ("geonames", "https://sws.geonames.org/", "https://www.geonames.org/"),
)


def service_description(kb: KnowledgeBase, endpoint: str) -> rdflib.Graph:
    """The SPARQL 1.1 Service Description of the /sparql endpoint and its default dataset."""
    g = rdflib.Graph()
    g.bind("sd", SD)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Update))  # at the same URL, with a bearer token
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    ):
        g.add((service, SD.resultFormat, FORMATS[fmt]))
    dataset, default = BNode(), BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(kb.count(), datatype=XSD.integer)))
    for name in kb.graphs():
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(kb.count(name), datatype=XSD.integer)))
    return g


def void_description(kb: KnowledgeBase, base: str) -> rdflib.Graph:
    """A VoID description of the dataset, counted from the store (asserted graphs; the inferred
    graph is a subset of its own), with a linkset for the owl:sameAs links to each of Wikidata,
    DBpedia and GeoNames."""
    g = rdflib.Graph()
    g.bind("void", VOID)
    ds = URIRef(base + ".well-known/void#dataset")
    asserted = kb.asserted_graphs()

    def one(query: str) -> int:
        rows = kb.select(query, default_graph_uris=asserted) if asserted else [{"n": "0"}]
        return int(rows[0]["n"])

    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    g.add((ds, VOID.dataDump, URIRef(base + "dump")))  # GET /dump: the whole dataset
    g.add((ds, VOID.uriSpace, Literal("https://w3id.org/allianceld/id/")))
    g.add((ds, VOID.vocabulary, URIRef("https://w3id.org/allianceld/ontology#")))
    g.add((ds, VOID.triples, Literal(one("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), datatype=XSD.integer)))
    g.add(
        (
            ds,
            VOID.distinctSubjects,
            Literal(one("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"), datatype=XSD.integer),
        )
    )
    g.add(
        (
            ds,
            VOID.properties,
            Literal(one("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }"), datatype=XSD.integer),
        )
    )
    g.add((ds, VOID.classes, Literal(one("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"), datatype=XSD.integer)))
    classes = (
        kb.select(
            "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c",
            default_graph_uris=asserted,
        )
        if asserted
        else []
    )
    for row in classes:
        part = BNode()
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(row["c"])))
        g.add((part, VOID.entities, Literal(int(row["n"]), datatype=XSD.integer)))
    for name in kb.graphs():
        subset = URIRef(name)
        g.add((ds, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, VOID.triples, Literal(kb.count(name), datatype=XSD.integer)))
        if name == INFERRED_GRAPH:
            g.add((subset, rdflib.RDFS.comment, Literal("OWL 2 RL inferences over the other graphs", lang="en")))
    for name, space, target in LINKSETS:  # constants, never user text
        links = one(f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s owl:sameAs ?o FILTER(STRSTARTS(STR(?o), "{space}")) }}')
        linkset = URIRef(base + f".well-known/void#{name}-links")
        g.add((ds, VOID.subset, linkset))
        g.add((linkset, RDF.type, VOID.Linkset))
        g.add((linkset, VOID.linkPredicate, rdflib.OWL.sameAs))
        g.add((linkset, VOID.subjectsTarget, ds))
        g.add((linkset, VOID.objectsTarget, URIRef(target)))
        g.add((linkset, VOID.triples, Literal(links, datatype=XSD.integer)))
    return g
