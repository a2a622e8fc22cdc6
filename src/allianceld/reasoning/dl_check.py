"""OWL 2 DL checks that stay fast: a per-write consistency check over a small module of the data,
explanations a curator can act on, and the classification of the ontology, all with HermiT.

HermiT over the whole store grows with the data, so a write is checked on :func:`module`: the
ontology, the triples the write adds, and the data around the individuals they name (their own
triples, what types or equates them, the same for their direct neighbours). Its size follows the
write and the records it touches, not the store; starting a JVM and loading HermiT would be most of
the time, so the check runs in a JVM kept warm across writes.

HermiT runs through :mod:`allianceld.reasoning.hermit` with one action, ``-k`` (consistency) or
``-c`` (classification), on N-Triples written by pyoxigraph; the per-write check asks the warm
:class:`hermit.Worker` its caller owns (the write policy's: one JVM kept across writes), the rare classification starts
HermiT's command line.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import OWL, RDF, RDFS, XSD, BNode, Literal, URIRef

from allianceld.rdf import formats
from allianceld.reasoning import hermit, materialise
from allianceld.reasoning.hermit import NO_JAVA, java_missing
from allianceld.store import KnowledgeBase
from allianceld.vocab import ID_BASE, INFERRED_GRAPH, ONTOLOGY_GRAPH, ONTOLOGY_IRI, PREFIXES

Node = ox.NamedNode | ox.BlankNode
Triple = tuple[Any, Any, Any]

THE_WRITE = "the write"  # where a triple of the module comes from, besides a stored graph's IRI
_SCHEMA_NS = (str(OWL), str(RDF), str(RDFS), str(XSD))
_SAME_AS = ox.NamedNode(str(OWL.sameAs))
_TYPE = ox.NamedNode(str(RDF.type))
# predicates whose subject and object are classes, properties or list cells, not individuals
_SCHEMA_PREDICATES = {str(RDFS.subClassOf), str(RDFS.subPropertyOf), str(RDFS.domain), str(RDFS.range)}
_SCHEMA_PREDICATES |= {str(RDF.first), str(RDF.rest)}
_INDIVIDUAL_PREDICATES = {str(OWL.sameAs), str(OWL.differentFrom)}  # owl: predicates between individuals
_INDIVIDUAL_TYPES = {str(OWL.NamedIndividual), str(OWL.Thing), str(OWL.Nothing)}


# -- HermiT -----------------------------------------------------------------------------------


def _hermit(source: rdflib.Graph | bytes, action: list[str], *, memory_mb: int = 1000) -> hermit.Run:
    """Run HermiT with ``action`` (``["-k"]``, ``["-c"]``) on a graph (mapped by
    :func:`materialise.dl_graph`) or on N-Triples ready for it (:func:`hermit.run`)."""
    if isinstance(source, rdflib.Graph):
        source = materialise.dl_graph(source).serialize(format="nt", encoding="utf-8")
    return hermit.run(source, action, memory_mb=memory_mb)


# -- the terms of the ontology -----------------------------------------------------------------


def short(term: Any) -> str:
    """A term as a curator reads it: a prefixed name for vocabulary terms, <IRI> otherwise."""
    if isinstance(term, ox.Literal):
        term = formats.rdflib_term(term)
    if isinstance(term, Literal):
        quoted = Literal(str(term)).n3()
        if term.language:
            return f"{quoted}@{term.language}"
        return f"{quoted}^^{short(term.datatype)}" if term.datatype else quoted
    text = str(term)
    if isinstance(term, BNode | ox.BlankNode):
        return f"_:{text.removeprefix('_:')}"
    for prefix, ns in PREFIXES.items():
        if prefix != "id" and text.startswith(ns) and re.fullmatch(r"[A-Za-z_][\w.-]*", text[len(ns) :]):
            return f"{prefix}:{text[len(ns) :]}"
    return f"<{text}>"


@dataclass
class Axioms:
    """What the ontology says about individuals, read once per check: the named superclasses of
    each class, disjointness, domains and ranges (through sub-properties and inverses), functional
    and inverse-functional properties. Each derived fact carries the axioms it rests on, as text."""

    supers: dict[URIRef, dict[URIRef, tuple[str, ...]]] = field(default_factory=dict)
    disjoint: dict[frozenset[URIRef], str] = field(default_factory=dict)
    domains: dict[URIRef, list[tuple[URIRef, tuple[str, ...]]]] = field(default_factory=dict)
    ranges: dict[URIRef, list[tuple[URIRef, tuple[str, ...]]]] = field(default_factory=dict)
    datatypes: dict[URIRef, list[tuple[URIRef, tuple[str, ...]]]] = field(default_factory=dict)
    functional: dict[URIRef, str] = field(default_factory=dict)  # at most one value per subject
    inverse_functional: dict[URIRef, str] = field(default_factory=dict)  # at most one subject per value
    object_properties: set[URIRef] = field(default_factory=set)
    datatype_properties: set[URIRef] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)  # every IRI the ontology describes
    annotation_properties: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, onto: rdflib.Graph) -> Axioms:
        ax = cls()
        ax.terms = {str(s) for s in onto.subjects() if isinstance(s, URIRef)}
        ax.annotation_properties = {str(p) for p in onto.subjects(RDF.type, OWL.AnnotationProperty)}
        ax.object_properties = set(onto.subjects(RDF.type, OWL.ObjectProperty))
        ax.datatype_properties = set(onto.subjects(RDF.type, OWL.DatatypeProperty))
        classes = {c for c in onto.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
        parents: dict[URIRef, list[tuple[URIRef, str]]] = {}
        for c, d in onto.subject_objects(RDFS.subClassOf):
            if isinstance(c, URIRef) and isinstance(d, URIRef):
                parents.setdefault(c, []).append((d, f"{short(c)} rdfs:subClassOf {short(d)}"))
        for c, e in onto.subject_objects(OWL.equivalentClass):
            if isinstance(c, URIRef) and isinstance(e, URIRef):
                parents.setdefault(c, []).append((e, f"{short(c)} owl:equivalentClass {short(e)}"))
                parents.setdefault(e, []).append((c, f"{short(c)} owl:equivalentClass {short(e)}"))
            elif isinstance(c, URIRef):  # C ≡ (A and B and ...): C is under each named conjunct
                for head in onto.objects(e, OWL.intersectionOf):
                    for part in rdflib.collection.Collection(onto, head):
                        if isinstance(part, URIRef):
                            why = f"{short(c)} owl:equivalentClass [ owl:intersectionOf ( {short(part)} … ) ]"
                            parents.setdefault(c, []).append((part, why))
        for c in classes | set(parents):
            ax.supers[c] = _ancestors(c, parents)
        for a, b in onto.subject_objects(OWL.disjointWith):
            ax.disjoint.setdefault(frozenset((a, b)), f"{short(a)} owl:disjointWith {short(b)}")
        for group in onto.subjects(RDF.type, OWL.AllDisjointClasses):
            for head in onto.objects(group, OWL.members):
                members = [m for m in rdflib.collection.Collection(onto, head) if isinstance(m, URIRef)]
                text = f"[] a owl:AllDisjointClasses ; owl:members ( {' '.join(short(m) for m in members)} )"
                for i, a in enumerate(members):
                    for b in members[i + 1 :]:
                        ax.disjoint.setdefault(frozenset((a, b)), text)
        ax._properties(onto)
        return ax

    def _properties(self, onto: rdflib.Graph) -> None:
        inverses: dict[URIRef, list[tuple[URIRef, str]]] = {}
        for p, q in onto.subject_objects(OWL.inverseOf):
            text = f"{short(p)} owl:inverseOf {short(q)}"
            inverses.setdefault(p, []).append((q, text))
            inverses.setdefault(q, []).append((p, text))
        for p in onto.subjects(RDF.type, OWL.SymmetricProperty):
            inverses.setdefault(p, []).append((p, f"{short(p)} a owl:SymmetricProperty"))
        declared = set(onto.subjects(RDFS.domain)) | set(onto.subjects(RDFS.range))
        declared |= set(onto.subjects(RDFS.subPropertyOf)) | set(inverses)
        declared |= self.object_properties | self.datatype_properties
        for p in declared:
            for q, why in _super_properties(onto, p):
                for d in onto.objects(q, RDFS.domain):
                    self.domains.setdefault(p, []).append((d, (*why, f"{short(q)} rdfs:domain {short(d)}")))
                for r in onto.objects(q, RDFS.range):
                    target = self.datatypes if _is_datatype(r, onto) else self.ranges
                    target.setdefault(p, []).append((r, (*why, f"{short(q)} rdfs:range {short(r)}")))
            for inv, inv_why in inverses.get(p, []):  # (x p y) is (y inv x)
                for q, why in _super_properties(onto, inv):
                    for d in onto.objects(q, RDFS.domain):
                        self.ranges.setdefault(p, []).append((d, (inv_why, *why, f"{short(q)} rdfs:domain {short(d)}")))
                    for r in onto.objects(q, RDFS.range):
                        if not _is_datatype(r, onto):
                            axioms = (inv_why, *why, f"{short(q)} rdfs:range {short(r)}")
                            self.domains.setdefault(p, []).append((r, axioms))
        for p in onto.subjects(RDF.type, OWL.FunctionalProperty):
            self.functional[p] = f"{short(p)} a owl:FunctionalProperty"
            for inv, why in inverses.get(p, []):
                self.inverse_functional.setdefault(inv, f"{short(p)} a owl:FunctionalProperty ; {why}")
        for p in onto.subjects(RDF.type, OWL.InverseFunctionalProperty):
            self.inverse_functional[p] = f"{short(p)} a owl:InverseFunctionalProperty"
            for inv, why in inverses.get(p, []):
                self.functional.setdefault(inv, f"{short(p)} a owl:InverseFunctionalProperty ; {why}")

    def classes_of(self, c: Any) -> dict[URIRef, tuple[str, ...]]:
        """``c`` and its named superclasses, each with the subclass axioms that lead to it."""
        return self.supers.get(c, {c: ()}) if isinstance(c, URIRef) else {}

    def typing_properties(self) -> set[URIRef]:
        """Properties whose objects the ontology types (a range, or the domain of an inverse)."""
        return set(self.ranges)


def _ancestors(c: URIRef, parents: dict[URIRef, list[tuple[URIRef, str]]]) -> dict[URIRef, tuple[str, ...]]:
    found: dict[URIRef, tuple[str, ...]] = {c: ()}
    todo = [c]
    while todo:
        here = todo.pop(0)
        for parent, why in parents.get(here, []):
            if parent not in found:
                found[parent] = (*found[here], why)
                todo.append(parent)
    return found


def _super_properties(onto: rdflib.Graph, p: Any) -> list[tuple[Any, tuple[str, ...]]]:
    found: dict[Any, tuple[str, ...]] = {p: ()}
    todo = [p]
    while todo:
        here = todo.pop(0)
        for q in onto.objects(here, RDFS.subPropertyOf):
            if q not in found:
                found[q] = (*found[here], f"{short(here)} rdfs:subPropertyOf {short(q)}")
                todo.append(q)
    return list(found.items())


def _is_datatype(r: Any, onto: rdflib.Graph) -> bool:
    return str(r).startswith(str(XSD)) or r == RDFS.Literal or (r, RDF.type, RDFS.Datatype) in onto


# -- the module of a write ---------------------------------------------------------------------


def _is_individual_term(term: Any) -> bool:
    """A node that may name an individual: not a literal, not an OWL/RDF/RDFS/XSD term, not a term
    of the allianceld ontology (its own individuals are described, fully, by the ontology)."""
    if isinstance(term, ox.BlankNode):
        return True
    if not isinstance(term, ox.NamedNode):
        return False
    return not term.value.startswith(_SCHEMA_NS) and not term.value.startswith(ONTOLOGY_IRI)


def _external_identity(t: ox.Triple) -> bool:
    """An owl:sameAs link to an IRI outside allianceld's (a Wikidata entity): kept out of
    reasoning, as :func:`reasoning.without_identity_links` does for OWL 2 RL."""
    if t.predicate != _SAME_AS:
        return False
    return not all(isinstance(n, ox.NamedNode) and n.value.startswith(ID_BASE) for n in (t.subject, t.object))


def touched_individuals(triples: Iterable[ox.Triple], ontology: rdflib.Graph | Axioms | None = None) -> set[Node]:
    """The individuals a write touches: the subjects and resource objects of its triples, except
    classes, properties, list cells and terms of the ontology (``ontology``, when given, also
    excludes every IRI it describes and the objects of its annotation properties; its
    :class:`Axioms` say the same, read once)."""
    triples = [t for t in triples if not _external_identity(t)]
    schema: set[Any] = set()
    type_iri, owl = str(RDF.type), str(OWL)
    for t in triples:
        p = t.predicate.value
        if p == type_iri:
            schema.add(t.object)
            if t.object.value.startswith(_SCHEMA_NS) and t.object.value not in _INDIVIDUAL_TYPES:
                schema.add(t.subject)  # a class, a property, a restriction, an ontology header
        elif p in _SCHEMA_PREDICATES or (p.startswith(owl) and p not in _INDIVIDUAL_PREDICATES):
            schema.update((t.subject, t.object))
    described: set[str] = set()
    annotations: set[str] = set()
    if isinstance(ontology, Axioms):
        described, annotations = ontology.terms, ontology.annotation_properties
    elif ontology is not None:
        described = {str(s) for s in ontology.subjects() if isinstance(s, URIRef)}
        annotations = {str(p) for p in ontology.subjects(RDF.type, OWL.AnnotationProperty)}
    found: set[Node] = set()
    for t in triples:
        p = t.predicate.value
        ends = (t.subject,) if p in annotations or p == type_iri else (t.subject, t.object)
        for n in ends:
            if (
                _is_individual_term(n)
                and n not in schema
                and not (isinstance(n, ox.NamedNode) and n.value in described)
            ):
                found.add(n)
    return found


@dataclass
class Module:
    """A module: the ontology and the data triples, each with where it comes from
    (:data:`THE_WRITE`, a stored graph's IRI, or the inferred graph), with the touched individuals
    and their neighbours. HermiT reads it as N-Triples; the rdflib views are made on demand."""

    data: dict[ox.Triple, str]
    touched: set[Node]
    neighbours: set[Node]
    ontology: rdflib.Graph
    axioms: Axioms
    ontology_ntriples: bytes | None = None  # the ontology as HermiT reads it, when already written

    @cached_property
    def origin(self) -> dict[Triple, str]:
        """The data triples as rdflib terms, with where each comes from."""
        return {
            (formats.rdflib_term(t.subject), formats.rdflib_term(t.predicate), formats.rdflib_term(t.object)): where
            for t, where in self.data.items()
        }

    @cached_property
    def graph(self) -> rdflib.Graph:
        """The ontology and the data in one rdflib graph."""
        graph = rdflib.Graph()
        graph += self.ontology
        for t in self.origin:
            graph.add(t)
        return graph

    def ntriples(self) -> bytes:
        """The module as HermiT reads it (:func:`reasoning.dl_graph`'s datatype mapping), written
        by pyoxigraph: a bulk write makes modules of many thousand triples."""
        onto = self.ontology_ntriples
        if onto is None:
            onto = materialise.dl_graph(self.ontology).serialize(format="nt", encoding="utf-8")
        data = ox.serialize([_dl_triple(t) for t in self.data], format=ox.RdfFormat.N_TRIPLES) or b""
        return onto + b"\n" + data


_XSD_DATE, _XSD_STAMP = ox.NamedNode(str(XSD.date)), ox.NamedNode(str(XSD.dateTimeStamp))


def _dl_triple(t: ox.Triple) -> ox.Triple:
    """:func:`reasoning.dl_graph` for one pyoxigraph triple: xsd:date values as xsd:dateTimeStamp
    at midnight UTC (outside the OWL 2 datatype map; order and equality kept)."""
    o = t.object
    if o == _XSD_DATE:
        return ox.Triple(t.subject, t.predicate, _XSD_STAMP)
    if isinstance(o, ox.Literal) and o.datatype == _XSD_DATE:
        return ox.Triple(t.subject, t.predicate, ox.Literal(f"{o.value}T00:00:00Z", datatype=_XSD_STAMP))
    return t


Written = Iterable[ox.Triple] | Mapping[str, Iterable[ox.Triple]]


def _written(written: Written) -> list[ox.Triple]:
    if isinstance(written, Mapping):
        return [t for triples in written.values() for t in triples]
    return list(written)


def _ontology_graph(
    kb: KnowledgeBase, ontology: rdflib.Graph | Iterable[ox.Triple] | None, written: Written = ()
) -> rdflib.Graph:
    """The ontology after the write: ``ontology`` when given, else the written ontology graph
    (``written`` given by graph), else the store's."""
    return _ontology(kb, ontology, written).graph


@dataclass(frozen=True)
class _Ontology:
    """The ontology as the per-write check reads it: as rdflib terms (never modified: it may be
    shared), its axioms, and its N-Triples as HermiT reads them (None: not written yet)."""

    graph: rdflib.Graph
    axioms: Axioms
    ntriples: bytes | None = None


def _ontology(
    kb: KnowledgeBase, ontology: rdflib.Graph | Iterable[ox.Triple] | _Ontology | None, written: Written
) -> _Ontology:
    """:func:`_ontology_graph` with its axioms; read and mapped once per content (every write reads
    the same ontology, and reading it into rdflib took most of a check's own time)."""
    if isinstance(ontology, _Ontology):
        return ontology
    if ontology is None and isinstance(written, Mapping) and ONTOLOGY_GRAPH in written:
        ontology = list(written[ONTOLOGY_GRAPH])
    if ontology is None:  # the store's, kept between writes (the same tuple while it is unchanged)
        return _stored_ontology(kb.ontology() if ONTOLOGY_GRAPH in kb.graphs() else ())
    if isinstance(ontology, rdflib.Graph):
        return _Ontology(ontology, Axioms.of(ontology))
    return _read_ontology(ox.serialize(ontology, format=ox.RdfFormat.N_TRIPLES) or b"")


@lru_cache(maxsize=4)
def _stored_ontology(triples: tuple[ox.Triple, ...]) -> _Ontology:
    return _read_ontology(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")


@lru_cache(maxsize=4)
def _read_ontology(text: bytes) -> _Ontology:
    """The ontology whose N-Triples (as pyoxigraph writes them) are ``text``: its content is the key."""
    graph = formats.to_rdflib(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))
    return _Ontology(graph, Axioms.of(graph), materialise.dl_graph(graph).serialize(format="nt", encoding="utf-8"))


class _View:
    """The data as it would be after the write: the store's kept graphs plus the written triples,
    read around given nodes; each triple comes with where it is (:data:`THE_WRITE` or its graph)."""

    def __init__(self, kb: KnowledgeBase, kept: list[str], written: list[ox.Triple]) -> None:
        self.kb, self.kept = kb, kept
        self.out: dict[Any, list[ox.Triple]] = {}
        self.into: dict[Any, list[ox.Triple]] = {}
        for t in written:
            self.out.setdefault(t.subject, []).append(t)
            self.into.setdefault(t.object, []).append(t)
        self._stored_as: dict[bool, dict[Any, bool]] = {False: {}, True: {}}  # incoming? -> node -> in a kept graph

    def _stored(self, nodes: list[Node], *, incoming: bool) -> list[Node]:
        """Those of ``nodes`` that a kept graph holds a triple about (as its object when
        ``incoming``): one look-up per node, remembered, so that a large write's new individuals
        (most of an import's) are not looked up again for each predicate. ATOP's module: 34.5k
        look-ups -> 19.8k, 0.44 -> 0.36 s of CPU."""
        known = self._stored_as[incoming]
        ask = [n for n in nodes if n not in known]
        if ask:
            found = self.kb.match(ask, None, incoming=incoming, graphs=self.kept, limit=1)
            there = {q.object if incoming else q.subject for q in found}
            known.update((n, n in there) for n in ask)
        return [n for n in nodes if known[n]]

    def around(
        self, nodes: list[Node], predicates: list[ox.NamedNode] | None = None, *, incoming: bool = False
    ) -> Iterator[tuple[ox.Triple, str]]:
        """Every triple with one of ``nodes`` as subject (object when ``incoming``), and one of
        ``predicates`` when given."""
        index, preds = (self.into if incoming else self.out), set(predicates or ())
        for node in nodes:
            for t in index.get(node, []):
                if predicates is None or t.predicate in preds:
                    yield t, THE_WRITE
        for q in self.kb.match(self._stored(nodes, incoming=incoming), predicates, incoming=incoming, graphs=self.kept):
            yield q.triple, q.graph_name.value

    def one_incoming(self, nodes: list[Node], predicates: list[ox.NamedNode]) -> Iterator[tuple[ox.Triple, str]]:
        """One triple per node and predicate with the node as object, from the write and from the
        store: a range types its object the same whichever subject the triple has, so one is
        enough (a hub such as a region or a source has thousands)."""
        if not nodes or not predicates:
            return
        preds = set(predicates)
        for node in nodes:
            seen: set[Any] = set()
            for t in self.into.get(node, []):
                if t.predicate in preds and t.predicate not in seen:
                    seen.add(t.predicate)
                    yield t, THE_WRITE
        for q in self.kb.match(
            self._stored(nodes, incoming=True), predicates, incoming=True, graphs=self.kept, limit=1
        ):
            yield q.triple, q.graph_name.value


def gather(
    kb: KnowledgeBase,
    ontology: rdflib.Graph | Iterable[ox.Triple] | _Ontology | None,
    written: Written,
    replacing: Iterable[str],
    *,
    touched: set[Node] | None = None,
) -> Module:
    """:func:`module`, with the origin of each data triple (``touched`` restricts the module to
    some of the touched individuals, for explanations)."""
    read = _ontology(kb, ontology, written)
    onto, axioms = read.graph, read.axioms
    triples = [t for t in _written(written) if not _external_identity(t)]
    replaced = set(replacing)
    graphs = kb.graphs()
    kept = [g for g in kb.knowledge_graphs() if g not in replaced]
    stored = [g for g in graphs if g in replaced]
    old = {q.triple for q in kb.quads(stored)} if stored else set()
    added = [t for t in triples if t not in old]  # what was already there was consistent
    if touched is None:
        touched = touched_individuals(added, axioms)
    else:
        added = [t for t in added if t.subject in touched or t.object in touched]
    view = _View(kb, kept, triples)
    origin: dict[ox.Triple, str] = dict.fromkeys(added, THE_WRITE)

    def add(found: Iterable[tuple[ox.Triple, str]]) -> Iterator[ox.Triple]:
        for t, where in found:
            if not _external_identity(t):
                origin.setdefault(t, where)
                yield t

    typing_iris = {str(p) for p in axioms.typing_properties()} - {str(p) for p in axioms.inverse_functional}
    typing = [ox.NamedNode(p) for p in sorted(typing_iris)]
    equalising = [ox.NamedNode(str(p)) for p in sorted(axioms.inverse_functional)] + [_SAME_AS]
    nodes = sorted(touched, key=str)
    near: set[Any] = {n for t in added for n in (t.subject, t.object)}
    near.update(t.object for t in add(view.around(nodes)))  # all of their own triples
    near.update(t.subject for t in add(view.around(nodes, equalising, incoming=True)))  # every one they equate
    near.update(t.subject for t in add(view.one_incoming(nodes, typing)))  # what types them as objects
    neighbours = {
        n
        for n in near
        if _is_individual_term(n) and n not in touched and not (isinstance(n, ox.NamedNode) and n.value in axioms.terms)
    }
    around = sorted(neighbours, key=str)
    list(add(view.around(around)))  # their own triples: types, domains, functional values
    list(add(view.one_incoming(around, typing)))  # their ranges
    if INFERRED_GRAPH in graphs and old <= set(triples):
        # nothing is removed: the inferred graph is still the closure of the kept data and the
        # written triples that were there before; its types bring equalities from further away
        for q in kb.match(nodes + around, [_TYPE], graphs=[INFERRED_GRAPH]):
            origin.setdefault(q.triple, INFERRED_GRAPH)
    return Module(origin, set(touched), neighbours, onto, axioms, read.ntriples)


def module(
    kb: KnowledgeBase,
    ontology: rdflib.Graph | Iterable[ox.Triple] | None,
    written: Written,
    replacing: Iterable[str],
) -> rdflib.Graph:
    """The part of the knowledge base after a write that HermiT needs to tell whether the write
    makes it inconsistent, assuming it was consistent before.

    The data after the write is the store's kept graphs (every knowledge graph except
    ``replacing``) plus ``written`` (the new content of ``replacing``). The triples the write adds
    are those of ``written`` not already in ``replacing`` (removing triples never makes OWL data
    inconsistent, and what was there before was consistent); the individuals they name are the
    touched ones (:func:`touched_individuals`). The module holds the ontology, the added triples,
    and from the data after the write:

    1. every triple whose subject is a touched individual;
    2. every triple that equates another individual with a touched one (an inverse-functional
       property, or the inverse of a functional one, pointing at it; owl:sameAs), and one triple
       per property that types a touched individual as its object (a range);
    3. for the direct neighbours reached by 1., 2. and the added triples, the same: their own
       triples (their asserted types, the domains of their properties, their functional values)
       and one typing triple per property pointing at them (their ranges);
    4. when the write removes nothing, the inferred graph's types of all of these (the OWL 2 RL
       closure of the data before, with the types that equalities further away bring).

    owl:sameAs links to IRIs outside allianceld's are left out, as for OWL 2 RL.

    Why this is enough for this ontology: its axioms about individuals are subclass and
    disjointness axioms, domains and ranges (with sub-properties and inverses), functional and
    inverse-functional properties, datatype ranges, a property chain and the definition of
    ald:CollectiveDefenceAlliance. An added triple can make the data inconsistent only through an
    individual whose types or values it changes: a touched one, or one it equates with a touched
    one. Every source of an individual's types and values is one step from it (its own triples, the
    ranges of triples pointing at it, the individuals a functional or inverse-functional property
    or owl:sameAs equates with it), so 1. and 2. hold them for the touched individuals; the
    neighbours a written triple types or equates are covered the same way by 3. The two axioms
    that reach further cannot clash: the chain org:hasMembership ∘ org:organization ⊑ org:memberOf
    only derives foaf:Agent and org:Organization, disjoint with nothing, and
    ald:CollectiveDefenceAlliance (two steps: founding treaty, defence provision) is under
    ald:Alliance, which ald:foundingTreaty already entails one step away, while its existential is
    met by the (functional) founding treaty unless that cannot be a treaty, again one step.

    Not covered: chains of equalities beyond the neighbours (an equated neighbour's functional
    values equating third individuals in turn; 4. covers those already in the stored data), and a
    write that replaces the ontology (only the touched individuals are checked against the new one).
    """
    return gather(kb, ontology, written, replacing).graph


# -- explanations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clash:
    """One reason the data is inconsistent: the individual(s), the ontology axioms that clash and
    the data triples (with where each is: :data:`THE_WRITE` or a stored graph) that bring it."""

    kind: str  # disjoint-classes | functional-property | datatype | different-individuals
    individuals: tuple[str, ...]
    axioms: tuple[str, ...]
    triples: tuple[tuple[str, str, str, str], ...]  # (subject, predicate, object, where), N-Triples terms
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "individuals": list(self.individuals),
            "axioms": list(self.axioms),
            "triples": [{"subject": s, "predicate": p, "object": o, "in": g} for s, p, o, g in self.triples],
            "text": self.text,
        }


@dataclass(frozen=True)
class Explanation:
    """Why HermiT found a write inconsistent, for the curator: the clashes found by looking up the
    module's individuals against the ontology's axioms; when none is found (a clash only full DL
    reasoning sees), the individuals HermiT's own runs narrowed it to, in ``narrowed``."""

    clashes: tuple[Clash, ...]
    narrowed: tuple[str, ...] = ()
    hermit_runs: int = 0  # HermiT runs after the first, to narrow
    triples: tuple[tuple[str, str, str, str], ...] = ()  # the written triples about ``narrowed``

    @property
    def individuals(self) -> list[str]:
        seen = [i for c in self.clashes for i in c.individuals] + list(self.narrowed)
        return list(dict.fromkeys(seen))

    @property
    def axioms(self) -> list[str]:
        return list(dict.fromkeys(a for c in self.clashes for a in c.axioms))

    @property
    def text(self) -> str:
        if self.clashes:
            text = " ".join(c.text for c in self.clashes[:_MAX_TOLD])
            more = len(self.clashes) - _MAX_TOLD
            return text + (f" (and {more} more clash{'es' if more > 1 else ''})" if more > 0 else "")
        if self.narrowed:
            who = ", ".join(f"<{i}>" for i in self.narrowed[:_MAX_NAMED])
            if len(self.narrowed) > _MAX_NAMED:
                who += f" and {len(self.narrowed) - _MAX_NAMED} more"
            said = "; ".join(" ".join(_short_nt(x) for x in row[:3]) for row in self.triples)
            return (
                f"HermiT finds the data about {who} inconsistent with the ontology, but no disjointness, "
                f"functional-property or datatype clash explains it directly; the write says: {said}."
            )
        return "HermiT finds the write inconsistent with the ontology and the stored data around it."

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "individuals": self.individuals,
            "axioms": self.axioms,
            "clashes": [c.to_json() for c in self.clashes],
            "narrowed": list(self.narrowed),
            "triples": [{"subject": s, "predicate": p, "object": o, "in": g} for s, p, o, g in self.triples],
        }


def _short_nt(term: str) -> str:
    """An N-Triples term as :func:`short` writes it (IRIs; literals and blank nodes as they are)."""
    return short(URIRef(term[1:-1])) if term.startswith("<") and term.endswith(">") else term


_MAX_CLASHES = 10
_MAX_TOLD = 3  # clashes told in an explanation's text (all are in its JSON)
_MAX_NAMED = 8  # individuals named in an explanation's text
_MAX_EVIDENCE = 12  # written triples shown for a narrowed inconsistency
_INTEGER_TYPES = "integer int long short byte nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger"
_NUMERIC = {
    str(XSD[n]) for n in f"decimal {_INTEGER_TYPES} unsignedInt unsignedLong unsignedShort unsignedByte".split()
}
_INTEGER = _NUMERIC - {str(XSD.decimal)}
_ACCEPTS = {  # a range and the literal datatypes whose values lie in it
    str(XSD.string): {str(XSD.string)},
    str(XSD.date): {str(XSD.date)},
    str(XSD.dateTime): {str(XSD.dateTime), str(XSD.dateTimeStamp)},
    str(XSD.dateTimeStamp): {str(XSD.dateTimeStamp)},
    str(XSD.decimal): _NUMERIC,
    str(XSD.integer): _INTEGER,
    str(XSD.boolean): {str(XSD.boolean)},
}


@dataclass
class _Reason:
    """Why an individual is in a class: a data triple and the axioms that lead from it."""

    triple: Triple
    axioms: tuple[str, ...]


def _datatype(lit: Literal) -> str:
    if lit.language:
        return str(RDF.langString)
    return str(lit.datatype or XSD.string)


def _same_value(a: Literal, b: Literal) -> bool:
    if _datatype(a) in _NUMERIC and _datatype(b) in _NUMERIC:
        try:
            return a.toPython() == b.toPython()
        except (TypeError, ValueError):  # pragma: no cover - ill-typed literals
            return a == b
    return a == b


class _Lookup:
    """The module's individuals, their types (with reasons) and values, merged along equalities."""

    def __init__(self, mod: Module, axioms: Axioms) -> None:
        self.mod, self.ax = mod, axioms
        data = [t for t in mod.origin if not (t[1] == OWL.sameAs and t[0] == t[2])]
        self.data = data
        self.parent: dict[Any, Any] = {}
        self.merges: dict[Any, list[tuple[Triple, Triple, str]]] = {}
        self._equalities()

    def find(self, x: Any) -> Any:
        while self.parent.get(x, x) != x:
            x = self.parent[x]
        return x

    def _union(self, a: Any, b: Any, why: tuple[Triple, Triple, str]) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[rb] = ra
        self.merges.setdefault(ra, []).extend([why, *self.merges.pop(rb, [])])
        return True

    def _equalities(self) -> None:
        changed = True
        while changed:  # to a fixpoint: a merge can make two values of a functional property one
            changed = False
            for s, p, o in self.data:
                if p == OWL.sameAs and not isinstance(o, Literal):
                    changed |= self._union(s, o, ((s, p, o), (s, p, o), "owl:sameAs"))
            for props, subject_side in ((self.ax.functional, True), (self.ax.inverse_functional, False)):
                seen: dict[tuple[Any, Any], Triple] = {}
                for t in self.data:
                    s, p, o = t
                    if p not in props or isinstance(o, Literal) or p in self.ax.datatype_properties:
                        continue
                    key, other = ((self.find(s), p), o) if subject_side else ((self.find(o), p), s)
                    first = seen.setdefault(key, t)
                    if first is not t:
                        first_other = first[2] if subject_side else first[0]
                        changed |= self._union(first_other, other, (first, t, props[p]))

    def types(self) -> dict[Any, dict[URIRef, list[_Reason]]]:
        found: dict[Any, dict[URIRef, list[_Reason]]] = {}

        def add(x: Any, cls: Any, triple: Triple, axioms: tuple[str, ...]) -> None:
            for c, chain in self.ax.classes_of(cls).items():
                found.setdefault(self.find(x), {}).setdefault(c, []).append(_Reason(triple, (*axioms, *chain)))

        for t in self.data:
            s, p, o = t
            if p == RDF.type:
                add(s, o, t, ())
                continue
            for d, why in self.ax.domains.get(p, []):
                add(s, d, t, why)
            if not isinstance(o, Literal):
                for r, why in self.ax.ranges.get(p, []):
                    add(o, r, t, why)
        return found

    def clashes(self) -> list[Clash]:
        out: list[Clash] = []
        for node, classes in self.types().items():
            names = sorted(classes)
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    axiom = self.ax.disjoint.get(frozenset((a, b)))
                    if axiom is not None:
                        out.append(self._disjoint(node, a, b, axiom, classes[a], classes[b]))
        out += self._functional_values()
        out += self._datatypes()
        out += self._different()
        touched = {formats.rdflib_term(n) for n in self.mod.touched}
        out.sort(
            key=lambda c: (
                not any(w == THE_WRITE for *_, w in c.triples),
                not set(c.individuals) & {str(t) for t in touched},
            )
        )
        return out

    def _members(self, node: Any) -> list[Any]:
        root = self.find(node)
        return sorted({x for x in [root, *self.parent] if self.find(x) == root}, key=str)

    def _merge_triples(self, node: Any) -> tuple[list[Triple], list[str]]:
        triples: list[Triple] = []
        axioms: list[str] = []
        for a, b, why in self.merges.get(self.find(node), []):
            triples += [a, b]
            axioms.append(why)
        return triples, axioms

    def _where(self, t: Triple) -> str:
        return self.mod.origin.get(t, "the ontology")

    def _place(self, t: Triple) -> str:
        where = self._where(t)
        return "in this write" if where == THE_WRITE else f"stored in <{where}>"

    def _clash(self, kind: str, node: Any, axioms: list[str], triples: list[Triple], text: str) -> Clash:
        merged, merge_axioms = self._merge_triples(node)
        rows = tuple(dict.fromkeys((s.n3(), p.n3(), o.n3(), self._where((s, p, o))) for s, p, o in [*triples, *merged]))
        members = self._members(node)
        if len(members) > 1:
            text += (
                " ("
                + " and ".join(short(m) for m in members)
                + " are the same individual: "
                + "; ".join(dict.fromkeys(merge_axioms))
                + ")"
            )
        return Clash(kind, tuple(str(m) for m in members), tuple(dict.fromkeys([*axioms, *merge_axioms])), rows, text)

    def _rank(self, reason: _Reason) -> tuple[bool, bool, bool, int]:
        """Asserted before inferred, in the write before stored, a type before a domain or range."""
        where = self._where(reason.triple)
        return (where == INFERRED_GRAPH, where != THE_WRITE, reason.triple[1] != RDF.type, len(reason.axioms))

    def _because(self, node: Any, reasons: list[_Reason]) -> tuple[_Reason, str]:
        """The most direct of ``reasons`` (an asserted type, in the write, in fewest steps), said
        from ``node``'s side: its own triples without the subject, others' with "it"."""
        best = min(reasons, key=self._rank)
        s, p, o = best.triple
        if s == node:
            said = f"{short(p)} {short(o)}"
        elif o == node:
            said = f"{short(s)} {short(p)} it"
        else:  # a triple about an individual merged with ``node``
            said = f"{short(s)} {short(p)} {short(o)}"
        via = "".join(f"; {a}" for a in best.axioms)
        return best, f"{said}, {self._place(best.triple)}{via}"

    def _disjoint(self, node: Any, a: URIRef, b: URIRef, axiom: str, ra: list[_Reason], rb: list[_Reason]) -> Clash:
        first, why_a = self._because(node, ra)
        second, why_b = self._because(node, rb)
        text = f"{short(node)} would be both {short(a)} ({why_a}) and {short(b)} ({why_b}), but {axiom}."
        axioms = [*first.axioms, *second.axioms, axiom]
        return self._clash("disjoint-classes", node, axioms, [first.triple, second.triple], text)

    def _functional_values(self) -> list[Clash]:
        out = []
        values: dict[tuple[Any, Any], list[Triple]] = {}
        for t in self.data:
            s, p, o = t
            if isinstance(o, Literal) and p in self.ax.functional:
                values.setdefault((self.find(s), p), []).append(t)
        for (node, p), triples in values.items():
            distinct: list[Triple] = []
            for t in triples:
                if not any(_same_value(t[2], d[2]) for d in distinct):
                    distinct.append(t)
            if len(distinct) > 1:
                shown = " and ".join(f"{short(t[2])} ({self._place(t)})" for t in distinct)
                text = f"{short(node)} would have two values of {short(p)}, {shown}, but {self.ax.functional[p]}."
                out.append(self._clash("functional-property", node, [self.ax.functional[p]], distinct, text))
        return out

    def _datatypes(self) -> list[Clash]:
        out = []
        for t in self.data:
            s, p, o = t
            if not isinstance(o, Literal):
                continue
            for r, why in self.ax.datatypes.get(p, []):
                accepted = _ACCEPTS.get(str(r))
                if accepted is not None and _datatype(o) not in accepted:
                    text = (
                        f"{short(s)} {short(p)} {short(o)}: the value's datatype is {short(URIRef(_datatype(o)))}, "
                        f"but {'; '.join(why)}."
                    )
                    out.append(self._clash("datatype", s, list(why), [t], text))
        return out

    def _different(self) -> list[Clash]:
        out = []
        for t in self.data:
            s, p, o = t
            if p == OWL.differentFrom and self.find(s) == self.find(o):
                text = f"{short(s)} owl:differentFrom {short(o)}, but the data makes them the same individual."
                out.append(self._clash("different-individuals", s, [], [t], text))
        return out


def explain(mod: Module) -> Explanation:
    """The clashes a direct look-up finds in ``mod``: every individual's types (asserted, from the
    domains and ranges of its triples, up the class hierarchy, merged along owl:sameAs and
    functional or inverse-functional properties) against the disjointness axioms, two values of a
    functional data property, a value outside a datatype range. Each step is an OWL entailment, so
    every clash found is real; what it does not model (the few inconsistencies that only full DL
    reasoning sees) is left to :func:`check_write`'s narrowing with HermiT."""
    found = _Lookup(mod, mod.axioms).clashes()
    return Explanation(tuple(found[:_MAX_CLASHES]))


# -- the per-write check -----------------------------------------------------------------------

_NARROWING_RUNS = 4  # HermiT runs at most, after the first, to narrow an unexplained inconsistency


@dataclass
class WriteConsistency(materialise.Consistency):
    """The verdict on one write, with the explanation when it is inconsistent and the size of the
    module HermiT reasoned over."""

    explanation: Explanation | None = None
    module: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: module, hermit, explanation

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["module"] = self.module
        out["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        if self.explanation is not None:
            out["explanation"] = self.explanation.to_json()
        return out


def check_write(
    kb: KnowledgeBase,
    ontology: rdflib.Graph | Iterable[ox.Triple] | None,
    written: Written,
    replacing: Iterable[str],
    *,
    worker: hermit.Worker | None = None,
) -> WriteConsistency:
    """OWL 2 DL consistency (HermiT) of the knowledge base as it would be after writing
    ``written`` (triples, or triples by graph as the write gate holds them) in place of the graphs
    ``replacing``, judged on :func:`module` (the store is assumed consistent before).
    ``ontology`` is the ontology after the write; None: the written ontology graph when
    ``written`` is by graph and has one, else the store's.

    ``consistent`` is False with an :class:`Explanation` when the write makes the data
    inconsistent; None, with the reason in ``message``, when HermiT cannot run (no Java runtime, a
    failure, a time-out). Never raises for those.
    ``worker``: the warm HermiT to ask (the write policy's); None: HermiT's command line."""
    return WriteCheck.of(kb, ontology, written, replacing, worker=worker).verdict()


@dataclass
class WriteCheck:
    """:func:`check_write` in two steps: :meth:`of` gathers the module (Python's work), and
    :meth:`verdict` asks HermiT (Java's, which another thread may wait for while this one goes on:
    the write gate validates and reasons over the write meanwhile, instead of sharing Python with
    the module's gathering)."""

    kb: KnowledgeBase
    onto: _Ontology | None
    triples: list[ox.Triple]
    replacing: list[str]
    worker: hermit.Worker | None
    start: float
    mod: Module | None = None
    ntriples: bytes = b""
    missing: str | None = None

    @classmethod
    def of(
        cls,
        kb: KnowledgeBase,
        ontology: rdflib.Graph | Iterable[ox.Triple] | None,
        written: Written,
        replacing: Iterable[str],
        *,
        worker: hermit.Worker | None = None,
    ) -> WriteCheck:
        """The module of the write, gathered and written out for HermiT (see :func:`check_write`)."""
        start = time.perf_counter()
        missing = java_missing()
        if missing is not None:
            return cls(kb, None, [], [], worker, start, missing=missing)
        onto = _ontology(kb, ontology, written)
        triples = _written(written)
        replacing = list(replacing)
        mod = gather(kb, onto, triples, replacing)
        return cls(kb, onto, triples, replacing, worker, start, mod, mod.ntriples())

    def verdict(self) -> WriteConsistency:
        """HermiT's verdict on the module, explained when it is inconsistent."""
        if self.missing is not None or self.mod is None or self.onto is None:
            return WriteConsistency(None, "HermiT", self.missing or "")
        mod, start, replacing = self.mod, self.start, self.replacing
        size = {
            "touched": len(mod.touched),
            "neighbours": len(mod.neighbours),
            "dataTriples": len(mod.data),
            "ontologyTriples": len(mod.ontology),
        }
        timings = {"module": time.perf_counter() - start}
        run = _consistent(self.worker, self.ntriples)
        timings["hermit"] = run.seconds
        if run.ok is None:
            return WriteConsistency(
                None, "HermiT", run.output, time.perf_counter() - start, module=size, timings=timings
            )
        if run.ok:
            message = "consistent"
            if ONTOLOGY_GRAPH in replacing:
                message += " (the write replaces the ontology: only the individuals it touches were checked against it)"
            return WriteConsistency(True, "HermiT", message, time.perf_counter() - start, module=size, timings=timings)
        begun = time.perf_counter()
        explanation = explain(mod)
        if not explanation.clashes:  # not one the look-up models: narrow it with a few HermiT runs
            explanation = _narrow(self.kb, self.onto, self.triples, replacing, mod, self.worker)
        timings["explanation"] = time.perf_counter() - begun
        return WriteConsistency(
            False,
            "HermiT",
            f"inconsistent: {explanation.text}",
            time.perf_counter() - start,
            explanation=explanation,
            module=size,
            timings=timings,
        )


def _consistent(worker: hermit.Worker | None, ntriples: bytes) -> hermit.Run:
    """HermiT's consistency verdict from ``worker``, or from its command line when there is none."""
    return worker.consistent(ntriples) if worker is not None else hermit.run(ntriples, ["-k"])


def _narrow(
    kb: KnowledgeBase,
    onto: _Ontology,
    written: list[ox.Triple],
    replacing: list[str],
    mod: Module,
    worker: hermit.Worker | None,
) -> Explanation:
    """Halve the touched individuals while one half alone is still inconsistent (HermiT, at most
    :data:`_NARROWING_RUNS` runs). When neither half alone is, the clash spans both: the part found
    so far is kept. The written triples about the part are the evidence."""
    candidates = sorted(mod.touched, key=str)
    runs = 0
    while len(candidates) > 1 and runs < _NARROWING_RUNS:
        middle = len(candidates) // 2
        found = None
        for half in (candidates[:middle], candidates[middle:]):
            if runs == _NARROWING_RUNS:
                break
            runs += 1
            if _consistent(worker, gather(kb, onto, written, replacing, touched=set(half)).ntriples()).ok is False:
                found = half
                break
        if found is None:
            break
        candidates = found
    part = set(candidates)
    evidence = [t for t in written if t.subject in part or t.object in part][:_MAX_EVIDENCE]
    rows = tuple((str(t.subject), str(t.predicate), str(t.object), THE_WRITE) for t in evidence)
    return Explanation((), tuple(str(formats.rdflib_term(n)) for n in candidates), runs + 1, rows)


# -- classification ----------------------------------------------------------------------------

_RESULT = re.compile(r"^(SubClassOf|EquivalentClasses)\( ((?:<[^>]+>\s*)+)\)$", re.MULTILINE)
_THING, _NOTHING = str(OWL.Thing), str(OWL.Nothing)


@dataclass(frozen=True)
class Classification:
    """HermiT's class hierarchy of an ontology's named classes: each class's inferred direct
    superclasses (``parents``; owl:Thing for the top ones) and equivalent classes, and the
    unsatisfiable classes. ``available`` is False, with the reason in ``message``, when HermiT
    could not run (no Java runtime, a failure)."""

    available: bool
    message: str
    digest: str
    seconds: float = 0.0
    parents: tuple[tuple[str, tuple[str, ...]], ...] = ()
    equivalents: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unsatisfiable: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    reasoner: str = "HermiT"

    def direct_superclasses(self, iri: str) -> tuple[str, ...]:
        return dict(self.parents).get(iri, ())

    def equivalent_classes(self, iri: str) -> tuple[str, ...]:
        return dict(self.equivalents).get(iri, ())

    def tree(self) -> dict[str, Any]:
        """The hierarchy as nested nodes from owl:Thing (a class with several direct superclasses
        appears under each; equivalent classes share one node)."""
        children: dict[str, list[str]] = {}
        for cls, ups in self.parents:
            for up in ups:
                children.setdefault(up, []).append(cls)
        labels, equivalents = dict(self.labels), dict(self.equivalents)

        def node(iri: str, path: tuple[str, ...]) -> dict[str, Any]:
            out: dict[str, Any] = {"class": iri, "name": short(URIRef(iri))}
            if iri in labels:
                out["label"] = labels[iri]
            if equivalents.get(iri):
                out["equivalents"] = list(equivalents[iri])
            below = [node(c, (*path, iri)) for c in sorted(children.get(iri, [])) if c not in path]
            if below:
                out["subclasses"] = below
            return out

        return node(_THING, ())

    def to_json(self) -> dict[str, Any]:
        return {
            "reasoner": self.reasoner,
            "available": self.available,
            "message": self.message,
            "ontology": self.digest,
            "seconds": round(self.seconds, 3),
            "classes": {
                c: {"parents": list(p), "equivalents": list(self.equivalent_classes(c))} for c, p in self.parents
            },
            "unsatisfiable": list(self.unsatisfiable),
            "tree": self.tree() if self.available else None,
        }


class _HermitFailed(Exception):
    pass


def ontology_digest(ontology: rdflib.Graph) -> tuple[str, bytes]:
    """The SHA-256 of the ontology's canonical N-Triples (blank nodes canonically named, lines
    sorted), and those N-Triples: the same for the same content however it was parsed."""
    from rdflib.compare import to_canonical_graph

    lines = to_canonical_graph(ontology).serialize(format="nt", encoding="utf-8").splitlines()
    text = b"\n".join(sorted(line for line in lines if line.strip())) + b"\n"
    return hashlib.sha256(text).hexdigest(), text


def classify(ontology: rdflib.Graph, *, cache_dir: Path | None = None) -> Classification:
    """HermiT's classification of ``ontology``, cached by its content digest: in memory (the last
    few ontologies) and, when ``cache_dir`` is given, as JSON files there. Without Java (or when
    HermiT fails) a result with ``available=False`` says why; nothing is raised or cached."""
    digest, text = ontology_digest(ontology)
    missing = java_missing()
    if missing is not None:
        return Classification(False, missing, digest)
    path = cache_dir / f"classification-{digest}.json" if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            return _from_cache(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache file: classify again
    try:
        result = _classify(digest, text)
    except _HermitFailed as exc:
        return Classification(False, str(exc), digest)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_to_cache(result)), encoding="utf-8")
        tmp.replace(path)
    return result


@lru_cache(maxsize=4)
def _classify(digest: str, text: bytes) -> Classification:
    """Run HermiT's classification on the canonical N-Triples ``text`` (``digest`` is their hash,
    the cache key); raises :class:`_HermitFailed` (never cached) when it gives no answer."""
    graph = rdflib.Graph().parse(data=text, format="nt")
    named = {str(c) for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    labels = {}
    for c in named:
        found = {str(lit.language or ""): str(lit) for lit in graph.objects(URIRef(c), RDFS.label)}
        if found:
            labels[c] = found.get("en", found.get("", next(iter(found.values()))))
    run = _hermit(graph, ["-c"])
    if run.ok is None:
        raise _HermitFailed(run.output)
    if run.ok is False:
        return Classification(
            True,
            "the ontology is inconsistent: every class is unsatisfiable",
            digest,
            run.seconds,
            unsatisfiable=tuple(sorted(named)),
            labels=tuple(sorted(labels.items())),
        )
    group: dict[str, set[str]] = {c: {c} for c in named}
    subclass: list[tuple[str, str]] = []
    for kind, iris in _RESULT.findall(run.output):
        members = re.findall(r"<([^>]+)>", iris)
        if kind == "SubClassOf":
            subclass.append((members[0], members[1]))
            continue
        merged = set().union(*(group.get(m, {m}) for m in members))
        for m in merged:
            group[m] = merged
    unsat = sorted(c for c in named if _NOTHING in group[c])
    top = {c for c in named if _THING in group[c]}
    parents: dict[str, set[str]] = {c: set() for c in named if c not in unsat and c not in top}
    for sub, sup in subclass:
        for s in group.get(sub, {sub}):
            if s in parents:
                parents[s].update(x for x in group.get(sup, {sup}) if x in named or x == _THING)
    for ups in parents.values():
        if not ups:
            ups.add(_THING)
    equivalents = {c: tuple(sorted(group[c] - {c, _THING})) for c in parents if len(group[c]) > 1}
    return Classification(
        True,
        "classified" + (f"; unsatisfiable classes: {', '.join(short(URIRef(u)) for u in unsat)}" if unsat else ""),
        digest,
        run.seconds,
        parents=tuple(sorted((c, tuple(sorted(ups))) for c, ups in parents.items())),
        equivalents=tuple(sorted(equivalents.items())),
        unsatisfiable=tuple(unsat),
        labels=tuple(sorted(labels.items())),
    )


def _to_cache(c: Classification) -> dict[str, Any]:
    return {
        "available": c.available,
        "message": c.message,
        "digest": c.digest,
        "seconds": c.seconds,
        "parents": [[k, list(v)] for k, v in c.parents],
        "equivalents": [[k, list(v)] for k, v in c.equivalents],
        "unsatisfiable": list(c.unsatisfiable),
        "labels": [list(x) for x in c.labels],
    }


def _from_cache(data: dict[str, Any]) -> Classification:
    return Classification(
        bool(data["available"]),
        str(data["message"]),
        str(data["digest"]),
        float(data["seconds"]),
        parents=tuple((k, tuple(v)) for k, v in data["parents"]),
        equivalents=tuple((k, tuple(v)) for k, v in data["equivalents"]),
        unsatisfiable=tuple(data["unsatisfiable"]),
        labels=tuple((k, v) for k, v in data["labels"]),
    )


__all__ = [
    "NO_JAVA",
    "Axioms",
    "Clash",
    "Classification",
    "Explanation",
    "Module",
    "WriteCheck",
    "WriteConsistency",
    "check_write",
    "classify",
    "explain",
    "gather",
    "java_missing",
    "module",
    "ontology_digest",
    "touched_individuals",
]
