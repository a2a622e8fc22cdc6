"""Keeping the OWL 2 RL inferences current after a write, without recomputing the closure.

The write's net change to the asserted triples is propagated through the compiled rules
(:mod:`allianceld.reasoning.rl_rules`) with the store's indexes for every join: insertions semi-naively,
deletions by delete-and-rederive (DRed: over-delete every inference that used a removed triple,
then re-derive those that still follow from what is left). The cost follows the write and its
consequences, not the size of the store.

The result is the change to the inferred graph: it equals what a full recomputation by
``reasonable`` gives (tests/reasoning/test_rl_engine.py checks both on the same writes). Writes the rules
cannot follow incrementally raise :class:`NeedsFullRecompute`: a change to the vocabulary, an
owl:sameAs derived between two individuals (the RL equality rules rewrite everything), blank
nodes (the inferred graph keeps no triple about them), or an empty inferred graph.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from allianceld.rdf import formats
from allianceld.reasoning.rl_rules import SAME_AS, TYPE, Atom, Rule, Ruleset, Term, is_schema_triple
from allianceld.store.remote_lookup import QuadSource
from allianceld.vocab import ONTOLOGY_IRI

Bindings = dict[str, Term]
Contains = Callable[[ox.Triple], bool]
Match = Callable[[Term | None, Term | None, Term | None], Iterator[ox.Triple]]

_OWL = "http://www.w3.org/2002/07/owl#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_SCHEMA = (_OWL, _RDFS, _RDF, _XSD)
_UNINFORMATIVE = {_OWL + "Thing", _RDFS + "Resource", _OWL + "NamedIndividual"}
_NOT_INDIVIDUALS = (*_SCHEMA, ONTOLOGY_IRI)  # the vocabularies' terms and the ontology's own


class NeedsFullRecompute(Exception):
    """The write cannot be followed incrementally; recompute the closure (the message says why)."""


@dataclass(frozen=True)
class Clash:
    """An individual that is an instance of two disjoint classes."""

    individual: Term
    first: Term
    second: Term
    axiom: str

    def message(self) -> str:
        return f"{self.individual} would be both {self.first} and {self.second}, but {self.axiom}"


@dataclass
class InferenceChange:
    """What a write changes in the inferred graph (``removed``, ``added``), the net change to the
    asserted triples it follows from, and the disjointness it would violate."""

    removed: set[ox.Triple] = field(default_factory=set)
    added: set[ox.Triple] = field(default_factory=set)
    clashes: list[Clash] = field(default_factory=list)
    asserted_removed: set[ox.Triple] = field(default_factory=set)
    asserted_added: set[ox.Triple] = field(default_factory=set)

    def nodes(self) -> set[ox.NamedNode]:
        """The IRIs that are subject or object of a changed triple, asserted or inferred."""
        changed = self.removed | self.added | self.asserted_removed | self.asserted_added
        return {n for t in changed for n in (t.subject, t.object) if isinstance(n, ox.NamedNode)}


def worth_keeping(t: ox.Triple) -> bool:
    """The inferred graph keeps facts about individuals: not the vocabulary's own closure, not
    owl:Thing typing, not reflexive sameAs, nothing about blank nodes or class expressions."""
    s = t.subject
    if not isinstance(s, ox.NamedNode) or s.value.startswith(_NOT_INDIVIDUALS):
        return False
    o = t.object
    if isinstance(o, ox.BlankNode):
        return False
    p = t.predicate
    if p == TYPE:
        return not (isinstance(o, ox.NamedNode) and o.value in _UNINFORMATIVE)
    if p == SAME_AS:
        return s != o
    return not p.value.startswith(_SCHEMA)


class TripleIndex:
    """A small in-memory set of triples with look-ups by any bound positions."""

    def __init__(self, triples: Iterable[ox.Triple] = ()) -> None:
        self.all: set[ox.Triple] = set()
        self._idx: dict[tuple[int, Term], set[ox.Triple]] = {}
        for t in triples:
            self.add(t)

    def add(self, t: ox.Triple) -> bool:
        if t in self.all:
            return False
        self.all.add(t)
        for i, term in enumerate((t.subject, t.predicate, t.object)):
            self._idx.setdefault((i, term), set()).add(t)
        return True

    def __contains__(self, t: object) -> bool:
        return t in self.all

    def __len__(self) -> int:
        return len(self.all)

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self.all)

    def match(self, s: Term | None, p: Term | None, o: Term | None) -> Iterator[ox.Triple]:
        bound = [(i, t) for i, t in enumerate((s, p, o)) if t is not None]
        if not bound:
            yield from self.all
            return
        smallest = min((self._idx.get(b, set()) for b in bound), key=len)
        for t in smallest:
            if (s is None or t.subject == s) and (p is None or t.predicate == p) and (o is None or t.object == o):
                yield t


def _bind(slot: object, b: Bindings) -> Term | None:
    if isinstance(slot, str):
        return b.get(slot)
    return slot  # type: ignore[return-value]


def _unify(atom: Atom, t: ox.Triple, b: Bindings) -> Bindings | None:
    out = dict(b)
    for slot, term in zip(atom, (t.subject, t.predicate, t.object), strict=True):
        if isinstance(slot, str):
            if slot in out and out[slot] != term:
                return None
            out[slot] = term
        elif slot != term:
            return None
    return out


def _order(atoms: list[Atom], b: Bindings) -> Atom:
    """The atom to join next: the one with most positions already bound."""
    return max(atoms, key=lambda a: sum(1 for s in a if not isinstance(s, str) or s in b))


def solutions(body: Iterable[Atom], b: Bindings, match: Match) -> Iterator[Bindings]:
    """Every extension of ``b`` that matches all of ``body`` in ``match``."""
    rest = list(body)
    if not rest:
        yield b
        return
    atom = _order(rest, b)
    rest.remove(atom)
    s, p, o = (_bind(x, b) for x in atom)
    for t in match(s, p, o):
        nb = _unify(atom, t, b)
        if nb is not None:
            yield from solutions(rest, nb, match)


def instantiate(atom: Atom, b: Bindings) -> ox.Triple | None:
    s, p, o = (_bind(x, b) for x in atom)
    if s is None or p is None or o is None or isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
        return None
    if p == TYPE and not isinstance(o, ox.NamedNode):
        return None
    return ox.Triple(s, p, o)


def consequences(rules: Ruleset, t: ox.Triple, match: Match) -> Iterator[tuple[ox.Triple, Rule]]:
    """The heads of rule instances that use ``t`` for one of their body atoms, joined in ``match``."""
    for rule, i in rules.triggered_by(t):
        b = _unify(rule.body[i], t, {})
        if b is None:
            continue
        for sol in solutions(rule.body[:i] + rule.body[i + 1 :], b, match):
            if rule.distinct and sol[rule.distinct[0]] == sol[rule.distinct[1]]:
                continue
            head = instantiate(rule.head, sol)
            if head is not None:
                yield head, rule


def derivations(rules: Ruleset, t: ox.Triple, match: Match) -> Iterator[tuple[Rule, Bindings]]:
    """Rule instances concluding ``t`` whose body holds in ``match``."""
    for rule in rules.concluding(t):
        b = _unify(rule.head, t, {})
        if b is None:
            continue
        for sol in solutions(rule.body, b, match):
            if rule.distinct and sol[rule.distinct[0]] == sol[rule.distinct[1]]:
                continue
            yield rule, sol


class StoreView:
    """The closure as the store holds it, seen through its indexes: asserted triples of the
    knowledge graphs (owl:sameAs identity links left out, as in full reasoning) and the inferred graph."""

    def __init__(self, store: QuadSource, knowledge_graphs: Iterable[str], inferred_graph: str) -> None:
        """``store``: pyoxigraph's store, or a remote store's look-ups (:mod:`allianceld.store.remote_lookup`)."""
        self.store = store
        self.knowledge = {ox.NamedNode(g) for g in knowledge_graphs}
        self.inferred = ox.NamedNode(inferred_graph)

    def quads(self, s: Term | None, p: Term | None, o: Term | None) -> Iterator[ox.Quad]:
        if p == SAME_AS:
            yield from (q for q in self.store.quads_for_pattern(s, p, o, self.inferred))  # type: ignore[arg-type]
            return
        for q in self.store.quads_for_pattern(s, p, o, None):  # type: ignore[arg-type]
            if q.graph_name in self.knowledge or q.graph_name == self.inferred:
                yield q

    def triples(self, s: Term | None, p: Term | None, o: Term | None) -> Iterator[ox.Triple]:
        """The closure's triples matching a pattern (a :data:`Match`)."""
        for q in self.quads(s, p, o):
            yield q.triple

    def is_asserted(self, t: ox.Triple, graphs: Collection[ox.NamedNode] | None = None) -> bool:
        """Whether ``t`` is asserted in one of the knowledge graphs (or of ``graphs``); identity
        links (owl:sameAs) never count as asserted here."""
        if t.predicate == SAME_AS:
            return False
        wanted = self.knowledge if graphs is None else graphs
        return any(q.graph_name in wanted for q in self.store.quads_for_pattern(t.subject, t.predicate, t.object, None))

    def is_inferred(self, t: ox.Triple) -> bool:
        """Whether the inferred graph holds ``t``."""
        return any(True for _ in self.store.quads_for_pattern(t.subject, t.predicate, t.object, self.inferred))


def maintain(
    rules: Ruleset,
    view: StoreView,
    replaced: Mapping[str, tuple[Iterable[ox.Triple], Iterable[ox.Triple]]],
) -> InferenceChange:
    """The change to the inferred graph when each graph in ``replaced`` goes from its old triples
    to its new ones (both given). Raises :class:`NeedsFullRecompute` where it cannot follow."""
    replaced_nodes = {ox.NamedNode(g) for g in replaced}
    new_content = TripleIndex()
    old_union: set[ox.Triple] = set()
    for old, new in replaced.values():
        old_union.update(old)
        for t in new:
            new_content.add(t)
    kept_graphs = view.knowledge - replaced_nodes

    def asserted_elsewhere(t: ox.Triple) -> bool:
        return view.is_asserted(t, kept_graphs)

    removed = {t for t in old_union - new_content.all if t.predicate != SAME_AS and not asserted_elsewhere(t)}
    added_all = {t for t in new_content.all - old_union if t.predicate != SAME_AS and not asserted_elsewhere(t)}
    for t in removed | added_all:
        if is_schema_triple(t):
            raise NeedsFullRecompute(f"the write changes the vocabulary ({t})")
        if formats.has_blank_node(t):
            raise NeedsFullRecompute("the write has blank nodes")

    inferred_old = view.is_inferred
    asserted_old = view.is_asserted

    def asserted_new(t: ox.Triple) -> bool:
        return t.predicate != SAME_AS and (t in new_content or asserted_elsewhere(t))

    added = {t for t in added_all if not asserted_old(t)}

    # 1. over-delete: every inference that used a removed triple, directly or not
    over = TripleIndex(removed)
    frontier = list(removed)
    while frontier:
        nxt = []
        for t in frontier:
            for head, _ in consequences(rules, t, view.triples):
                if head not in over and not asserted_new(head) and inferred_old(head):
                    over.add(head)
                    nxt.append(head)
        frontier = nxt

    # the closure after the deletions, with the additions and new inferences layered on top
    derived = TripleIndex()
    fresh = TripleIndex(added)

    def in_mid(t: ox.Triple) -> bool:
        return t not in over and (asserted_old(t) or inferred_old(t))

    def match_mid(s: Term | None, p: Term | None, o: Term | None) -> Iterator[ox.Triple]:
        for t in view.triples(s, p, o):
            if t not in over:
                yield t

    def match_new(s: Term | None, p: Term | None, o: Term | None) -> Iterator[ox.Triple]:
        seen: set[ox.Triple] = set()
        for source in (match_mid(s, p, o), fresh.match(s, p, o), derived.match(s, p, o)):
            for t in source:
                if t not in seen:
                    seen.add(t)
                    yield t

    def in_new(t: ox.Triple) -> bool:
        return t in fresh or t in derived or in_mid(t)

    # 2. re-derive what still follows from what is left (one step; the propagation below does the rest)
    frontier = []
    for t in over:
        if next(derivations(rules, t, match_mid), None) is not None and worth_keeping(t):
            derived.add(t)
            frontier.append(t)
    # 3. insert: semi-naive propagation of the additions and the re-derived triples
    frontier += list(added)
    while frontier:
        nxt = []
        for t in frontier:
            # materialised first: adding to `derived` while its index is being iterated is an error
            for head, rule in list(consequences(rules, t, match_new)):
                if in_new(head):
                    continue
                if head.predicate == SAME_AS:
                    raise NeedsFullRecompute(f"{rule.axiom} makes {head.subject} and {head.object} the same")
                if worth_keeping(head):
                    derived.add(head)
                    nxt.append(head)
        frontier = nxt

    change = InferenceChange(asserted_removed=removed, asserted_added=added)
    for t in over.all | added:
        if inferred_old(t) and (t not in derived or asserted_new(t)):
            change.removed.add(t)
    for t in derived.all:
        if not asserted_new(t) and not (inferred_old(t) and t not in over):
            change.added.add(t)
    change.removed -= change.added
    change.clashes = _clashes(rules, [*added, *derived.all], match_new)
    return change


def clashes_among(rules: Ruleset, triples: Iterable[ox.Triple]) -> list[Clash]:
    """Disjointness violated among the type triples of ``triples`` (cax-dw, cax-adc), e.g. a
    whole closure's: the members of each pair of disjoint classes that are in both."""
    members: dict[Term, set[Term]] = {d.first: set() for d in rules.disjoint}
    members.update({d.second: set() for d in rules.disjoint})
    for t in triples:
        if t.predicate == TYPE and (found := members.get(t.object)) is not None:
            found.add(t.subject)
    clashes: dict[tuple[Term, frozenset[Term]], Clash] = {}
    for d in rules.disjoint:
        for node in sorted(members[d.first] & members[d.second], key=str):
            clashes.setdefault((node, frozenset((d.first, d.second))), Clash(node, d.first, d.second, d.axiom))
    return list(clashes.values())


def _clashes(rules: Ruleset, new: Iterable[ox.Triple], match: Match) -> list[Clash]:
    """Disjointness violated by the new type triples (cax-dw, cax-adc)."""
    found: dict[tuple[Term, frozenset[Term]], Clash] = {}
    for t in new:
        if t.predicate != TYPE:
            continue
        for d in rules.disjoint_with(t.object):
            other = d.second if d.first == t.object else d.first
            if next(match(t.subject, TYPE, other), None) is not None:
                key = (t.subject, frozenset((d.first, d.second)))
                found.setdefault(key, Clash(t.subject, t.object, other, d.axiom))
    return list(found.values())


__all__ = [
    "Clash",
    "InferenceChange",
    "NeedsFullRecompute",
    "StoreView",
    "TripleIndex",
    "clashes_among",
    "consequences",
    "derivations",
    "maintain",
    "solutions",
    "worth_keeping",
]
