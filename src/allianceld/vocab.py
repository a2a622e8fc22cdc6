"""Namespaces and the IRIs of the named graphs. Terms themselves live in ontology/allianceld.ttl."""

from rdflib import Namespace

ALD = Namespace("https://w3id.org/allianceld/ontology#")
ALDS = Namespace("https://w3id.org/allianceld/shapes#")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")

ONTOLOGY_IRI = "https://w3id.org/allianceld/ontology"
ID_BASE = "https://w3id.org/allianceld/id/"
GRAPH_BASE = "https://w3id.org/allianceld/graph/"
ONTOLOGY_GRAPH = GRAPH_BASE + "ontology"
INFERRED_GRAPH = GRAPH_BASE + "inferred"
# the Graph Store Protocol's default graph (/data?default): a named graph like the others, so
# queries see it in their union default graph
DEFAULT_GRAPH = GRAPH_BASE + "default"
DATA_GRAPH_BASE = GRAPH_BASE + "data/"

PREFIXES: dict[str, str] = {
    "ald": str(ALD),
    "org": str(ORG),
    "prov": str(PROV),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "wd": str(WD),
    "id": ID_BASE,
}


def data_graph_iri(name: str) -> str:
    """The named graph IRI for a shipped or loaded data file called ``name`` (no extension)."""
    return DATA_GRAPH_BASE + name
