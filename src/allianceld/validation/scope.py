"""What a write can change in a validation report, so that validating it costs what it changes.

A shape reads the data around its focus node along paths: ``sh:path`` (each alternative of it),
the value checks on the nodes a path reaches (``sh:class`` reads their ``rdf:type``, ``sh:closed``
every predicate), the other predicate of a pair constraint, and the triple patterns of SPARQL
constraints, measured from ``$this``. :class:`Reach` derives those read steps from the shapes
themselves (every node typed as a shape, and every subject of a target). When every shape reads
at most two steps from its focus node (true of allianceld's shapes), a changed triple ``(a p b)``
can only change the results of

* ``a`` and ``b`` themselves (a one-step read, or a target), and
* the nodes one step away that read ``p`` as their second step: for a read ``q1`` then ``p``
  (each forward or inverse), the nodes that reach ``a`` (or ``b``) by ``q1``.

:func:`scope` finds those focus nodes with index look-ups in the store and gathers the triples
their shapes read (two steps around them) as the context of a small validation run, with the
class hierarchy the data holds; a literal is a focus node too when a shape reads the triples
naming it. When the shapes read further (a path repeating over the data), or the class hierarchy
or the ontology itself changes, it returns None: validate everything.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from allianceld.rdf import sparql_parse
from allianceld.rdf.formats import rdflib_term
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import targeted, triples_of
from allianceld.vocab import ONTOLOGY_GRAPH, SH

ANY = "*"  # a read step whose predicate is a variable
ONTOLOGY_STEPS = {str(RDFS.subClassOf), str(RDFS.subPropertyOf)}
SUBCLASS_OF = ox.NamedNode(str(RDFS.subClassOf))  # read in the ontology, always at hand
Step = tuple[str, bool]  # (predicate IRI or ANY, forward?)
# SHACL-SPARQL terms whose queries run on the value nodes of any path ($PATH) or select focus nodes
FREE_READS = (SH.parameter, SH.validator, SH.nodeValidator, SH.propertyValidator, SH.ask, SH.target)
VALUE_CHECKS = (SH["class"], SH.node, SH.qualifiedValueShape, SH["or"], SH["and"], SH.xone, SH["not"], SH.property)


class Unbounded(Exception):
    """A shape reads further than two steps from its focus node."""


@dataclass
class Reach:
    """The read steps of a set of shapes: one-step reads and two-step reads ``(first, second)``."""

    first: set[Step] = field(default_factory=set)
    second: set[tuple[Step, Step]] = field(default_factory=set)
    object_targets: set[str] = field(default_factory=set)  # sh:targetObjectsOf: one witness is enough
    bounded: bool = True

    @classmethod
    def of(cls, shapes: rdflib.Graph) -> Reach:
        """Derive the read steps of every shape in ``shapes``; ``bounded`` is False when one reads
        more than two steps from its focus node (then only a full validation is exact)."""
        reach = cls()
        try:
            for p in FREE_READS:
                if (None, p, None) in shapes:
                    raise Unbounded(f"{p}: a SPARQL-based constraint component or target reads what its query reads")
            declared = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
            for shape in declared | set(targeted(shapes)):  # a subject of a target is a shape, typed or not
                reach._shape(shapes, shape, ())
            for holder, _p, _c in shapes.triples((None, SH.sparql, None)):
                path = shapes.value(holder, SH.path)
                if path is not None and not isinstance(path, rdflib.URIRef):
                    raise Unbounded(f"$PATH is {path}: its steps come before the constraint's own patterns")
            prefixes = _declared_prefixes(shapes)
            for select in shapes.objects(None, SH.select):
                reach._sparql(str(select), prefixes)
            for p in shapes.objects(None, SH.targetSubjectsOf):
                reach.first.add((str(p), True))
            reach.object_targets |= {str(p) for p in shapes.objects(None, SH.targetObjectsOf)}
        except Unbounded:
            reach.bounded = False
        return reach

    def then(self, middle: dict[Any, set[Step]], node: Any, predicate: str, *, forward: bool) -> None:
        """Record in ``middle`` the second steps read from ``node``, reached from a focus node by
        ``predicate`` (forward or not)."""
        for (q1, fwd1), second in self.second:
            if fwd1 == forward and q1 in (ANY, predicate):
                middle.setdefault(node, set()).add(second)

    def _add(self, steps: tuple[Step, ...]) -> None:
        steps = tuple(s for s in steps if s[0] not in ONTOLOGY_STEPS)
        if len(steps) > 2:
            raise Unbounded(steps)
        if len(steps) == 1:
            self.first.add(steps[0])
        elif len(steps) == 2:
            self.first.add(steps[0])
            self.second.add((steps[0], steps[1]))

    def _shape(self, g: rdflib.Graph, shape: Any, prefix: tuple[Step, ...]) -> None:
        """Record the reads of a shape applied to nodes reached by ``prefix``."""
        for pred in (SH.lessThan, SH.lessThanOrEquals, SH.equals, SH.disjoint):
            for other in g.objects(shape, pred):
                self._add((*prefix, (str(other), True)))
        if (shape, SH.closed, rdflib.Literal(True)) in g:  # every predicate of the node
            self._add((*prefix, (ANY, True)))
        path = g.value(shape, SH.path)
        for steps in _path_steps(g, path) if path is not None else [()]:
            here = prefix + steps
            if len(here) > len(prefix):
                self._add(here)
            if (shape, SH["class"], None) in g:
                self._add((*here, (str(RDF.type), True)))
            for check in (SH.node, SH.qualifiedValueShape, SH["not"], SH.property):
                for nested in g.objects(shape, check):
                    self._shape(g, nested, here)
            if (shape, SH.qualifiedValueShapesDisjoint, rdflib.Literal(True)) in g:
                for sibling in _siblings(g, shape):  # the values are checked against them too
                    self._shape(g, sibling, here)
            for combine in (SH["or"], SH["and"], SH.xone):
                for members in g.objects(shape, combine):
                    for nested in rdflib.collection.Collection(g, members):
                        self._shape(g, nested, here)

    def _sparql(self, text: str, prefixes: dict[str, str]) -> None:
        """Record the reads of a SPARQL constraint: each triple pattern, at its distance from $this."""
        try:
            patterns = list(_patterns(sparql_parse.prepared(text, None, prefixes).algebra))
        except Exception as exc:  # rdflib raises bare Exceptions; the engines say what is wrong
            raise Unbounded(f"a SPARQL constraint that does not parse: {exc}") from None
        this = rdflib.Variable("this")
        distance: dict[Any, tuple[Step, ...]] = {this: ()}
        changed = True
        while changed:  # shortest read sequence from $this to every term of the patterns
            changed = False
            for s, p, o in patterns:
                for near, far, forward in ((s, o, True), (o, s, False)):
                    if near in distance and not isinstance(far, rdflib.Literal):
                        steps = distance[near] + tuple((iri, fwd == forward) for iri, fwd in _pattern_steps(p))
                        if far not in distance or len(_data(steps)) < len(_data(distance[far])):
                            distance[far] = steps
                            changed = True
        for s, p, o in patterns:
            if s not in distance and o not in distance:
                raise Unbounded(f"a pattern not connected to $this in {text!r}")
            via = s if s in distance else o
            forward = via is s
            self._add(distance[via] + tuple((iri, fwd == forward) for iri, fwd in _pattern_steps(p)))


def _siblings(g: rdflib.Graph, shape: Any) -> set[Any]:
    """The qualified value shapes of the other property shapes of ``shape``'s parents (SHACL 4.7.3)."""
    own = set(g.objects(shape, SH.qualifiedValueShape))
    parents = set(g.subjects(SH.property, shape))
    others = {o for parent in parents for o in g.objects(parent, SH.property)}
    return {q for other in others for q in g.objects(other, SH.qualifiedValueShape)} - own


def _data(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    return tuple(s for s in steps if s[0] not in ONTOLOGY_STEPS)


def _declared_prefixes(g: rdflib.Graph) -> dict[str, str]:
    return {str(g.value(d, SH.prefix)): str(g.value(d, SH.namespace)) for d in g.objects(None, SH.declare)}


def _patterns(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """Every triple pattern anywhere in a SPARQL algebra tree (FILTER NOT EXISTS included)."""
    if isinstance(node, CompValue):
        if node.name == "BGP":
            yield from node["triples"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _patterns(value)


def _pattern_steps(p: Any) -> tuple[Step, ...]:
    """The forward steps of a pattern's predicate (a variable reads any predicate)."""
    if isinstance(p, rdflib.Variable):
        return ((ANY, True),)
    if isinstance(p, Path):
        return _rdflib_path_steps(p)
    return ((str(p), True),)


def _rdflib_path_steps(p: Any) -> tuple[Step, ...]:
    if isinstance(p, SequencePath):
        return tuple(s for part in p.args for s in _rdflib_path_steps(part))
    if isinstance(p, InvPath):
        return tuple((iri, not fwd) for iri, fwd in reversed(_rdflib_path_steps(p.arg)))
    if isinstance(p, MulPath):
        inner = _rdflib_path_steps(p.path)
        if all(iri in ONTOLOGY_STEPS for iri, _ in inner):
            return inner
        raise Unbounded(f"a repeated path over data: {p}")
    if isinstance(p, AlternativePath):
        raise Unbounded(f"an alternative path: {p}")
    if isinstance(p, rdflib.URIRef):
        return ((str(p), True),)
    raise Unbounded(f"a path allianceld cannot bound: {p}")


def _path_steps(g: rdflib.Graph, path: Any) -> list[tuple[Step, ...]]:
    """The step sequences a SHACL property path may take (one per alternative; a zero-or-one path
    may take none); Unbounded when a repetition walks the data."""
    if isinstance(path, rdflib.URIRef):
        return [((str(path), True),)]
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return [tuple((iri, not fwd) for iri, fwd in reversed(steps)) for steps in _path_steps(g, inverse)]
    if (path, RDF.first, None) in g:
        found: list[tuple[Step, ...]] = [()]
        for part in rdflib.collection.Collection(g, path):
            found = [done + more for done in found for more in _path_steps(g, part)]
        return found
    members = g.value(path, SH.alternativePath)
    if members is not None:
        return [steps for member in rdflib.collection.Collection(g, members) for steps in _path_steps(g, member)]
    optional = g.value(path, SH.zeroOrOnePath)
    if optional is not None:
        return [(), *_path_steps(g, optional)]
    for repeat in (SH.zeroOrMorePath, SH.oneOrMorePath):
        inner = g.value(path, repeat)
        if inner is not None:
            walks = _path_steps(g, inner)
            if all(iri in ONTOLOGY_STEPS for steps in walks for iri, _fwd in steps):
                return [(), *walks] if repeat == SH.zeroOrMorePath else walks
            raise Unbounded(f"a repeated path over data: {path}")
    raise Unbounded(f"a SHACL path allianceld cannot bound: {path}")


# -- the scope of one write ---------------------------------------------------------------------


@dataclass
class Scope:
    """The nodes whose results a write can change, the nodes it mentions, and what their shapes read
    (pyoxigraph triples, blank node labels those of the store and of the written graph)."""

    focus: set[rdflib.term.Node]
    mentioned: set[rdflib.term.Node]
    context: list[ox.Triple]


def scope(kb: KnowledgeBase, incoming: rdflib.Graph, replacing: Iterable[str], reach: Reach) -> Scope | None:
    """The scope of writing ``incoming`` in place of the graphs ``replacing`` in ``kb``; None when
    only a full validation is exact (the shapes read too far, or the ontology is replaced)."""
    replaced = set(replacing)
    if not reach.bounded or ONTOLOGY_GRAPH in replaced:
        return None
    changed = changed_triples(kb, incoming, replaced)
    if any(p == RDFS.subClassOf for _s, p, _o in changed):  # the instances of every class below may change
        return None
    view = _View(kb, incoming, [g for g in kb.data_graphs() if g not in replaced])

    focus = mentioned(changed)
    named = set(focus)
    # a literal is a focus node (sh:targetNode, sh:targetObjectsOf) read by the triples naming it as object
    firsts_in = {q for q, fwd in reach.first if not fwd} | reach.object_targets
    literals = {o for _s, p, o in changed if isinstance(o, rdflib.Literal) and ({ANY, str(p)} & firsts_in)}
    focus |= literals | {_as_stored(t) for t in literals}  # as rdflib writes it, and as pyoxigraph stores it
    walks: dict[tuple[str, bool], set[Any]] = {}  # (q1, direction) -> the nodes to walk it from
    for (q1, fwd1), (q2, fwd2) in reach.second:
        for s, p, o in changed:
            middle = s if fwd2 else o
            if q2 in (ANY, str(p)) and not isinstance(middle, rdflib.Literal):
                walks.setdefault((q1, not fwd1), set()).add(middle)  # the focus reached `middle` by q1
    for (q1, forward), middles in walks.items():
        focus |= view.neighbours(list(middles), None if q1 == ANY else q1, forward=forward)

    context: dict[ox.Triple, None] = {}  # each triple once, in a stable order
    context.update(dict.fromkeys(view.subclasses()))  # the class hierarchy the data holds: a class target reads it
    context.update(dict.fromkeys(view.naming(sorted(literals), firsts_in)))
    nodes = [n for n in map(_ox_node, focus) if n is not None]
    firsts_in = {q for q, fwd in reach.first if not fwd}
    middle: dict[Any, set[Step]] = {}  # a node one step from a focus node -> the second steps read from it
    for t in view.around(nodes, None, forward=True):
        context[t] = None
        if not isinstance(t.object, ox.Literal):
            reach.then(middle, t.object, t.predicate.value, forward=True)
    for t in view.around(nodes, firsts_in, forward=False):
        context[t] = None
        reach.then(middle, t.subject, t.predicate.value, forward=False)
    for pred in sorted(reach.object_targets):  # a node is the target of sh:targetObjectsOf p: one triple says so
        context.update(dict.fromkeys(view.around(nodes, {pred}, forward=False, limit=1)))
    for forward in (True, False):
        for preds, group in _grouped(middle, forward).items():
            context.update(dict.fromkeys(view.around(group, preds, forward=forward)))
    return Scope(focus, named, list(context))


def _grouped(middle: dict[Any, set[Step]], forward: bool) -> dict[frozenset[str] | None, list[Any]]:
    """The ``middle`` nodes by the predicates to read from them in one direction (None: every one;
    every one forward from a blank node, which a report describes by its triples)."""
    groups: dict[frozenset[str] | None, list[Any]] = {}
    for node, steps in middle.items():
        preds: frozenset[str] | None = frozenset(q for q, fwd in steps if fwd == forward)
        if preds is not None and (ANY in preds or (forward and isinstance(node, ox.BlankNode))):
            preds = None
        if preds != frozenset():
            groups.setdefault(preds, []).append(node)
    return groups


def changed_triples(kb: KnowledgeBase, incoming: rdflib.Graph, replacing: Iterable[str]) -> set[Any]:
    """The triples the write adds or removes: ``incoming`` against the graphs it replaces."""
    replaced = set(replacing) & set(kb.graphs())
    old = {_rdflib_triple(q) for q in kb.quads(sorted(replaced))}
    new = set(incoming)
    return (old - new) | (new - old)


def mentioned(triples: Iterable[tuple[Any, Any, Any]]) -> set[Any]:
    """The nodes (not literals) that ``triples`` name as subject or object."""
    return {n for s, _p, o in triples for n in (s, o) if not isinstance(n, rdflib.Literal)}


OxNode = ox.NamedNode | ox.BlankNode


class _View:
    """The data as it would be after the write: the store's kept graphs plus the incoming triples,
    read as pyoxigraph triples (the incoming ones as the validation store reads an rdflib graph)."""

    def __init__(self, kb: KnowledgeBase, incoming: rdflib.Graph, graphs: list[str]) -> None:
        self.kb, self.graphs = kb, set(graphs)
        self.incoming = triples_of(incoming)
        self.out: dict[Any, list[ox.Triple]] = {}
        self.into: dict[Any, list[ox.Triple]] = {}
        for t in self.incoming:
            self.out.setdefault(t.subject, []).append(t)
            self.into.setdefault(t.object, []).append(t)

    def around(
        self, nodes: list[OxNode], predicates: Collection[str] | None, *, forward: bool, limit: int | None = None
    ) -> Iterator[ox.Triple]:
        """The triples with one of ``nodes`` as subject (object when not ``forward``); at most
        ``limit`` from the incoming data and ``limit`` per node from the store, when given."""
        if predicates is not None and ANY in predicates:
            predicates = None
        if predicates is not None and not predicates:
            return
        preds = None if predicates is None else [ox.NamedNode(p) for p in sorted(predicates)]
        index = self.out if forward else self.into
        for node in nodes:
            found = index.get(node, [])
            for pred in preds or [None]:
                yield from itertools.islice((t for t in found if pred in (None, t.predicate)), limit)
        for quad in self.kb.match(nodes, preds, incoming=not forward, graphs=self.graphs, limit=limit):
            yield quad.triple

    def subclasses(self) -> Iterator[ox.Triple]:
        """The rdfs:subClassOf triples of the data (the ontology's are given to every validation)."""
        yield from (t for t in self.incoming if t.predicate == SUBCLASS_OF)
        if self.graphs:
            query = f"SELECT ?s ?o WHERE {{ ?s {SUBCLASS_OF} ?o }}"
            for row in self.kb.query(query, default_graph_uris=sorted(self.graphs)):
                yield ox.Triple(row["s"], SUBCLASS_OF, row["o"])

    def naming(self, literals: list[Any], predicates: set[str]) -> Iterator[ox.Triple]:
        """The triples with one of ``literals`` as object and one of ``predicates`` (any when ANY)."""
        for literal in literals:
            term = _ox_literal(literal)
            for p in [None] if ANY in predicates else [ox.NamedNode(q) for q in sorted(predicates)]:
                yield from (t for t in self.into.get(term, []) if p in (None, t.predicate))
                if not self.graphs:
                    continue
                bound = {"o": term} | ({} if p is None else {"p": p})
                rows = self.kb.query(
                    "SELECT ?s ?p WHERE { ?s ?p ?o }", substitutions=bound, default_graph_uris=sorted(self.graphs)
                )
                for row in rows:
                    yield ox.Triple(row["s"], p if p is not None else row["p"], term)

    def neighbours(self, nodes: list[Any], predicate: str | None, *, forward: bool) -> set[Any]:
        """The nodes (rdflib's) one ``predicate`` step from ``nodes`` (any predicate when None)."""
        start = [n for n in map(_ox_node, nodes) if n is not None]
        found = set()
        for t in self.around(start, None if predicate is None else {predicate}, forward=forward):
            found.add(t.object if forward else t.subject)
        return {rdflib_term(n) for n in found if not isinstance(n, ox.Literal)}


def _ox_node(node: Any) -> ox.NamedNode | ox.BlankNode | None:
    if isinstance(node, rdflib.URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        return ox.BlankNode(str(node))
    return None


def _ox_literal(literal: rdflib.Literal) -> ox.Literal:
    if literal.language:
        return ox.Literal(str(literal), language=literal.language)
    return ox.Literal(str(literal), datatype=ox.NamedNode(str(literal.datatype)) if literal.datatype else None)


def _as_stored(literal: rdflib.Literal) -> rdflib.Literal:
    """``literal`` in the form pyoxigraph stores it ("1e0"^^xsd:double as "1", where rdflib writes "1.0")."""
    store = ox.Store()
    node = ox.NamedNode("urn:x-allianceld:literal")
    store.add(ox.Quad(node, node, _ox_literal(literal)))
    stored = next(iter(store)).object
    assert isinstance(stored, ox.Literal)
    if stored.language or stored.datatype.value == str(XSD.string):
        return rdflib_term(stored)
    return rdflib.Literal(stored.value, datatype=rdflib.URIRef(stored.datatype.value), normalize=False)


def _rdflib_triple(quad: ox.Quad | ox.Triple) -> tuple[Any, Any, Any]:
    return (rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object))
