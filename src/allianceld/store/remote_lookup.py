"""Pattern look-ups on a remote SPARQL store, shaped like pyoxigraph's ``Store.quads_for_pattern``.

The incremental reasoners (:class:`allianceld.reasoning.rl_engine.StoreView`,
:class:`allianceld.reasoning.domain_rule_scope.Overlay`) follow a write from its triples with many
small look-ups. On a remote store each look-up is a SELECT whose bound terms are joined as a VALUES
block (serialised by pyoxigraph, never pasted text); its answer is kept for the life of the
:class:`RemoteLookup`, which is one write: the store does not change under a write of this process.
Look-ups of one shape are answered together (:meth:`RemoteLookup.prefetch`), one query for many nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import pyoxigraph as ox

from allianceld.store.backends import SparqlBackend

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Pattern = tuple[Term | None, Term | None, Term | None, Term | ox.DefaultGraph | None]

_VARS = ("s", "p", "o", "g")
_BLANK = ox.NamedNode("urn:x-allianceld:remote-blank-node")
# nodes per VALUES block of one prefetch query (a request's form body stays well under endpoints' limits)
BATCH = 400


class QuadSource(Protocol):
    """What the incremental reasoners read a store through: pyoxigraph's ``Store`` or :class:`RemoteLookup`."""

    def quads_for_pattern(
        self, subject: Term | None, predicate: Term | None, object: Term | None, graph_name: object = None
    ) -> Iterable[ox.Quad]: ...


class BlankNodeLookup(ValueError):
    """A look-up names a blank node of the remote store, which a query cannot name."""


class RemoteLookup:
    """``quads_for_pattern`` over a :class:`SparqlBackend`, memoised; only named graphs are seen
    (``graph_name`` None means any named graph). ``queries`` counts the requests sent."""

    def __init__(self, backend: SparqlBackend) -> None:
        self.backend = backend
        self.queries = 0
        self._memo: dict[Pattern, list[ox.Quad]] = {}
        self._subjects: dict[Term, list[ox.Quad]] = {}  # every quad of these subjects

    def quads_for_pattern(
        self, subject: Term | None, predicate: Term | None, object: Term | None, graph_name: object = None
    ) -> list[ox.Quad]:
        """The quads matching a pattern (None: any term). Raises :class:`BlankNodeLookup` for a bound
        blank node, and ValueError for the default graph (a remote store's is not allianceld's)."""
        key = _key(subject, predicate, object, graph_name)
        if subject is not None and subject in self._subjects:
            return [q for q in self._subjects[subject] if _matches(q, key)]
        found = self._memo.get(key)
        if found is None:
            self.prefetch([key])
            found = self._memo[key]
        return found

    def prefetch(self, patterns: Iterable[Pattern]) -> None:
        """Answer ``patterns`` (each as :meth:`quads_for_pattern` takes its arguments) with as few
        queries as their shapes allow: patterns binding the same positions share one query."""
        by_shape: dict[tuple[bool, ...], list[Pattern]] = {}
        for pattern in patterns:
            key = _key(*pattern)
            if key not in self._memo:
                by_shape.setdefault(tuple(t is not None for t in key), []).append(key)
        for shape, keys in by_shape.items():
            unique = list(dict.fromkeys(keys))
            # a bound literal is asked alone: a store may answer it in another lexical form
            # (Virtuoso), which would not find its pattern among many
            alone = {k for k in unique if any(isinstance(t, ox.Literal) for t in k)}
            for key in alone:
                self._answer(shape, [key])
            together = [k for k in unique if k not in alone]
            for start in range(0, len(together), BATCH):
                self._answer(shape, together[start : start + BATCH])

    def prefetch_subjects(self, nodes: Iterable[Term]) -> None:
        """Read every quad whose subject is one of the IRIs ``nodes``, a query per :data:`BATCH`;
        look-ups with one of them as subject are then answered here."""
        wanted = sorted({n for n in nodes if isinstance(n, ox.NamedNode) and n not in self._subjects}, key=str)
        for start in range(0, len(wanted), BATCH):
            keys: list[Pattern] = [(n, None, None, None) for n in wanted[start : start + BATCH]]
            self._answer((True, False, False, False), keys)
            for key in keys:
                self._subjects[key[0]] = self._memo.pop(key)  # type: ignore[index]

    def _answer(self, shape: tuple[bool, ...], keys: Sequence[Pattern]) -> None:
        bound = [v for v, b in zip(_VARS, shape, strict=True) if b]
        rows = " ".join(f"({' '.join(str(t) for t in key if t is not None)})" for key in keys)
        values = f"VALUES ({' '.join('?' + v for v in bound)}) {{ {rows} }}" if bound else ""
        blank = f"{_BLANK}"
        sparql = (
            f"SELECT ?g (IF(isBlank(?s), {blank}, ?s) AS ?bs) ?p (IF(isBlank(?o), {blank}, ?o) AS ?bo) "
            f"WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        self.queries += 1
        for key in keys:
            self._memo[key] = []
        for row in self.backend.select(sparql):
            quad = ox.Quad(_term(row["bs"]), row["p"], _term(row["bo"]), row["g"])  # type: ignore[arg-type]
            key = keys[0] if len(keys) == 1 else _shaped(quad, shape)
            self._memo.setdefault(key, []).append(quad)


def _term(term: Term) -> Term:
    """A term of an answer: the store's blank nodes (whose labels a query cannot name, and which
    Virtuoso writes as no parser reads them) come back as the marker, each a new blank node here."""
    return ox.BlankNode() if term == _BLANK else term


def _matches(quad: ox.Quad, pattern: Pattern) -> bool:
    terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
    return all(want is None or want == term for want, term in zip(pattern, terms, strict=True))


def _shaped(quad: ox.Quad, shape: tuple[bool, ...]) -> Pattern:
    """The pattern of ``shape`` that ``quad`` answers (its terms where the shape binds one)."""
    terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
    return tuple(t if b else None for t, b in zip(terms, shape, strict=True))  # type: ignore[return-value]


def _key(s: object, p: object, o: object, g: object = None) -> Pattern:
    for term in (s, p, o, g):
        if isinstance(term, ox.BlankNode):
            raise BlankNodeLookup(f"a remote store's blank node ({term}) cannot be looked up")
        if isinstance(term, ox.DefaultGraph):
            raise ValueError("a remote store's default graph is not looked up")
    return (s, p, o, g)  # type: ignore[return-value]


def quad_source(backend: object) -> QuadSource:
    """Where one write's look-ups go: the embedded store itself, or a new :class:`RemoteLookup`."""
    if isinstance(backend, SparqlBackend):
        return RemoteLookup(backend)
    store = getattr(backend, "store", None)
    if store is None:
        raise TypeError(f"no pattern look-ups on {type(backend).__name__}")
    return store  # type: ignore[no-any-return]


__all__ = ["BATCH", "BlankNodeLookup", "QuadSource", "RemoteLookup", "quad_source"]
