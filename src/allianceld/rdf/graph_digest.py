"""A digest of a graph that does not depend on its blank node labels, in polynomial time.

Blank nodes are named by colour refinement (Weisfeiler-Leman): each starts with one colour, and
each round a node's colour becomes the hash of its colour and the sorted (predicate, direction,
neighbour) of its triples, a neighbour being an IRI, a literal or another blank node's colour,
until the colours stop splitting (a round per blank node at most, each linear in the graph's
size). Isomorphic graphs get the same digest. When every blank node ends with a colour of its
own, the colours are a canonical naming, and equal digests mean equal graphs up to renaming
(``exact``); otherwise (symmetric blank nodes, as in ``_:a :p _:b . _:b :p _:a``) two different
graphs may share a digest. Canonical naming of symmetric graphs in general takes time exponential
in the number of blank nodes, which a client could exploit: it is not attempted.

>>> a = [ox.Triple(ox.BlankNode("x"), ox.NamedNode("http://e/p"), ox.Literal("1"))]
>>> b = [ox.Triple(ox.BlankNode("y"), ox.NamedNode("http://e/p"), ox.Literal("1"))]
>>> digest(a) == digest(b) and digest(a).exact
True
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox


class Digest(str):
    """The SHA-256 (hex) of the graph's N-Triples with blank nodes named by their colours, and
    whether those names are canonical (each blank node a colour of its own)."""

    exact: bool

    def __new__(cls, value: str, exact: bool) -> Digest:
        made = super().__new__(cls, value)
        made.exact = exact
        return made


@dataclass(frozen=True)
class _Edge:
    predicate: str
    forward: bool
    other: ox.BlankNode | str  # a blank node, or the N-Triples text of an IRI or literal


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(triples: Iterable[ox.Triple]) -> Digest:
    """The digest of ``triples`` (a graph: repeated triples count once)."""
    graph = set(triples)
    edges: dict[ox.BlankNode, list[_Edge]] = defaultdict(list)
    for t in graph:
        if isinstance(t.subject, ox.BlankNode):
            other = t.object if isinstance(t.object, ox.BlankNode) else str(t.object)
            edges[t.subject].append(_Edge(str(t.predicate), True, other))
        if isinstance(t.object, ox.BlankNode):
            other = t.subject if isinstance(t.subject, ox.BlankNode) else str(t.subject)
            edges[t.object].append(_Edge(str(t.predicate), False, other))
    colour = dict.fromkeys(edges, "")
    classes = 1 if colour else 0
    for _ in range(len(colour)):  # at most one round per blank node: each round splits a class or ends
        colour = {
            node: _sha(
                colour[node]
                + "|".join(
                    sorted(
                        f"{e.predicate}{'>' if e.forward else '<'}"
                        f"{colour[e.other] if isinstance(e.other, ox.BlankNode) else e.other}"
                        for e in node_edges
                    )
                )
            )
            for node, node_edges in edges.items()
        }
        split = len(set(colour.values()))
        if split == classes:
            break
        classes = split

    def text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
        return f"_:c{colour[term][:32]}" if isinstance(term, ox.BlankNode) else str(term)

    lines = sorted({f"{text(t.subject)} {text(t.predicate)} {text(t.object)} .\n" for t in graph})
    return Digest(_sha("".join(lines)), exact=classes == len(colour))
