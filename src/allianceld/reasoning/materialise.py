"""Reasoning: OWL 2 RL materialisation into the inferred graph, OWL 2 DL consistency with HermiT."""

from __future__ import annotations

import functools
import itertools
import operator
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import OWL, RDF, RDFS, XSD, Literal
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath

from allianceld import collector
from allianceld.rdf import formats
from allianceld.reasoning import domain_rule_scope, hermit, rl_engine, rl_passthrough, rl_rules
from allianceld.reasoning import domain_rules as rules
from allianceld.reasoning.domain_rules import DomainRule
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend, SparqlBackend
from allianceld.store.remote_lookup import BlankNodeLookup, QuadSource, RemoteLookup, quad_source
from allianceld.vocab import ID_BASE, INFERRED_GRAPH, ONTOLOGY_GRAPH

Triple = tuple[Any, Any, Any]
_OWL = str(OWL)
_THINGS = frozenset({OWL.Thing})  # owl:Thing, as a set to look up in
#: the IRIs the split and the rules compare terms with: one object each in a conversion
_VOCABULARY = (
    RDF.type,
    RDF.first,
    RDFS.domain,
    RDFS.range,
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    OWL.Thing,
    OWL.sameAs,
    OWL.FunctionalProperty,
    OWL.InverseFunctionalProperty,
    XSD.string,
    *rl_passthrough.DECLARATIONS,
)


@dataclass(frozen=True)
class Materialisation:
    """What an OWL 2 RL run produced: the whole inferred graph (by ``reasonable``; ``why``
    a full run was needed), or the change an incremental run made (``incremental``: ``inferred``
    triples added, ``removed`` taken away)."""

    reasoner: str
    inferred: int
    seconds: float
    removed: int = 0
    why: str = ""


@dataclass
class Consistency:
    """The OWL 2 DL verdict: ``consistent`` is None when no DL reasoner could run."""

    consistent: bool | None
    reasoner: str
    message: str
    seconds: float = 0.0
    classified: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "consistent": self.consistent,
            "reasoner": self.reasoner,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "classified": self.classified,
        }


def rl_closure(graph: rdflib.Graph) -> tuple[set[Triple], str]:
    """The OWL 2 RL closure of ``graph`` (input included), and the name of the reasoner used.

    Uses the ``reasonable`` reasoner.
    Three RL rules are applied here instead, alternating with the reasoner until nothing new is
    derived: property chains (prp-spo2), which ``reasonable`` 0.4 does not apply; inverse-
    functional properties (prp-ifp), which it applies without comparing the objects (it made
    every two treaties with provisions owl:sameAs each other); and functional properties (prp-fp),
    whose rule in ``reasonable`` grows with the square of the data (40k triples: 3.1 s and 1.2 GB
    with it, 1.4 s and 0.18 GB without; 100k triples ran out of 24 GB). The chains' conclusions
    over the data are given to the reasoner with it (:meth:`_Rules.presaturate`), which usually
    saves a second round (a new reasoner over the whole closure).

    The reasoner reads only the triples that can take part in its rules, and a summary of the
    others (the types their properties' domains and ranges give); the others join the closure
    unchanged (:mod:`allianceld.reasoning.rl_passthrough`, which proves the result the same and checks its
    conditions on the closure; a property that fails them is reasoned over in full and the
    closure computed again). Inverse pairs, the chains' conclusions over the input and the types
    of classes only cax-sco reads pass around it too. Of 20k generated triples, 2k reach the
    reasoner (with 1k of summary) and 19k pass around it, with 9k that the pairs, chains and
    superclasses make there.
    """
    import reasonable

    with collector.paused():
        rules = _Rules(graph)
        grouped = rl_passthrough.by_predicate(t for t in graph if t not in rules.hidden)
        closed, parts = _reasonable_closure(reasonable, rules, grouped, formats.RdflibTerms())
        closed.update(parts.passed)
        closed.update((s, p, rl_passthrough.as_reasoned(o)) for s, p, o in parts.passed if _plain(o))
        return closed | rules.hidden, "reasonable"


def _reasonable_closure(
    reasonable: Any, rules: _Rules, grouped: dict[Any, list[Any]], term: formats.RdflibTerms
) -> tuple[set[Triple], rl_passthrough.Split]:
    """The closure of the reasoner's part of ``grouped`` (triples by rdflib predicate, the rule
    predicates' as rdflib's, the others converted by ``term`` where needed: see
    :func:`rl_passthrough.split_groups`), and the split it was made with: its passed triples are
    not in the closure."""

    def pairs(q: Any) -> list[tuple[Any, Any]]:
        return [(s, o) for s, _, o in term.triples(grouped.get(q, []))]

    presaturated = rules.presaturate(pairs)
    forced: set[Any] = set()
    while True:
        parts = rl_passthrough.split_groups(grouped, forced, terms=term, concluded=presaturated)
        passed = _passed_read(rules, parts.groups, term)
        passed += [(s, p, rl_passthrough.as_reasoned(o)) for s, p, o in passed if _plain(o)]
        closed = _reasoned(reasonable, [*parts.core, *parts.summary, *parts.concluded], term)
        late: set[Any] = set()
        while extra := _unpassed(rules.apply(itertools.chain(closed, passed)) - closed, parts, late):
            closed = _reasoned(reasonable, closed | extra, term)
        bad = rl_passthrough.violations(closed, parts) | late
        if not bad:
            return closed, parts
        forced |= bad  # (a pair with one of its two forced no longer passes: rl_passthrough.inverse_pairs)


def _unpassed(derived: set[Triple], parts: rl_passthrough.Split, late: set[Any]) -> set[Triple]:
    """Those of ``derived`` (allianceld's rules' conclusions not in the closure) that are not
    passed triples either. A passed property's conclusion that was not passed is left out too,
    and its property added to ``late``: it must be reasoned over (the split gave the reasoner a
    summary without it)."""
    groups = parts.groups
    if not derived or groups.keys().isdisjoint(map(itemgetter(1), derived)):
        return derived
    by_predicate: dict[Any, list[Triple]] = {}
    rest: set[Triple] = set()
    for t in derived:
        if t[1] in groups:
            by_predicate.setdefault(t[1], []).append(t)
        else:
            rest.add(t)
    for p, triples in by_predicate.items():
        passed = set(parts.terms.triples(groups[p]))
        if not passed.issuperset(triples):
            late.add(p)
    return set() if late else rest


def _passed_read(rules: _Rules, groups: Mapping[Any, list[Any]], term: formats.RdflibTerms) -> list[Triple]:
    """The passed triples (``groups``, by rdflib predicate) that ``rules.apply`` reads, as rdflib's."""
    with_literals = rules.read_with_literals
    read: list[Triple] = []
    for p in rules.read:
        group = groups.get(p, ())
        if p not in with_literals:
            group = [t for t in group if not isinstance(t[2], (Literal, ox.Literal))]
        read.extend(term.triples(group))
    return read


def _reasoned(reasonable: Any, triples: Collection[Triple], term: formats.RdflibTerms) -> set[Triple]:
    """``reasonable``'s closure of ``triples``, with them, its IRIs ``term``'s objects (so that the
    closure's set operations compare IRIs by identity)."""
    triples = triples if isinstance(triples, list) else list(triples)
    r = reasonable.PyReasoner()
    r.from_graph(_as_read(triples))  # any iterable of triples
    closed = set(term.canonical(r.reason()))
    closed.update(triples)
    return closed


class _ReasonerIri(str):
    """An IRI as ``reasonable`` reads it fastest. Its binding reads a term whose type is not named
    ``URIRef``, ``Literal`` or ``BNode`` as an IRI, after looking up the term's ``datatype`` and
    ``language``: an rdflib IRI has neither, and the two exceptions were half of the reading."""

    __slots__ = ()
    datatype = None
    language = None


def _as_read(triples: list[Triple]) -> list[Triple]:
    """``triples`` with each rdflib IRI a :class:`_ReasonerIri` (one per IRI), by columns."""
    if not triples:
        return []
    made: dict[Any, _ReasonerIri] = {}
    return list(zip(*(_as_read_terms(column, made) for column in zip(*triples, strict=True)), strict=True))


def _as_read_terms(terms: tuple[Any, ...], made: dict[Any, _ReasonerIri]) -> list[Any]:
    for iri in set(terms).difference(made):
        if type(iri) is rdflib.URIRef:
            made[iri] = _ReasonerIri(iri)
    found = list(map(made.get, terms))
    for i in [i for i, x in enumerate(found) if x is None]:  # literals and blank nodes
        found[i] = terms[i]
    return found


def _plain(o: Any) -> bool:
    return isinstance(o, Literal) and o.language is None and o.datatype is None


class _Rules:
    """The RL rules applied outside ``reasonable``, with the axioms read from the graph."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.chains = [
            (prop, list(rdflib.collection.Collection(graph, head)))
            for prop, head in graph.subject_objects(OWL.propertyChainAxiom)
        ]
        self.inverse_functional = set(graph.subjects(RDF.type, OWL.InverseFunctionalProperty))
        self.functional = set(graph.subjects(RDF.type, OWL.FunctionalProperty))
        self.hidden = {(p, RDF.type, OWL.InverseFunctionalProperty) for p in self.inverse_functional} | {
            (p, RDF.type, OWL.FunctionalProperty) for p in self.functional
        }
        # where a chain step's triples come from one rule away: (property, read backwards?)
        self.step_sources: dict[Any, set[tuple[Any, bool]]] = {}
        for _, steps in self.chains:
            for step in steps:
                found = {(step, False)}
                found |= {(q, True) for q in graph.subjects(OWL.inverseOf, step)}
                found |= {(q, True) for q in graph.objects(step, OWL.inverseOf)}
                found |= {(q, False) for q in graph.subjects(RDFS.subPropertyOf, step)}
                found |= {(q, False) for q in graph.subjects(OWL.equivalentProperty, step)}
                found |= {(q, False) for q in graph.objects(step, OWL.equivalentProperty)}
                if (step, RDF.type, OWL.SymmetricProperty) in graph:
                    found.add((step, True))
                self.step_sources[step] = found

    @property
    def read(self) -> set[Any]:
        """The properties whose triples :meth:`apply` reads (of a functional property's, only those
        whose object is not a literal, unless it is also one of :attr:`read_with_literals`)."""
        return self.read_with_literals | self.functional

    @property
    def read_with_literals(self) -> set[Any]:
        """The properties every triple of which :meth:`apply` reads: the chains' steps and the
        inverse-functional properties."""
        return {step for _, steps in self.chains for step in steps} | self.inverse_functional

    def presaturate(self, subject_objects: Callable[[Any], Iterable[tuple[Any, Any]]]) -> set[Triple]:
        """The property chains' conclusions over the data (``subject_objects(p)``: the subjects and
        objects of property ``p``), each step read from its own triples and from those one
        inverse/subproperty/symmetry rule away: given to the reasoner with the data, they spare it
        a second round in the common case (a chain over an inverse)."""
        derived: set[Triple] = set()
        for prop, steps in self.chains:

            def step_pairs(step: Any) -> list[tuple[Any, Any]]:
                out: list[tuple[Any, Any]] = []
                for q, backwards in self.step_sources[step]:
                    out.extend((o, s) if backwards else (s, o) for s, o in subject_objects(q))
                return out

            pairs = step_pairs(steps[0])
            for step in steps[1:]:
                index: dict[Any, list[Any]] = {}
                for s, o in step_pairs(step):
                    index.setdefault(s, []).append(o)
                pairs = [(x, z) for x, y in pairs for z in index.get(y, [])]
            derived.update((x, prop, z) for x, z in pairs if not isinstance(x, Literal))
        return derived

    def apply(self, triples: Iterable[Triple]) -> set[Triple]:
        read = self.read_with_literals
        triples = triples if isinstance(triples, list) else list(triples)
        by_pred: dict[Any, list[tuple[Any, Any]]] = {}
        for s, p, o in _with_predicate(triples, read | self.functional):
            if p in read or not isinstance(o, Literal):  # a functional property's: not a literal
                by_pred.setdefault(p, []).append((s, o))
        derived: set[Triple] = set()
        for prop, steps in self.chains:  # prp-spo2
            pairs = by_pred.get(steps[0], [])
            for step in steps[1:]:
                index: dict[Any, list[Any]] = {}
                for s, o in by_pred.get(step, []):
                    index.setdefault(s, []).append(o)
                pairs = [(x, z) for x, y in pairs for z in index.get(y, [])]
            derived.update((x, prop, z) for x, z in pairs)
        for prop in self.inverse_functional:  # prp-ifp
            subjects: dict[Any, set[Any]] = {}
            for s, o in by_pred.get(prop, []):
                subjects.setdefault(o, set()).add(s)
            derived.update((a, OWL.sameAs, b) for group in subjects.values() for a in group for b in group if a != b)
        for prop in self.functional:  # prp-fp (between resources; two literals would be a clash)
            objects: dict[Any, set[Any]] = {}
            for s, o in by_pred.get(prop, []):
                if not isinstance(o, Literal):
                    objects.setdefault(s, set()).add(o)
            derived.update((a, OWL.sameAs, b) for group in objects.values() for a in group for b in group if a != b)
        return derived


def _with_predicate(triples: list[Triple], predicates: Collection[Any]) -> Iterator[Triple]:
    """Those of ``triples`` whose predicate is one of ``predicates`` (chosen in C: a closure's
    triples are mostly of others)."""
    return compress(triples, map(predicates.__contains__, map(itemgetter(1), triples)))


def without_identity_links(graph: rdflib.Graph) -> rdflib.Graph:
    """A copy of ``graph`` without owl:sameAs links. Identity links to external graphs are kept
    out of RL reasoning (as GraphDB's 'disable sameAs' option does), so that Wikidata entities do
    not receive a copy of every local triple."""
    g = rdflib.Graph()
    g += graph
    g.remove((None, OWL.sameAs, None))
    return g


def inferred_triples(asserted: Iterable[ox.Triple]) -> tuple[list[ox.Triple], str]:
    """The informative part of the RL closure of ``asserted`` (without its owl:sameAs links,
    :func:`without_identity_links`): derived triples about individuals (not the asserted ones, not
    owl:Thing typing, not reflexive sameAs, not blank-node classes), and the reasoner's name.

    Only what the reasoner reads is made into rdflib terms (:func:`rl_passthrough.split_groups`):
    of 200k generated triples, the 162k passed around it stay pyoxigraph's. A derived triple never
    has a passed triple's predicate (no rule names it, or the check on the closure would have sent
    it to the reasoner), so the derived triples are told from the asserted ones among the
    reasoner's input in rdflib's terms, and from all of them in pyoxigraph's."""
    with collector.paused():  # millions of new objects: each full collection would walk them all
        return _informative(asserted)


def _informative(asserted: Iterable[ox.Triple]) -> tuple[list[ox.Triple], str]:
    """:func:`inferred_triples`, with Python's cycle collector paused."""
    import reasonable

    same_as = ox.NamedNode(str(OWL.sameAs))
    by_predicate: dict[ox.NamedNode, list[ox.Triple]] = {}
    for t in asserted:
        found = by_predicate.get(t.predicate)
        if found is None:
            by_predicate[t.predicate] = [t]
        else:
            found.append(t)
    by_predicate.pop(same_as, None)
    term = formats.RdflibTerms(_VOCABULARY)
    grouped: dict[Any, list[Any]] = {}
    axioms = rdflib.Graph(store="SimpleMemory")  # what _Rules reads
    for p, group in by_predicate.items():
        predicate = term(p)
        if not rl_passthrough.is_rule_predicate(predicate):
            grouped[predicate] = group
            continue
        triples = grouped[predicate] = term.triples(group)
        axioms.addN((s, q, o, axioms) for s, q, o in triples if q != RDF.type or o.startswith(_OWL))
    rules = _Rules(axioms)
    if RDF.type in grouped:
        grouped[RDF.type] = [t for t in grouped[RDF.type] if t not in rules.hidden]
    closed, parts = _reasonable_closure(reasonable, rules, grouped, term)
    new, predicates = _derived(closed, parts.core)
    if parts.made:  # made around the reasoner: pyoxigraph's where read backwards from the input
        kinds = list(map(type, parts.made))
        made = list(compress(parts.made, map(operator.is_, kinds, repeat(ox.Triple))))
        new.update(made)
        predicates.update(t.predicate for t in made)
        made = list(compress(parts.made, map(operator.is_not, kinds, repeat(ox.Triple))))
        informative = map(operator.not_, map(_THINGS.__contains__, map(itemgetter(2), made)))  # not kept
        others, their_predicates = _derived(set(compress(made, informative)), [])
        new |= others
        predicates |= their_predicates
    stated = set().union(*(by_predicate.get(p, ()) for p in predicates))
    return list(filter(rl_engine.worth_keeping, new - stated)), "reasonable"


def _derived(closed: set[Triple], given: list[Triple]) -> tuple[set[ox.Triple], set[ox.NamedNode]]:
    """The triples of ``closed`` that are not ``given`` and have no blank node, as pyoxigraph's
    (RDF 1.1: ``"x"^^xsd:string`` is the simple literal ``"x"``, and is not new when that is
    given), and their predicates. Sorted by their objects' kinds in C: most are IRIs."""
    given_set = set(given)
    rest = list(closed - given_set)  # the canonical IRIs compare by identity
    kinds = list(map(type, map(itemgetter(2), rest)))
    kept = list(compress(rest, map(operator.is_, kinds, repeat(rdflib.URIRef))))
    for t in compress(rest, map(operator.is_not, kinds, repeat(rdflib.URIRef))):
        s, p, o = t
        if isinstance(o, rdflib.BNode):
            continue  # never kept (rl_engine.worth_keeping)
        if isinstance(o, Literal) and o.datatype == XSD.string:
            t = (s, p, Literal(str(o)))
            if t in given_set:
                continue
        kept.append(t)
    kept = list(compress(kept, map(operator.not_, map(isinstance, map(itemgetter(0), kept), repeat(rdflib.BNode)))))
    if not kept:
        return set(), set()
    columns = list(zip(*kept, strict=True))
    term = _as_pyoxigraph(set().union(*columns))
    triples = set(map(ox.Triple, *(map(term.__getitem__, column) for column in columns)))
    return triples, {term[p] for p in set(columns[1])}


def _as_pyoxigraph(terms: Iterable[Any]) -> dict[Any, Any]:
    """rdflib's IRIs and literals as pyoxigraph reads their N-Triples (an IRI made directly: the
    same, and a thousand times as many as the literals)."""
    out: dict[Any, Any] = {}
    others: list[Any] = []
    for x in terms:
        if type(x) is rdflib.URIRef:
            out[x] = ox.NamedNode(str(x))
        else:
            others.append(x)
    text = "".join(f"<urn:s> <urn:p> {x.n3()} .\n" for x in others)  # Turtle: n3() writes a line break as one
    out.update(zip(others, (q.object for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)), strict=True))
    return out


def inferred_graph(asserted: rdflib.Graph) -> tuple[rdflib.Graph, str]:
    """:func:`inferred_triples` of an rdflib graph, as an rdflib graph."""
    triples, name = inferred_triples(formats.from_rdflib(asserted))
    return formats.to_rdflib(triples), name


def materialise(kb: KnowledgeBase, domain_rules: Sequence[DomainRule] = ()) -> Materialisation:
    """Recompute the OWL 2 RL closure of ontology + data into the inferred graph, and every domain
    rule's graph, in one transaction."""
    start = time.perf_counter()
    triples, name = inferred_triples(t for g in kb.knowledge_graphs() for t in kb.triples(g))
    updates = rule_updates(kb, domain_rules, kb.knowledge_graphs(), None, inferred=triples)
    kb.write({INFERRED_GRAPH: triples, **updates.graphs}, then=updates.ops, keep=updates.graphs)
    return Materialisation(reasoner=name, inferred=len(triples), seconds=time.perf_counter() - start)


@functools.lru_cache(maxsize=4)
def _compiled(ontology_nt: bytes) -> rl_rules.Ruleset:
    return rl_rules.compile_ontology(rdflib.Graph().parse(data=ontology_nt, format="nt"))


@functools.lru_cache(maxsize=4)
def _compiled_triples(ontology: tuple[ox.Triple, ...]) -> rl_rules.Ruleset:
    return _compiled(ox.serialize(sorted(ontology, key=str), format=ox.RdfFormat.N_TRIPLES) or b"")


def ruleset(kb: KnowledgeBase) -> rl_rules.Ruleset:
    """The OWL 2 RL rules of the ontology in ``kb`` (compiled once per ontology content; found by
    the ontology's triples, the same tuple while it is unchanged)."""
    return ruleset_of(kb.ontology())


def ruleset_of(ontology: Iterable[ox.Triple]) -> rl_rules.Ruleset:
    """The OWL 2 RL rules of an ontology's triples (such as a write's new ontology graph), compiled
    once per content."""
    return _compiled_triples(ontology if isinstance(ontology, tuple) else tuple(ontology))


def _vocabulary_outside_ontology(source: QuadSource, graphs: Iterable[str]) -> str | None:
    """A graph other than the ontology's that holds axioms (the rules would not know them)."""
    wanted = {ox.NamedNode(g) for g in graphs if g != ONTOLOGY_GRAPH}
    for pred in _AXIOM_PREDICATES:
        for q in source.quads_for_pattern(None, ox.NamedNode(str(pred)), None, None):
            if q.graph_name in wanted:
                return q.graph_name.value
    return None


_AXIOM_PREDICATES = (
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    RDFS.domain,
    RDFS.range,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.inverseOf,
    OWL.propertyChainAxiom,
    OWL.disjointWith,
    OWL.members,
)


def maintain(
    kb: KnowledgeBase, graphs: Mapping[str, list[ox.Triple]], *, large: bool = False
) -> rl_engine.InferenceChange:
    """The change to the inferred graph when the knowledge graphs in ``graphs`` get the given
    content, found incrementally (:mod:`allianceld.reasoning.rl_engine`). Raises
    :class:`rl_engine.NeedsFullRecompute` when only a full recomputation can tell, or for a
    ``large`` write (``gate.is_large_write``): the incremental engine's cost follows the write (a
    200k-triple load beside the shipped data: 282 s), a full closure's the store (about 20 s)."""
    existing = kb.graphs()
    if INFERRED_GRAPH not in existing:
        raise rl_engine.NeedsFullRecompute("no inferred graph yet")
    if ONTOLOGY_GRAPH in graphs:
        raise rl_engine.NeedsFullRecompute("the ontology changes")
    if large:
        written = sum(len(new) for new in graphs.values())
        raise rl_engine.NeedsFullRecompute(f"a large write ({written} triples) is reasoned over in full")
    knowledge = kb.knowledge_graphs()
    source = quad_source(kb.backend)  # a remote store's look-ups are memoised for this write
    elsewhere = _vocabulary_outside_ontology(source, knowledge)
    if elsewhere:
        raise rl_engine.NeedsFullRecompute(f"<{elsewhere}> holds axioms")
    replaced = {g: (kb.triples(g) if g in existing else [], new) for g, new in graphs.items()}
    if isinstance(source, RemoteLookup):  # what the rules look up first, in one query
        source.prefetch_subjects(
            term for old, new in replaced.values() for t in (*old, *new) for term in (t.subject, t.object)
        )
    view = rl_engine.StoreView(source, set(knowledge) | set(graphs), INFERRED_GRAPH)
    try:
        return rl_engine.maintain(ruleset(kb), view, replaced)
    except BlankNodeLookup as why:
        raise rl_engine.NeedsFullRecompute(str(why)) from None


# A write whose triples a rule reads have more subjects than this recomputes the rule in full:
# focused updates grow with the number of subjects they list and, past a few hundred, cost more
# than the whole rule (a 20k-triple load at 20k stored triples: 254 s focused, 9.7 s in full).
FOCUSED_RULE_LIMIT = 500


def rule_updates(
    kb: KnowledgeBase,
    domain_rules: Sequence[DomainRule],
    knowledge: list[str],
    change: rl_engine.InferenceChange | None,
    written: Mapping[str, Iterable[ox.Triple]] | None = None,
    *,
    inferred: Iterable[ox.Triple] | None = None,
) -> RuleWrites:
    """The SPARQL Update operations that bring the domain rules' graphs up to date after a write
    whose asserted graphs will be ``knowledge``: each rule recomputed in full when the OWL 2 RL
    inferences were (``change`` is None) or its graph does not exist yet, otherwise for the focus
    nodes the write affects (found on the store before the write and, in the update, after it).
    They run after the write's other operations, in the same transaction. A rule whose read
    triples changed for more than :data:`FOCUSED_RULE_LIMIT` subjects is recomputed in full.
    Given the write's graphs (``written``: graph -> its new triples), a rule's focus nodes are
    recomputed on the triples reachable from them (:func:`domain_rule_scope.focused_update`) and the
    operations only delete and insert its changed outputs; otherwise, or where a rule's queries
    cannot be followed that way, the update recomputes them itself.

    A rule is affected only by changed triples (asserted or inferred) whose predicate its WHERE
    clause names (for rdf:type, whose class it names), and its ``ald:affectedBy`` query is given
    their subjects.

    When a rule is to be recomputed in full and the inferred graph after the
    write is known (``change``, or ``inferred``: its whole new content when the OWL 2 RL inferences
    were recomputed), every rule is computed on an in-memory copy of what the rules read
    (:func:`_in_memory`) and given as its graph's new content (``graphs``), which the write
    replaces: a rule that names every graph it reads was 8-17 times slower than the same query over
    one graph. On a remote store, a rule the look-ups cannot follow is computed so too."""
    ops: list[str] = []
    using = [*knowledge, INFERRED_GRAPH]
    triples = (
        change.removed | change.added | change.asserted_removed | change.asserted_added if change is not None else set()
    )
    if change is not None or inferred is not None:
        full = change is None or any(
            not kb.has_graph(rule.graph) or len(_read_by(rule, triples)) > FOCUSED_RULE_LIMIT for rule in domain_rules
        )
        if full:
            return RuleWrites(graphs=_in_memory(kb, domain_rules, knowledge, written or {}, change, inferred))
    overlay = _overlay(kb, using, written, change)
    for rule in domain_rules:
        changed = sorted(_read_by(rule, triples), key=str) if change is not None else []
        if change is None or not kb.has_graph(rule.graph) or len(changed) > FOCUSED_RULE_LIMIT:
            ops.append(rules.full_update(rule, using))
            overlay = None  # the rules after this one read a graph only the update computes
        elif changed:
            foci = sorted(rules.affected_foci(kb, rule, changed), key=str)
            text = None
            if overlay is not None:
                try:
                    text = domain_rule_scope.focused_update(overlay, rule, foci, changed)
                except (domain_rule_scope.Unsupported, BlankNodeLookup):
                    overlay = None
            if text is None and isinstance(kb.backend, SparqlBackend):  # no update naming every graph
                return RuleWrites(graphs=_in_memory(kb, domain_rules, knowledge, written or {}, change, inferred))
            if text is None:
                text = rules.focus_update(rule, using, foci, changed)
            if text:
                ops.append(text)
        using = [*using, rule.graph]
        if overlay is not None:
            overlay.add_graph(rule.graph)
    return RuleWrites(ops=ops, overlay=overlay)


def _in_memory(
    kb: KnowledgeBase,
    domain_rules: Sequence[DomainRule],
    knowledge: list[str],
    written: Mapping[str, Iterable[ox.Triple]],
    change: rl_engine.InferenceChange | None,
    inferred: Iterable[ox.Triple] | None,
) -> dict[str, list[ox.Triple]]:
    """Every rule's graph recomputed in full, in order, on an in-memory store whose default graph
    holds what the rules read after the write: the graphs ``knowledge`` (their ``written`` content,
    else the stored one), the inferred graph (``inferred``, else the stored one changed by
    ``change``) and the graphs of the rules before. Of those graphs only the triples the rules'
    patterns can match are copied (:func:`_rules_read`: 108k of 294k with 200k generated triples)."""
    default = ox.DefaultGraph()
    mem = ox.Store()
    read = _rules_read(domain_rules)

    def add(triples: Iterable[ox.Triple]) -> None:
        formats.load_into(mem, triples if read is None else read.kept(triples))

    stored = [g for g in knowledge if g not in written]
    if isinstance(kb.backend, EmbeddedBackend):  # copied by pyoxigraph alone, as one document
        store = kb.backend.store  # (so that a blank node shared by two graphs stays one node)
        if read is None:
            graphs = (store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g)) or b"" for g in stored)
            dumped = b"".join(graphs)
        else:
            dumped = store.query(read.construct(stored)).serialize(format=ox.RdfFormat.N_TRIPLES) or b""
        mem.load(dumped, format=ox.RdfFormat.N_TRIPLES, to_graph=default)
    else:
        for graph in stored:
            add(kb.triples(graph))
    for graph in knowledge:
        if graph in written:
            add(written[graph])
    if inferred is not None:
        add(inferred)
    else:
        assert change is not None
        add([t for t in kb.triples(INFERRED_GRAPH) if t not in change.removed])
        add(change.added)
    graphs: dict[str, list[ox.Triple]] = {}
    for number, rule in enumerate(domain_rules, 1):
        derived = {t for t in mem.query(rules.full_query(rule)) if isinstance(t, ox.Triple)}
        graphs[rule.graph] = list(derived)
        if number < len(domain_rules):  # read by the rules after it
            formats.load_into(mem, derived)
    return graphs


@dataclass(frozen=True)
class _Read:
    """The triples some rules' patterns can match: those with one of ``predicates``, and the
    ``rdf:type`` triples with one of ``classes`` (every one when ``classes`` is None)."""

    predicates: frozenset[str]
    classes: frozenset[str] | None

    def kept(self, triples: Iterable[ox.Triple]) -> list[ox.Triple]:
        """Those of ``triples`` the patterns can match."""
        predicates = {ox.NamedNode(p) for p in self.predicates}
        if self.classes is None:
            predicates.add(rl_rules.TYPE)
            return [t for t in triples if t.predicate in predicates]
        classes = {ox.NamedNode(c) for c in self.classes}
        return [
            t for t in triples if t.predicate in predicates or (t.predicate == rl_rules.TYPE and t.object in classes)
        ]

    def construct(self, graphs: Iterable[str]) -> str:
        """A CONSTRUCT query of the triples of the named ``graphs`` the patterns can match."""
        named = " ".join(str(ox.NamedNode(g)) for g in graphs)
        predicates = " ".join(str(ox.NamedNode(p)) for p in sorted(self.predicates))
        if self.classes is None:
            predicates += f" {rl_rules.TYPE}"
            typed = ""
        else:
            classes = " ".join(str(ox.NamedNode(c)) for c in sorted(self.classes))
            typed = f" UNION {{ VALUES ?o {{ {classes} }} ?s a ?o BIND ({rl_rules.TYPE} AS ?p) }}"
        return (
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {named} }} "
            f"GRAPH ?g {{ {{ VALUES ?p {{ {predicates} }} ?s ?p ?o }}{typed} }} }}"
        )


def _rules_read(domain_rules: Sequence[DomainRule]) -> _Read | None:
    """What the WHERE groups of ``domain_rules`` (with their focus class) can match, or None when
    any triple may be: a pattern has a variable predicate or a negated property set, or a query
    has a part :func:`domain_rule_scope.shape_of` does not take apart."""
    predicates: set[str] = set()
    classes: set[str] | None = set()
    for rule in domain_rules:
        found = _rule_reads(rule)
        if found is None:
            return None
        predicates |= found.predicates
        classes = None if classes is None or found.classes is None else classes | found.classes
    return _Read(frozenset(predicates), None if classes is None else frozenset(classes))


@functools.lru_cache(maxsize=64)
def _rule_reads(rule: DomainRule) -> _Read | None:
    """What ``rule``'s WHERE group and focus class can match (see :func:`_rules_read`). An
    ``rdf:type`` step names its classes only as a pattern's predicate or a sequence path's last
    step (not inverse, repeated or alternative), with a constant object; elsewhere it can match
    every type."""
    try:
        shape = domain_rule_scope.shape_of(rule.construct)
    except domain_rule_scope.Unsupported:
        return None
    predicates: set[str] = set()
    classes: set[str] | None = {rule.focus_class}
    for pattern in domain_rule_scope.patterns(shape):
        iris = _path_predicates(pattern.path)
        if iris is None:
            return None
        predicates |= iris - {rl_rules.TYPE.value}
        if rl_rules.TYPE.value not in iris or classes is None:
            continue
        path = pattern.path
        last = path.args[-1] if isinstance(path, SequencePath) else path
        before = set().union(*map(_path_predicates, path.args[:-1])) if isinstance(path, SequencePath) else set()
        plain = isinstance(last, ox.NamedNode | rdflib.URIRef) and _path_predicates(last) == {rl_rules.TYPE.value}
        typed = plain and rl_rules.TYPE.value not in before
        if typed and isinstance(pattern.o, ox.NamedNode):
            classes.add(pattern.o.value)
        else:
            classes = None
    return _Read(frozenset(predicates), None if classes is None else frozenset(classes))


def _path_predicates(path: Any) -> set[str] | None:
    """The IRIs of a pattern's predicate or property path, or None when it can match any
    predicate (a variable, a negated property set)."""
    if isinstance(path, ox.NamedNode):
        return {path.value}
    if isinstance(path, rdflib.URIRef):
        return {str(path)}
    if isinstance(path, SequencePath | AlternativePath):
        found = [_path_predicates(p) for p in path.args]
        return None if None in found else set().union(*found)  # type: ignore[arg-type]
    if isinstance(path, InvPath):
        return _path_predicates(path.arg)
    if isinstance(path, MulPath):
        return _path_predicates(path.path)
    return None


@dataclass
class RuleWrites:
    """What brings the domain rules' graphs up to date after a write: SPARQL Update operations to
    run after the write's own (``ops``), and graphs whose whole new content is known (``graphs``:
    written with the write, and kept even when empty, so that the next write knows the rule was
    computed and follows it for the nodes it affects)."""

    ops: list[str] = field(default_factory=list)
    graphs: dict[str, list[ox.Triple]] = field(default_factory=dict)
    overlay: domain_rule_scope.Overlay | None = None


def _overlay(
    kb: KnowledgeBase,
    using: list[str],
    written: Mapping[str, Iterable[ox.Triple]] | None,
    change: rl_engine.InferenceChange | None,
) -> domain_rule_scope.Overlay | None:
    """The graphs ``using`` as the write will leave them, for following the rules' patterns with
    look-ups (:mod:`domain_rule_scope`), for a write whose graphs are known. It starts from the
    look-ups the last write through the gate carried (``kb.carried_lookups``, kept with the store's
    version after it), when no other write has been made since."""
    if written is None or change is None:
        return None
    kept = kb.carried_lookups
    carried = kept[1] if kept is not None and kept[0] == kb.version else None
    if not isinstance(carried, domain_rule_scope.Carried) or not isinstance(kb.backend, EmbeddedBackend):
        carried = None
    overlay = domain_rule_scope.Overlay(quad_source(kb.backend), using, written, carried)
    overlay.change(INFERRED_GRAPH, change.removed, change.added)
    return overlay


def _read_by(rule: DomainRule, triples: Iterable[ox.Triple]) -> set[ox.NamedNode]:
    """The subjects of those ``triples`` that ``rule`` reads: their predicate (for rdf:type, written
    ``a``, their class) is named in its WHERE clause, or their class is the rule's focus class."""
    named = _named_in(rule.where) | {rule.focus_class}
    return {
        t.subject
        for t in triples
        if isinstance(t.subject, ox.NamedNode)
        and (t.object.value in named if t.predicate.value == str(RDF.type) else t.predicate.value in named)
    }


@functools.lru_cache(maxsize=64)
def _named_in(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"<([^<>\s]+)>", text))


def rl_verdict(clashes: Sequence[rl_engine.Clash]) -> Consistency:
    """The inconsistency the OWL 2 RL rules found (cax-dw, cax-adc), as a verdict naming each
    individual, its two classes and the disjointness axiom."""
    text = "; ".join(
        f"{c.individual} would be both {rl_rules.short(c.first)} and {rl_rules.short(c.second)}, but {c.axiom}"
        for c in clashes
    )
    verdict = Consistency(False, "OWL 2 RL", f"inconsistent: {text}")
    verdict.explanation = RLExplanation(  # type: ignore[attr-defined]
        text,
        sorted({str(c.individual.value) for c in clashes}),  # type: ignore[union-attr]
        sorted({c.axiom for c in clashes}),
    )
    return verdict


@dataclass(frozen=True)
class RLExplanation:
    """Why the OWL 2 RL rules found a write inconsistent (read by :class:`errors.Inconsistent`)."""

    text: str
    individuals: list[str]
    axioms: list[str]


def dl_graph(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph as HermiT can read it. xsd:date is outside the OWL 2 datatype map, so dates are
    mapped one-to-one to xsd:dateTimeStamp at midnight UTC (order and equality are kept)."""
    out = rdflib.Graph()
    for s, p, o in graph:
        if o == XSD.date:
            o = XSD.dateTimeStamp
        elif isinstance(o, Literal) and o.datatype == XSD.date:
            o = Literal(f"{o}T00:00:00Z", datatype=XSD.dateTimeStamp)
        out.add((s, p, o))
    return out


def check_consistency(graphs: Iterable[rdflib.Graph], *, watch: Iterable[str] = ()) -> Consistency:
    """OWL 2 DL consistency of the union of ``graphs`` with HermiT (classification and realisation).

    ``watch`` names defined classes whose inferred members are reported in ``classified``.
    """
    missing = hermit.java_missing()
    if missing is not None:
        return Consistency(None, "HermiT", missing)
    union = rdflib.Graph()
    for g in graphs:
        union += g
    text = dl_graph(union).serialize(format="nt", encoding="utf-8")
    run = hermit.run(text, ["-c", "-I"], memory_mb=2000, timeout_s=None, short=False)
    if run.ok is None:
        return Consistency(None, "HermiT", run.output, run.seconds)
    if run.ok is False:
        return Consistency(False, "HermiT", f"inconsistent: {run.output}", run.seconds)
    subclasses, types = _realisation(run.output)
    classified: dict[str, list[str]] = {}
    for iri in watch:
        below = _below(iri, subclasses)
        classified[iri] = sorted(i for i, c in types if c in below and i.startswith(ID_BASE))
    unsat = sorted(c for c in _below(str(OWL.Nothing), subclasses) if not c.startswith(str(OWL)))
    if unsat:
        return Consistency(True, "HermiT", f"consistent, but unsatisfiable classes: {unsat}", run.seconds, classified)
    return Consistency(True, "HermiT", "consistent", run.seconds, classified)


_HERMIT_LINE = re.compile(r"^(SubClassOf|EquivalentClasses|Type)\( ((?:<[^>]+>\s*)+)\)$", re.MULTILINE)


def _realisation(output: str) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """HermiT's ``-c -I`` output: each class's direct subclasses (equivalent classes are each
    other's) and the (individual, class) pairs of its realisation."""
    subclasses: dict[str, set[str]] = {}
    types: list[tuple[str, str]] = []
    for kind, iris in _HERMIT_LINE.findall(output):
        members = re.findall(r"<([^>]+)>", iris)
        if kind == "Type":
            types.append((members[0], members[1]))
        elif kind == "SubClassOf":
            subclasses.setdefault(members[1], set()).add(members[0])
        else:
            for a in members:
                subclasses.setdefault(a, set()).update(m for m in members if m != a)
    return subclasses, types


def _below(iri: str, subclasses: Mapping[str, set[str]]) -> set[str]:
    """``iri``, its equivalent classes and every class under them."""
    found, todo = {iri}, [iri]
    while todo:
        for sub in subclasses.get(todo.pop(), ()):
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def kb_consistency(kb: KnowledgeBase, *, watch: Iterable[str] = ()) -> Consistency:
    """OWL 2 DL consistency of the ontology plus all asserted data in ``kb`` (not provenance records)."""
    return check_consistency([kb.rdflib_graph(kb.knowledge_graphs())], watch=watch)


def ontology_consistency(ontology: rdflib.Graph) -> Consistency:
    """OWL 2 DL consistency of the ontology alone."""
    return check_consistency([ontology])


def derived_counts(kb: KnowledgeBase) -> dict[str, Any]:
    """Counts of inferred triples by property and of inferred types by class."""
    graph = f"<{INFERRED_GRAPH}>"  # our own constant, not user input
    props = kb.select(
        f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} GROUP BY ?p ORDER BY DESC(?n) ?p"
    )
    classes = kb.select(
        f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s a ?c }} }} GROUP BY ?c ORDER BY DESC(?n) ?c"
    )
    return {
        "triples": kb.count(INFERRED_GRAPH),
        "byProperty": {r["p"]: int(r["n"]) for r in props},
        "typesByClass": {r["c"]: int(r["n"]) for r in classes},
    }


__all__ = [
    "Consistency",
    "Materialisation",
    "check_consistency",
    "derived_counts",
    "kb_consistency",
    "materialise",
    "ontology_consistency",
    "rl_closure",
]
