"""Recomputing a domain rule for a few focus nodes on the triples reachable from them.

pyoxigraph evaluates a rule's WHERE group over the whole store before it joins the few focus
nodes a write affects, and it looks a pattern up once per graph of a ``USING`` list, so a
focused SPARQL update costs seconds on a large store. Instead, a rule's triple patterns are
followed from the focus nodes with indexed look-ups (``quads_for_pattern``) on the store as the
write will leave it (:class:`Overlay`), the triples found are copied into an in-memory store,
and the rule's own queries run there, unchanged.

The copy is complete for the focus nodes: a pattern is followed from a variable (or a constant
subject) whose every value in a solution is already known, so every triple a solution about a
focus node uses, or that an OPTIONAL, NOT EXISTS, MINUS or aggregate would read for it, is
copied. A query this cannot follow (a ``GRAPH`` or ``SERVICE`` pattern, a pattern reachable
only from a constant object) raises :class:`Unsupported`, and the caller falls back to the
SPARQL update.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath
from rdflib.plugins.sparql import algebra
from rdflib.plugins.sparql.parserutils import CompValue

from allianceld.rdf import formats, sparql_parse
from allianceld.reasoning import domain_rules
from allianceld.reasoning.domain_rules import DomainRule, Focus
from allianceld.store.knowledgebase import data_operation
from allianceld.store.remote_lookup import QuadSource

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Key = tuple[Term | None, Term | None, Term | None]


class Unsupported(ValueError):
    """The query has a part the look-ups cannot follow from its focus nodes."""


Quads = list[tuple[ox.NamedNode, ox.Triple]]


@dataclass(frozen=True)
class Carried:
    """What one write's :class:`Overlay` looked up in the store, as the store holds it once that
    write is made: ``read`` maps a pattern to its matches (graph, triple) in the graphs ``graphs``,
    and holds no match in any other graph (:meth:`Overlay.carried`)."""

    graphs: frozenset[str]
    read: dict[Key, Quads]


class Overlay:
    """The union of some graphs of an on-disk store as a write will leave them: ``replaced``
    graphs get their new triples, and :meth:`change` records triples that leave or join a graph."""

    def __init__(
        self,
        store: QuadSource,
        graphs: Iterable[str],
        replaced: Mapping[str, Iterable[ox.Triple]],
        carried: Carried | None = None,
    ) -> None:
        """``store``: pyoxigraph's store, or a remote store's look-ups (:mod:`allianceld.store.remote_lookup`).
        ``carried``: the previous write's look-ups (:meth:`carried`), when the store has not changed
        since it was made; they are used while every graph read from the store is among theirs."""
        self.store = store
        self.graphs: set[str] = set(graphs)
        self.pending: dict[str, set[ox.Triple]] = {g: set(ts) for g, ts in replaced.items()}
        self.replaced = set(self.pending)
        self.removed: dict[ox.NamedNode, set[ox.Triple]] = defaultdict(set)
        self._read: dict[Key, Quads] = {}
        self._used: set[Key] = set()  # the patterns this write looked up, carried to the next one
        self._covered: frozenset[str] | None = None  # the graphs of the carried look-ups, while used
        if carried is not None:
            self._read, self._covered = dict(carried.read), carried.graphs
            self._keep_covered()
        self._indexes: dict[str, dict[tuple[Any, Any, Any], list[ox.Triple]]] = {}  # of ``pending``, by graph
        self._nodes: dict[str, set[Term]] = {}  # the subjects and objects of ``pending``, by graph
        self._refresh()

    def add_graph(self, graph: str) -> None:
        """Include one more graph of the store (as the write leaves it)."""
        self.graphs.add(graph)
        self._keep_covered()
        self._refresh()

    def _keep_covered(self) -> None:
        """Forget the carried look-ups when a graph read from the store is not among theirs."""
        if self._covered is not None and not self.graphs - self.replaced <= self._covered:
            self._read, self._used, self._covered = {}, set(), None

    def carried(self, elsewhere: Iterable[str] = ()) -> Carried | None:
        """This write's look-ups (the patterns it asked) as the store holds them once the write is
        made, for the next write's overlay: its matches in the overlay's graphs less those the write
        removes, plus those it adds (a graph's new triples, :meth:`change`'s); the graphs
        ``elsewhere``, which the write changes otherwise, are left out. None when a changed triple
        would not be stored as it is (:func:`_stored_as_given`)."""
        if not all(_stored_as_given(ts) for ts in (*self.pending.values(), *self.removed.values())):
            return None
        graphs = frozenset(self.graphs - set(elsewhere))
        kept = {ox.NamedNode(g) for g in graphs} & self._stored
        removed, nodes = self.removed, self._pending_nodes
        read: dict[Key, Quads] = {}
        for key in self._used:
            quads = self._read[key]
            if quads:
                quads = [(g, t) for g, t in quads if g in kept and (g not in removed or t not in removed[g])]
            node = key[0] if key[0] is not None else key[2]
            if node is None or node in nodes:  # (the test of _pending_quads, spared a call for most)
                added = [(g, t) for g, t in self._pending_quads(*key) if g.value in graphs]
                if added:
                    quads = list(dict.fromkeys(quads + added))
            read[key] = quads
        return Carried(graphs, read)

    def change(self, graph: str, removed: Iterable[ox.Triple], added: Iterable[ox.Triple]) -> None:
        """Record that the write also removes and adds these triples of ``graph``."""
        gone, new = set(removed), set(added)
        node = ox.NamedNode(graph)
        self.removed[node] = (self.removed[node] - new) | gone
        self.pending[graph] = (self.pending.get(graph, set()) - gone) | new
        self._indexes.pop(graph, None)
        self._nodes.pop(graph, None)
        self._refresh()

    def _refresh(self) -> None:
        self._stored = frozenset(ox.NamedNode(g) for g in self.graphs - self.replaced)
        for graph in self.graphs & self.pending.keys() - self._indexes.keys():
            self._indexes[graph] = _index(self.pending[graph])
            self._nodes[graph] = {term for t in self.pending[graph] for term in (t.subject, t.object)}
        self._pending = [(ox.NamedNode(g), self._indexes[g]) for g in sorted(self.graphs) if self.pending.get(g)]
        self._pending_nodes = frozenset().union(*(self._nodes[g] for g in self.graphs & self._nodes.keys()))
        self._seen: dict[Key, list[ox.Triple]] = {}  # what the overlay matches, until it changes

    def match(self, s: Term | None, p: ox.NamedNode | None, o: Term | None) -> list[ox.Triple]:
        """The triples of the overlay matching a pattern (None: any term; a triple of two graphs
        may come twice), kept until the overlay changes: :meth:`step` asks the same patterns for
        several variables and rules, the costliest part of a write's rules."""
        key = (s, p, o)
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = self._stored_matches(s, p, o) + self._pending_matches(s, p, o)
        return seen

    def _stored_matches(self, s: Term | None, p: ox.NamedNode | None, o: Term | None) -> list[ox.Triple]:
        """The stored triples of the overlay's graphs matching a pattern, less those the write removes."""
        key = (s, p, o)
        quads = self._read.get(key)
        if quads is None:  # the store does not change under the write: each pattern is read once
            quads = self._read[key] = [(q.graph_name, q.triple) for q in self.store.quads_for_pattern(s, p, o, None)]
        self._used.add(key)
        stored, removed = self._stored, self.removed
        return [t for g, t in quads if g in stored and (g not in removed or t not in removed[g])]

    def _pending_matches(self, s: Term | None, p: ox.NamedNode | None, o: Term | None) -> list[ox.Triple]:
        """The triples the write puts into the graphs that match a pattern."""
        return [t for _, t in self._pending_quads(s, p, o)]

    def _pending_quads(self, s: Term | None, p: ox.NamedNode | None, o: Term | None) -> Quads:
        """The triples the write puts into the graphs that match a pattern, with their graph."""
        node = s if s is not None else o
        if node is not None and node not in self._pending_nodes:
            return []
        key = ("s", s, p) if s is not None else ("o", o, p) if o is not None else ("all", None, None)
        return [
            (graph, t)
            for graph, index in self._pending
            for t in index.get(key, ())
            if (o is None or t.object == o) and (s is None or t.subject == s) and (p is None or t.predicate == p)
        ]

    def step(
        self, p: ox.NamedNode, nodes: Iterable[Term], forward: bool, end: Term | None, found: set[ox.Triple]
    ) -> set[Term]:
        """The nodes one predicate leads to from ``nodes`` (forward: from subject to object; ``end``,
        when given, the only node wanted at the far end); the triples are added to ``found``."""
        if forward:
            patterns = [(node, p, end) for node in nodes if not isinstance(node, ox.Literal)]
        else:
            patterns = [] if isinstance(end, ox.Literal) else [(end, p, node) for node in nodes]
        self.prefetch((*pattern, None) for pattern in patterns)
        matched = [t for pattern in patterns for t in self.match(*pattern)]
        found.update(matched)
        return {t.object for t in matched} if forward else {t.subject for t in matched}

    def prefetch(self, patterns: Iterable[tuple[Term | None, ...]]) -> None:
        """On a remote store, look ``patterns`` up together (one query), before they are asked one by one."""
        prefetch = getattr(self.store, "prefetch", None)
        if prefetch is not None:
            prefetch(patterns)

    def graph_triples(self, graph: str, units: Iterable[tuple[Term, Term | None]]) -> set[ox.Triple]:
        """The triples of one graph of the store (not of the write) with a unit's subject and object
        (None: any object). A node that is the subject, or the object, of many units is read whole:
        one look-up instead of one per unit (a new membership of NATO gives the allied-states rule a
        unit of its state with each member, both ways round), unless it has many more triples
        there than units."""
        wanted = set(units)
        graph_name = ox.NamedNode(graph)
        found: set[ox.Triple] = set()
        left = set(wanted)
        for position in (0, 1):
            for node, group in _grouped(left, position).items():
                if len(group) >= _WHOLE:
                    pattern = (node, None, None) if position == 0 else (None, None, node)
                    self.prefetch([(*pattern, graph_name)])
                    most = _WHOLE_RATIO * len(group)
                    quads = list(itertools.islice(self.store.quads_for_pattern(*pattern, graph_name), most + 1))
                    if len(quads) <= most:
                        found.update(q.triple for q in quads)
                        left -= group
        self.prefetch((s, None, o, graph_name) for s, o in left)
        for s, o in left:
            found.update(q.triple for q in self.store.quads_for_pattern(s, None, o, graph_name))
        return {t for t in found if (t.subject, None) in wanted or (t.subject, t.object) in wanted}


def _stored_as_given(triples: Iterable[ox.Triple]) -> bool:
    """Whether the store would hold ``triples`` as they are: none has a blank node (a write makes
    it a new one) and pyoxigraph keeps their literals' lexical forms (it stores ``"01"^^xsd:integer``
    as ``"1"``), tried on an in-memory store."""
    literal = []
    for t in triples:
        if formats.has_blank_node(t):
            return False
        if isinstance(t.object, ox.Literal):
            literal.append(t)
    if not literal:
        return True
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in literal)
    return {q.triple for q in scratch} == set(literal)


_WHOLE = 8  # units of one node from which :meth:`Overlay.graph_triples` reads the node whole,
_WHOLE_RATIO = 4  # when it has at most this many triples per unit there


def _grouped(units: set[tuple[Term, Term | None]], position: int) -> dict[Term, set[tuple[Term, Term | None]]]:
    """``units`` by their subject (``position`` 0) or their object (1; those with any object left out)."""
    groups: dict[Term, set[tuple[Term, Term | None]]] = defaultdict(set)
    for unit in units:
        if unit[position] is not None:
            groups[unit[position]].add(unit)  # type: ignore[index]
    return groups


def _index(triples: set[ox.Triple]) -> dict[tuple[Any, Any, Any], list[ox.Triple]]:
    """Triples by subject or object, with and without their predicate."""
    index: dict[tuple[Any, Any, Any], list[ox.Triple]] = defaultdict(list)
    for t in triples:
        for key in (
            ("s", t.subject, t.predicate),
            ("s", t.subject, None),
            ("o", t.object, t.predicate),
            ("o", t.object, None),
            ("all", None, None),
        ):
            index[key].append(t)
    return dict(index)


# -- the patterns of a query ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A triple pattern; ``s``/``o`` are a variable name (str) or a constant term, ``path`` an
    IRI, a variable name (a variable predicate) or an rdflib property path."""

    s: str | Term
    path: Any
    o: str | Term


@dataclass
class Group:
    """A part of a query's WHERE group, as far as following it goes.

    ``kind`` is ``bgp`` (``patterns``), ``join`` (every part holds in every solution), ``optional``
    (``parts[0]`` with ``parts[1]`` where it matches), ``union`` (one of the parts), ``minus`` or
    ``exists`` (``parts[0]``, tested against ``parts[1]``), ``alias`` (``parts[0]``, then
    ``BIND (?alias[1] AS ?alias[0])``) or ``values`` (a VALUES block: not read, since it does not
    bound the values its variables may take elsewhere)."""

    kind: str
    parts: list[Group] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)
    alias: tuple[str, str] | None = None


_PASSED = {
    "SelectQuery",
    "ConstructQuery",
    "Distinct",
    "Reduced",
    "Slice",
    "OrderBy",
    "AggregateJoin",
    "Group",
    "ToMultiSet",
}


@lru_cache(maxsize=64)
def shape_of(query: str) -> Group:
    """The WHERE group of a query as a tree of :class:`Group` (its subqueries' own variables
    renamed apart). Raises :class:`Unsupported` for a part it does not know how to follow."""
    parsed = sparql_parse.prepared(query).algebra
    return _walk(parsed, {}, itertools.count(), top=parsed.name == "SelectQuery")


def _walk(node: Any, scope: dict[str, str], counter: itertools.count, *, top: bool = False) -> Group:
    if not isinstance(node, CompValue):
        raise Unsupported(f"a query part {node!r}")
    name = node.name
    if name == "GroupGraphPatternSub":  # an EXISTS group, as the parser left it
        return _walk(algebra.translateGroupGraphPattern(node), scope, counter)
    if name == "Project":
        if not top:  # a subquery: what it does not project is its own
            outer = {v: _var(v, scope) for v in (str(x) for x in node["PV"])}
            scope = _Scope(outer, f"_{next(counter)}_")
        return _walk(node["p"], scope, counter)
    if name in _PASSED:
        inner = _walk(node["p"], scope, counter, top=top)
        tests = _exists(node.get("expr"), scope, counter) + _exists(node.get("A"), scope, counter)
        return Group("join", [inner, *[Group("exists", [Group("join"), t]) for t in tests]]) if tests else inner
    if name == "BGP":
        return Group(
            "bgp",
            patterns=[Pattern(_node(s, scope), _predicate(p, scope), _node(o, scope)) for s, p, o in node["triples"]],
        )
    if name == "values":
        return Group("values")
    if name == "Join":
        return Group("join", [_walk(node["p1"], scope, counter), _walk(node["p2"], scope, counter)])
    if name == "Union":
        return Group("union", [_walk(node["p1"], scope, counter), _walk(node["p2"], scope, counter)])
    if name == "Minus":
        return Group("minus", [_walk(node["p1"], scope, counter), _walk(node["p2"], scope, counter)])
    if name == "LeftJoin":
        required, optional = _walk(node["p1"], scope, counter), _walk(node["p2"], scope, counter)
        tests = _exists(node.get("expr"), scope, counter)
        if tests:
            optional = Group("join", [optional, *[Group("exists", [Group("join"), t]) for t in tests]])
        return Group("optional", [required, optional])
    if name == "Filter":
        inner = _walk(node["p"], scope, counter)
        return Group(
            "join", [inner, *[Group("exists", [Group("join"), t]) for t in _exists(node["expr"], scope, counter)]]
        )
    if name == "Extend":
        inner = _walk(node["p"], scope, counter)
        tests = _exists(node["expr"], scope, counter)
        alias = (
            (_var(str(node["var"]), scope), _var(str(node["expr"]), scope))
            if isinstance(node["expr"], rdflib.Variable)
            else None
        )
        group = Group("alias", [inner], alias=alias)
        return Group("join", [group, *[Group("exists", [Group("join"), t]) for t in tests]]) if tests else group
    raise Unsupported(f"a {name} pattern")


def _exists(expr: Any, scope: dict[str, str], counter: itertools.count) -> list[Group]:
    """The graph patterns of the EXISTS / NOT EXISTS inside an expression."""
    found: list[Group] = []
    if isinstance(expr, list | tuple):
        for item in expr:
            found += _exists(item, scope, counter)
    elif isinstance(expr, CompValue):
        if expr.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            found.append(_walk(expr["graph"], scope, counter))
        else:
            for value in expr.values():
                found += _exists(value, scope, counter)
    return found


class _Scope(dict):
    """A subquery's variables: those it projects keep the outer names, the others are renamed."""

    def __init__(self, outer: dict[str, str], prefix: str) -> None:
        super().__init__(outer)
        self.prefix = prefix

    def __missing__(self, key: str) -> str:
        return self.prefix + key


def _var(name: str, scope: dict[str, str]) -> str:
    return scope[name] if isinstance(scope, _Scope) else scope.get(name, name)


def _node(term: Any, scope: dict[str, str]) -> str | Term:
    if isinstance(term, rdflib.Variable | rdflib.BNode):
        return _var(str(term), scope)
    return _ox(term)


def _predicate(term: Any, scope: dict[str, str]) -> Any:
    if isinstance(term, rdflib.Variable):
        return _var(str(term), scope)
    if isinstance(term, Path):
        return term
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    raise Unsupported(f"a predicate {term!r}")


def _ox(term: Any) -> Term:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    raise Unsupported(f"a term {term!r}")


# -- following the patterns -----------------------------------------------------------------------


def gather(overlay: Overlay, shape: Group, known: Mapping[str, Iterable[Term]]) -> set[ox.Triple]:
    """The triples of ``overlay`` that the patterns of ``shape`` reach from the ``known`` values
    of some variables (every value they take in the solutions wanted) and from constant
    subjects. Raises :class:`Unsupported` when a pattern cannot be reached.

    A pattern is followed from a variable only where that variable's values are complete: every
    solution of the part in which the pattern sits takes one of them (a variable bound in an
    OPTIONAL or in one UNION branch is not complete outside it). The values of a ``known``
    variable are its known ones only: a pattern that reaches others from another variable adds
    its triples, but those values lead nowhere further (no solution wanted takes them)."""
    walk = _Gathering(overlay, {k: set(v) for k, v in known.items()})
    complete = frozenset(known)
    while True:
        before = walk.progress
        walk.group(shape, complete)
        if walk.progress == before:
            break
    missing = [p for p in patterns(shape) if id(p) not in walk.side]
    if missing:
        raise Unsupported(f"no variable with known values leads to {missing[0]}")
    return walk.found


def patterns(group: Group) -> Iterator[Pattern]:
    """Every triple pattern of ``group`` and of the groups inside it."""
    yield from group.patterns
    for part in group.parts:
        yield from patterns(part)


class _Gathering:
    """The state of :func:`gather`: the values found for each variable, the end each pattern is
    followed from and the values it was followed from already."""

    def __init__(self, overlay: Overlay, values: dict[str, set[Term]]) -> None:
        self.overlay, self.values = overlay, values
        self.found: set[ox.Triple] = set()
        self.side: dict[int, str] = {}
        # by pattern and end, not by place: the same pattern in two UNION branches reads the same
        # values of the same variables, and reaches the same triples
        self.done: dict[tuple[Pattern, str], set[Term]] = defaultdict(set)
        self.given = frozenset(values)  # the known variables, whose values do not grow
        self.progress = 0

    def group(self, group: Group, complete: frozenset[str]) -> frozenset[str]:
        """Follow the patterns of ``group`` from the ``complete`` variables; returns the variables
        complete after it (for every solution of the group)."""
        kind = group.kind
        if kind == "bgp":
            return self.bgp(group.patterns, complete)
        if kind == "values":
            return complete
        if kind == "join":
            while True:
                grown = complete
                for part in group.parts:
                    grown = self.group(part, grown)
                if grown == complete:
                    return complete
                complete = grown
        if kind == "optional":
            required = self.group(group.parts[0], complete)
            self.group(group.parts[1], required)
            return required
        if kind in ("minus", "exists"):
            kept = self.group(group.parts[0], complete)
            self.group(group.parts[1], kept)
            return kept
        if kind == "union":
            branches = [self.group(part, complete) for part in group.parts]
            return frozenset.intersection(*branches)
        if kind == "alias":
            inner = self.group(group.parts[0], complete)
            if group.alias is not None and group.alias[1] in inner:
                target, source = group.alias
                self._reach(target, self.values[source])
                return inner | {target}
            return inner
        raise AssertionError(kind)

    def bgp(self, patterns: list[Pattern], complete: frozenset[str]) -> frozenset[str]:
        while True:
            waiting = []
            for pat in patterns:
                if id(pat) in self.side:
                    continue
                # forward first: a subject has few values of a property (a membership one
                # alliance), an object often many (an alliance every membership); then from a
                # known variable (the memberships of the states asked about, not every
                # membership of their alliances)
                ends = [
                    (end != "s", e not in self.given, len(self.values.get(e, ())), end)
                    for end, e in (("s", pat.s), ("o", pat.o))
                    if isinstance(e, str) and e in complete
                ]
                if ends:
                    waiting.append((*min(ends), pat))
                elif not isinstance(pat.s, str):
                    waiting.append((False, False, 1, "s", pat))
            if waiting:
                *_, end, pat = min(waiting, key=lambda w: w[:3])
                self.side[id(pat)] = end
            grown = set(complete)
            for pat in patterns:
                end = self.side.get(id(pat))
                if end is None:
                    continue
                start, other = (pat.s, pat.o) if end == "s" else (pat.o, pat.s)
                if isinstance(start, str) and start not in complete:
                    continue  # followed from a variable complete in another part only
                nodes = self.values.get(start, set()) if isinstance(start, str) else {start}
                done = self.done[(pat, end)]
                new = nodes - done if len(nodes) != len(done) else None  # values only grow
                if new:
                    done |= new
                    self.progress += 1
                    reached = _follow(
                        self.overlay,
                        pat.path,
                        new,
                        end == "s",
                        None if isinstance(other, str) else other,
                        self.values,
                        self.found,
                    )
                    if isinstance(other, str):
                        self._reach(other, reached)
                if isinstance(other, str):
                    grown.add(other)
            if not waiting and frozenset(grown) == complete:
                return complete
            complete = frozenset(grown)

    def _reach(self, variable: str, nodes: set[Term]) -> None:
        """Add ``nodes`` to the values of ``variable``, unless its values are known."""
        if variable not in self.given:
            self.values.setdefault(variable, set()).update(nodes)


def _follow(
    overlay: Overlay,
    path: Any,
    nodes: set[Term],
    forward: bool,
    end: Term | None,
    values: dict[str, set[Term]],
    found: set[ox.Triple],
) -> set[Term]:
    """The nodes ``path`` leads to from ``nodes`` (forward: from subject to object); the triples
    it went through are added to ``found``. ``end``, a constant at the far end, narrows a simple
    look-up."""
    if isinstance(path, ox.NamedNode | rdflib.URIRef):
        p = path if isinstance(path, ox.NamedNode) else ox.NamedNode(str(path))
        return overlay.step(p, nodes, forward, end, found)
    if isinstance(path, str):  # a variable predicate
        reached: set[Term] = set()
        for node in nodes:
            if not isinstance(node, ox.NamedNode | ox.BlankNode) and forward:
                continue
            pattern = (node, None, end) if forward else (end, None, node)
            for t in overlay.match(*pattern):  # type: ignore[arg-type]
                found.add(t)
                reached.add(t.object if forward else t.subject)  # type: ignore[arg-type]
                values.setdefault(path, set()).add(t.predicate)
        return reached
    if isinstance(path, InvPath):
        return _follow(overlay, path.arg, nodes, not forward, end, values, found)
    if isinstance(path, SequencePath):
        steps = path.args if forward else list(reversed(path.args))
        current = nodes
        for step in steps:
            current = _follow(overlay, step, current, forward, None, values, found)
        return current
    if isinstance(path, AlternativePath):
        return set().union(*(_follow(overlay, a, nodes, forward, end, values, found) for a in path.args))
    if isinstance(path, MulPath):
        reached = set(nodes) if path.zero else set()
        frontier = set(nodes)
        seen = set(nodes)
        while frontier:
            step = _follow(overlay, path.path, frontier, forward, None, values, found)
            reached |= step
            if not path.more:
                break
            frontier = step - seen
            seen |= step
        return reached
    raise Unsupported(f"the property path {path}")


# -- a rule's focused recomputation -----------------------------------------------------------------

_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_CONTEXT = "urn:x-allianceld:rule-context"


def focused_update(overlay: Overlay, rule: DomainRule, foci: Iterable[Focus], changed: list[ox.NamedNode]) -> str:
    """``DELETE DATA`` / ``INSERT DATA`` operations that bring ``rule``'s graph up to date for
    ``foci`` (found before the write) and the units its ``ald:affectedBy`` finds for ``changed``
    after it, computed on the triples reachable from them; the change is recorded in
    ``overlay`` for the rules after this one. Empty text when nothing changes. Raises
    :class:`Unsupported` when a query cannot be followed (nothing is recorded then)."""
    units: set[Focus] = set(foci)
    if changed:
        context = gather(overlay, shape_of(rule.affected_by), {"changed": set(changed)})
        units |= domain_rules.found_units(
            rule,
            _scratch(context).query(domain_rules.affected_query(rule, changed), default_graph=ox.NamedNode(_CONTEXT)),
        )
    if not units:
        return ""
    this = {u[0] if isinstance(u, tuple) else u for u in units}
    known: dict[str, set[Term]] = {"this": set(this)}
    if rule.pairs:
        known["object"] = {u[1] for u in units if isinstance(u, tuple)}
    context = gather(overlay, shape_of(rule.construct), known)
    focus_class = ox.NamedNode(rule.focus_class)
    for node in this:
        context.update(overlay.match(node, _TYPE, focus_class))
    derived = _scratch(context).query(domain_rules.units_query(rule, units), default_graph=ox.NamedNode(_CONTEXT))
    new = {t for t in derived if isinstance(t, ox.Triple)}
    old = overlay.graph_triples(rule.graph, (unit if isinstance(unit, tuple) else (unit, None) for unit in units))
    gone, added = old - new, new - old
    if any(isinstance(term, ox.BlankNode) for t in gone | added for term in t):
        raise Unsupported("a derived triple with a blank node cannot be written as data")
    overlay.change(rule.graph, gone, added)
    ops = (
        data_operation(keyword, rule.graph, sorted(ts, key=str))
        for keyword, ts in (("DELETE", gone), ("INSERT", added))
    )
    return " ;\n".join(op for op in ops if op)


def _scratch(triples: Iterable[ox.Triple]) -> ox.Store:
    """An in-memory store with ``triples`` in the named graph :data:`_CONTEXT`."""
    store = ox.Store()
    context = ox.NamedNode(_CONTEXT)
    store.extend(ox.Quad(t.subject, t.predicate, t.object, context) for t in triples)
    return store
