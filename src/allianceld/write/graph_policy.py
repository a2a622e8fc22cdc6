"""Which graphs may be written, by whom, and which triples belong only in the ontology: decided here,
for every write path, on graph IRIs and parsed triples.

A graph is of one :class:`Kind`, by its IRI (``vocab``'s graph bases):

- ``ontology``: the ontology graph; an admin writes it.
- ``derived``: the OWL 2 RL inferred graph and every domain rule's graph; computed by the reasoner,
  read-only for everyone.
- ``curated``: the data graphs (``…/graph/data/…``, the shipped files' graphs); an admin writes
  them, and each change by a token holder leaves a provenance record (:func:`change_record`).
- ``contribution``: a contribution's data; written only with its provenance record (``/contributions``).
- ``provenance``: the records; written only by the write gate, beside the write they describe.
- ``open``: the Graph Store's default graph and every other named graph; any contributor writes them.

Whatever the graph, a triple that says something about the ontology's terms (or those of a
vocabulary it reuses) is a schema triple (:func:`schema_reason`) and is accepted in the ontology
graph only: elsewhere it would change what the reasoners conclude from everyone's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pyoxigraph as ox

from allianceld.errors import AllianceldError, Forbidden
from allianceld.tokens import Principal
from allianceld.vocab import (
    ALD,
    CONTRIBUTION_GRAPH_BASE,
    ID_BASE,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    PREFIXES,
    PROV,
    PROVENANCE_GRAPH_BASE,
    Kind,
    agent_iri,
    is_contribution_graph,
    is_provenance_graph,
    kind_of,
)
from allianceld.write.provenance import timestamp

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True)
class Writer:
    """Who writes: a token's holder (``agent``, the token's name, and its role) or, with ``agent``
    None, this process itself run by its operator (the command line, the start-up load)."""

    role: str
    agent: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Writer:
        """The writer holding a token (``tokens.Principal``)."""
        return cls(principal.role, principal.name)

    def may(self, role: str) -> bool:
        """True when this writer has ``role`` (an admin has every role)."""
        return self.role == "admin" or self.role == role


LOCAL = Writer("admin")


def check_write(graph: str, writer: Writer, *, with_record: bool = False) -> Kind:
    """The kind of ``graph`` when ``writer`` may replace it; :class:`Forbidden` (403) otherwise.
    ``with_record``: the write brings the graph's provenance record (contributions do)."""
    kind = kind_of(graph)
    if kind is Kind.DERIVED:
        raise Forbidden(
            f"<{graph}> holds what the reasoner derives (OWL 2 RL or a domain rule); it is recomputed from the "
            "asserted data and read-only for everyone: change the data it is derived from instead"
        )
    if kind is Kind.SERVICE:
        raise Forbidden(
            f"<{graph}> is kept by the allianceld services that share the store (its write version); no one writes it"
        )
    if kind is Kind.PROVENANCE:
        raise Forbidden(
            f"<{graph}> is a provenance record; records are written only beside the write they describe "
            "(a contribution's by /contributions, a curated change's by the change itself)"
        )
    if kind is Kind.CONTRIBUTION and not with_record:
        raise Forbidden(
            f"<{graph}> is a contribution's graph; it changes only through /contributions "
            "(POST a new contribution; an admin retracts one with DELETE)"
        )
    if kind in (Kind.ONTOLOGY, Kind.CURATED) and not writer.may("admin"):
        what = "the ontology graph" if kind is Kind.ONTOLOGY else "a curated data graph"
        raise Forbidden(
            f"<{graph}> is {what}; changing it needs the admin role (contributors write /contributions, "
            "the default graph or a graph of their own)"
        )
    if not writer.may("contributor"):
        raise Forbidden("writing needs the contributor role")
    return kind


def check_writes(graphs: Iterable[str], writer: Writer, provenance: Mapping[str, object]) -> None:
    """:func:`check_write` for each graph of one write whose provenance records are ``provenance``."""
    for graph in provenance:
        if not is_provenance_graph(graph):
            raise ValueError(f"<{graph}> is not a provenance graph (they start with {PROVENANCE_GRAPH_BASE})")
    for graph in graphs:
        record = PROVENANCE_GRAPH_BASE + graph.removeprefix(CONTRIBUTION_GRAPH_BASE)
        check_write(graph, writer, with_record=is_contribution_graph(graph) and record in provenance)


# --- schema triples -------------------------------------------------------------------------------

#: predicates that state axioms: classes, properties and their relations (RDFS, OWL 2)
SCHEMA_PREDICATES = frozenset(RDFS + p for p in ("subClassOf", "subPropertyOf", "domain", "range")) | frozenset(
    OWL + p
    for p in (
        "equivalentClass equivalentProperty inverseOf propertyChainAxiom disjointWith propertyDisjointWith "
        "disjointUnionOf members imports hasKey onProperty onClass onDataRange onProperties someValuesFrom "
        "allValuesFrom hasValue hasSelf minCardinality maxCardinality cardinality minQualifiedCardinality "
        "maxQualifiedCardinality qualifiedCardinality unionOf intersectionOf complementOf oneOf "
        "datatypeComplementOf withRestrictions onDatatype"
    ).split()
)
#: classes of the RDF, RDFS and OWL vocabularies an individual may be typed with
ABOX_TYPES = frozenset({OWL + p for p in ("NamedIndividual", "Thing", "AllDifferent", "NegativePropertyAssertion")})
#: predicates that make two names one: between a vocabulary term and anything, they rewrite the term
IDENTITY_PREDICATES = frozenset({OWL + "sameAs"})
#: the vocabularies the ontology reuses, whatever its file says (it may be absent from the store)
BASE_NAMESPACES = frozenset(
    {str(ALD), RDF, RDFS, OWL, XSD, SH, *(PREFIXES[p] for p in ("org", "prov", "skos", "dcterms"))}
)
_META = (RDF, RDFS, OWL)
_TYPE = RDF + "type"


def namespace(iri: str) -> str:
    """The namespace of ``iri``: up to its last ``#`` or ``/``.

    >>> namespace("http://www.w3.org/ns/org#memberOf")
    'http://www.w3.org/ns/org#'
    """
    return iri[: max(iri.rfind("#"), iri.rfind("/")) + 1]


def vocabulary_namespaces(ontology: Iterable[ox.Triple]) -> frozenset[str]:
    """The namespaces of the terms the ``ontology`` triples describe or use as classes and properties
    (subjects, predicates, types and the objects of axioms), with :data:`BASE_NAMESPACES`. The
    namespace of instances (``vocab.ID_BASE`` and below) is never one. A tuple (as
    ``KnowledgeBase.ontology`` gives the stored ontology, the same at every write) is read once."""
    if isinstance(ontology, tuple):
        return _tuple_namespaces(ontology)
    return _namespaces(ontology)


@lru_cache(maxsize=4)
def _tuple_namespaces(ontology: tuple[ox.Triple, ...]) -> frozenset[str]:
    return _namespaces(ontology)


def _namespaces(ontology: Iterable[ox.Triple]) -> frozenset[str]:
    found = set(BASE_NAMESPACES)
    for t in ontology:
        terms = [t.subject, t.predicate]
        if t.predicate.value == _TYPE or t.predicate.value in SCHEMA_PREDICATES:
            terms.append(t.object)
        for term in terms:
            if isinstance(term, ox.NamedNode) and term.value != ONTOLOGY_IRI:
                found.add(namespace(term.value))
    return frozenset(ns for ns in found if ns and not ns.startswith(ID_BASE))


def _is_term(node: object, namespaces: frozenset[str], known: dict[object, bool] | None = None) -> bool:
    """Whether ``node`` is a term of the ontology or of a vocabulary in ``namespaces`` (``known``:
    the answers so far, for many triples about the same nodes)."""
    if known is not None:
        found = known.get(node)
        if found is None:
            found = known[node] = _is_term(node, namespaces)
        return found
    return isinstance(node, ox.NamedNode) and (node.value == ONTOLOGY_IRI or namespace(node.value) in namespaces)


def schema_reason(triple: ox.Triple, namespaces: frozenset[str], known: dict[object, bool] | None = None) -> str | None:
    """Why ``triple`` is a schema triple (one that belongs in the ontology graph only), or None for
    a statement about individuals. ``namespaces``: :func:`vocabulary_namespaces`; ``known``: which
    nodes are terms, as found for other triples (filled in)."""
    p = triple.predicate.value
    if p in SCHEMA_PREDICATES:
        return f"<{p}> states an axiom about classes or properties"
    if p == _TYPE and isinstance(triple.object, ox.NamedNode):
        o = triple.object.value
        if o.startswith(_META) and o not in ABOX_TYPES:
            return f"typing a node <{o}> declares a class, a property or an axiom"
    if _is_term(triple.subject, namespaces, known):
        return f"its subject <{triple.subject.value}> is a term of the ontology or of a vocabulary it reuses"
    if p in IDENTITY_PREDICATES and _is_term(triple.object, namespaces, known):
        return f"it makes <{triple.object.value}>, a term of the ontology or of a vocabulary it reuses, a synonym"
    return None


def schema_triples(
    triples: Iterable[ox.Triple], namespaces: frozenset[str], *, limit: int = 5
) -> list[tuple[ox.Triple, str]]:
    """Up to ``limit`` schema triples among ``triples``, each with :func:`schema_reason`."""
    found: list[tuple[ox.Triple, str]] = []
    known: dict[object, bool] = {}  # a write names each node many times (200k triples: 0.149 -> 0.094 s)
    for t in triples:
        why = schema_reason(t, namespaces, known)
        if why is not None:
            found.append((t, why))
            if len(found) >= limit:
                break
    return found


# --- provenance of curated changes ------------------------------------------------------------------

CHANGE_RECORD_BASE = PROVENANCE_GRAPH_BASE + "change/"
_XSD_INTEGER = ox.NamedNode(XSD + "integer")


def change_record(
    graph: str, writer: Writer, *, at: datetime, added: list[ox.Triple], removed: list[ox.Triple]
) -> tuple[str, list[ox.Triple]]:
    """The provenance graph IRI and triples recording that ``writer`` changed the curated ``graph`` at
    ``at``: an ``ald:CuratedChange`` activity associated with the writer's agent, naming the graph,
    the number of triples added and removed, and those triples as N-Triples text (text, so that
    they are not asserted again, nor read back by queries as facts)."""
    change_id = uuid.uuid4().hex
    bundle = ox.NamedNode(CHANGE_RECORD_BASE + change_id)
    activity = ox.NamedNode(ID_BASE + "change/" + change_id)
    agent = ox.NamedNode(agent_iri(writer.agent or "allianceld"))

    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    def text(triples: list[ox.Triple]) -> ox.Literal:
        ordered = sorted(triples, key=str)
        return ox.Literal((ox.serialize(ordered, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8"))

    triples = [
        ox.Triple(bundle, n(_TYPE), n(str(PROV.Bundle))),
        ox.Triple(bundle, n(RDFS + "label"), ox.Literal(f"Provenance of a change of <{graph}>")),
        ox.Triple(activity, n(_TYPE), n(str(PROV.Activity))),
        ox.Triple(activity, n(_TYPE), n(str(ALD.CuratedChange))),
        ox.Triple(activity, n(RDFS + "label"), ox.Literal(f"Change of <{graph}> by {writer.agent or 'allianceld'}")),
        ox.Triple(activity, n(str(PROV.wasAssociatedWith)), agent),
        ox.Triple(activity, n(str(PROV.endedAtTime)), timestamp(at)),
        ox.Triple(activity, n(str(ALD.changedGraph)), n(graph)),
        ox.Triple(activity, n(str(ALD.triplesAdded)), ox.Literal(str(len(added)), datatype=_XSD_INTEGER)),
        ox.Triple(activity, n(str(ALD.triplesRemoved)), ox.Literal(str(len(removed)), datatype=_XSD_INTEGER)),
        ox.Triple(agent, n(_TYPE), n(str(PROV.Agent))),
        ox.Triple(agent, n(RDFS + "label"), ox.Literal(writer.agent or "allianceld")),
    ]
    if added:
        triples.append(ox.Triple(activity, n(str(ALD.addedTriples)), text(added)))
    if removed:
        triples.append(ox.Triple(activity, n(str(ALD.removedTriples)), text(removed)))
    return bundle.value, triples


class SchemaOutsideOntology(AllianceldError):
    """The write puts schema triples (:func:`schema_reason`) into a graph other than the ontology
    graph; names them and why. Nothing was written."""

    status = 422
    kind = "schema-outside-ontology"


def check_no_schema(graph: str, triples: Iterable[ox.Triple], namespaces: frozenset[str]) -> None:
    """Refuse (422, naming the triples) schema triples bound for ``graph`` unless it is the ontology graph."""
    if kind_of(graph) is Kind.ONTOLOGY:
        return
    found = schema_triples(triples, namespaces)
    if found:
        listed = "; ".join(f"{t.subject} {t.predicate} {t.object} ({why})" for t, why in found)
        raise SchemaOutsideOntology(
            f"<{graph}> would hold triples that change the ontology's meaning, accepted in the ontology graph "
            f"<{ONTOLOGY_GRAPH}> only, by an admin: {listed}; nothing was written",
            graph=graph,
            triples=[{"triple": f"{t.subject} {t.predicate} {t.object} .", "reason": why} for t, why in found],
        )
