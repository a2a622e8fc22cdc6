"""Namespaces and the IRIs of the named graphs. Terms themselves live in ontology/allianceld.ttl."""

from enum import StrEnum
from urllib.parse import quote

from rdflib import Namespace

ALD = Namespace("https://w3id.org/allianceld/ontology#")
ALDS = Namespace("https://w3id.org/allianceld/shapes#")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")
VOID = Namespace("http://rdfs.org/ns/void#")

ONTOLOGY_IRI = "https://w3id.org/allianceld/ontology"
ID_BASE = "https://w3id.org/allianceld/id/"
GRAPH_BASE = "https://w3id.org/allianceld/graph/"
ONTOLOGY_GRAPH = GRAPH_BASE + "ontology"
INFERRED_GRAPH = GRAPH_BASE + "inferred"
# the triples each domain rule of ontology/rules/ derives: one graph per rule, under the inferred one
RULE_GRAPH_BASE = INFERRED_GRAPH + "/rule/"
# the IRIs of the domain rules (sh:SPARQLRule nodes) in ontology/rules/<name>.ttl: RULES_BASE + name
RULES_BASE = "https://w3id.org/allianceld/ontology/rules#"
# the Graph Store Protocol's default graph (/data?default): a named graph like the others, so
# queries see it in their union default graph
DEFAULT_GRAPH = GRAPH_BASE + "default"
DATA_GRAPH_BASE = GRAPH_BASE + "data/"
# graphs contributors name for themselves (POST /data without a graph makes one here); any other IRI
# that is not one of the service's own graphs is theirs too (Kind.OPEN)
USER_GRAPH_BASE = GRAPH_BASE + "user/"
# each contribution: its data in one graph, its PROV-O record in another (never validated, never reasoned over)
CONTRIBUTION_GRAPH_BASE = GRAPH_BASE + "contribution/"
PROVENANCE_GRAPH_BASE = GRAPH_BASE + "provenance/"
#: the records of the writes, one per idempotency key (``write.write_records``), added to by each write
WRITE_RECORDS_GRAPH = PROVENANCE_GRAPH_BASE + "writes"
#: a remote store's write version, kept by the allianceld services that share it: one graph per version
#: (``store.write_version``), never listed, exported, validated or reasoned over, and written by no user
WRITE_VERSION_GRAPH_BASE = GRAPH_BASE + "write-version/"
#: a remote store's write lease: the claims of the services about to write (``store.write_lease``), the services' own
WRITE_LEASE_GRAPH = GRAPH_BASE + "write-lease"

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


def contribution_graph_iri(contribution_id: str) -> str:
    """The named graph holding the data of contribution ``contribution_id``."""
    return CONTRIBUTION_GRAPH_BASE + contribution_id


def provenance_graph_iri(contribution_id: str) -> str:
    """The named graph holding the PROV-O record of contribution ``contribution_id``."""
    return PROVENANCE_GRAPH_BASE + contribution_id


def is_provenance_graph(iri: str) -> bool:
    """True for the graph of a contribution's provenance record."""
    return iri.startswith(PROVENANCE_GRAPH_BASE)


def is_contribution_graph(iri: str) -> bool:
    """True for the data graph of a contribution."""
    return iri.startswith(CONTRIBUTION_GRAPH_BASE)


def agent_iri(name: str) -> str:
    """The prov:Agent IRI of the holder of the token called ``name``.

    >>> agent_iri("Ada Lovelace")
    'https://w3id.org/allianceld/id/agent/Ada%20Lovelace'
    """
    return ID_BASE + "agent/" + quote(name, safe="")


def activity_iri(kind: str, contribution_id: str) -> str:
    """The prov:Activity that submitted (``kind="submission"``) or retracted a contribution."""
    return ID_BASE + f"{kind}/{contribution_id}"


def rule_graph_iri(name: str) -> str:
    """The named graph holding the triples derived by the domain rule called ``name``.

    >>> rule_graph_iri("allied-states")
    'https://w3id.org/allianceld/graph/inferred/rule/allied-states'
    """
    return RULE_GRAPH_BASE + name


def write_version_graph_iri(version: int) -> str:
    """The graph whose presence says that a remote store is at write version ``version``.

    >>> write_version_graph_iri(3)
    'https://w3id.org/allianceld/graph/write-version/3'
    """
    return WRITE_VERSION_GRAPH_BASE + str(version)


def is_inferred_graph(iri: str) -> bool:
    """True for the OWL 2 RL inferred graph and for the graph of every domain rule."""
    return iri == INFERRED_GRAPH or iri.startswith(RULE_GRAPH_BASE)


class Kind(StrEnum):
    """What a graph holds, which decides who may write it."""

    ONTOLOGY = "ontology"
    DERIVED = "derived"
    CURATED = "curated"
    CONTRIBUTION = "contribution"
    PROVENANCE = "provenance"
    SERVICE = "service"  # the services' own bookkeeping in a shared store (its write version and lease)
    OPEN = "open"


def kind_of(graph: str) -> Kind:
    """The kind of the graph called ``graph``.

    >>> kind_of("https://w3id.org/allianceld/graph/inferred/rule/allied-states").value
    'derived'
    >>> kind_of("https://w3id.org/allianceld/graph/data/nato").value
    'curated'
    >>> kind_of("https://w3id.org/allianceld/graph/write-version/3").value
    'service'
    >>> kind_of("https://w3id.org/allianceld/graph/write-lease").value
    'service'
    >>> kind_of("https://example.org/mine").value
    'open'
    """
    if graph.startswith(WRITE_VERSION_GRAPH_BASE) or graph == WRITE_LEASE_GRAPH:
        return Kind.SERVICE
    if graph == ONTOLOGY_GRAPH:
        return Kind.ONTOLOGY
    if is_inferred_graph(graph):
        return Kind.DERIVED
    if graph.startswith(DATA_GRAPH_BASE):
        return Kind.CURATED
    if is_contribution_graph(graph):
        return Kind.CONTRIBUTION
    if is_provenance_graph(graph):
        return Kind.PROVENANCE
    return Kind.OPEN
