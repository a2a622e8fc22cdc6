"""Binding variables of a query (allianceld's own query text) to terms with a VALUES block.

SPARQL 1.1 joins a trailing ``VALUES`` clause with the WHERE pattern before ORDER BY, LIMIT and the
projection; Virtuoso joins it with the answer after them (so ``ORDER BY ?v LIMIT 1 VALUES ?a {…}``
finds the first row of all and then keeps it only if it is about ``?a``, and an unprojected
variable is "No column"). The block is put inside the WHERE clause instead, joined with the whole
of it (``WHERE { { … } VALUES … }``): the same answers by the standard, on every store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyoxigraph as ox

_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_STRING = re.compile(
    r"'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\""
    r"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
)
_CONSTRUCT_TEMPLATE = re.compile(r"\bCONSTRUCT\s*$", re.IGNORECASE)


def top_level_groups(sparql: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the groups ``{ … }`` at the top level of ``sparql``: the braces of
    IRIs, strings and comments do not count.

    >>> q = 'SELECT ?x WHERE { ?x ?p "}" . { ?x ?q <http://a/#x> } } ORDER BY ?x'
    >>> [q[s : e + 1] for s, e in top_level_groups(q)]
    ['{ ?x ?p "}" . { ?x ?q <http://a/#x> } }']
    """
    groups: list[tuple[int, int]] = []
    depth, start, i = 0, 0, 0
    while i < len(sparql):
        c = sparql[i]
        found = (_IRI.match(sparql, i) if c == "<" else None) or (_STRING.match(sparql, i) if c in "'\"" else None)
        if found:
            i = found.end()
            continue
        if c == "#":
            end = sparql.find("\n", i)
            i = len(sparql) if end < 0 else end
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                groups.append((start, i))
        i += 1
    return groups


def with_values(sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal | ox.BlankNode]) -> str:
    """``sparql`` with ``bindings`` (variable name -> term) joined with its WHERE clause. The terms
    are serialised by pyoxigraph (as N-Triples terms): no text of a user is pasted into the query.
    A query without a WHERE group (``DESCRIBE <iri>``) gets a trailing VALUES clause.

    >>> with_values("SELECT ?v WHERE { ?a ?p ?v } LIMIT 1", {"a": ox.NamedNode("http://a")})
    'SELECT ?v WHERE { { ?a ?p ?v } VALUES (?a) { (<http://a>) } } LIMIT 1'
    """
    names = list(bindings)
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(str(bindings[n]) for n in names)}) }}"
    groups = top_level_groups(sparql)
    if groups and _CONSTRUCT_TEMPLATE.search(sparql[: groups[0][0]]):
        groups = groups[1:]  # CONSTRUCT's template comes before its WHERE clause
    if not groups:
        return f"{sparql}\n{block}"
    start, end = groups[0]
    return f"{sparql[: start + 1]} {{{sparql[start + 1 : end]}}} {block} {sparql[end:]}"
