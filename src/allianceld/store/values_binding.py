"""Binding variables of a query (allianceld's own query text) to terms with a VALUES block.

SPARQL 1.1 joins a trailing ``VALUES`` clause with the WHERE pattern before ORDER BY, LIMIT and the
projection; Virtuoso joins it with the answer after them (so ``ORDER BY ?v LIMIT 1 VALUES ?a {…}``
finds the first row of all and then keeps it only if it is about ``?a``, and an unprojected
variable is "No column"). The block is put inside the WHERE clause instead, joined with the whole
of it (``WHERE { { … } VALUES … }``): the same answers by the standard, on every store.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox

from allianceld.rdf import sparql_text


def with_values(sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal | ox.BlankNode]) -> str:
    """``sparql`` with ``bindings`` (variable name -> term) joined with its WHERE clause. The terms
    are serialised by pyoxigraph (as N-Triples terms): no text of a user is pasted into the query.
    A query without a WHERE group (``DESCRIBE <iri>``) gets a trailing VALUES clause.

    >>> with_values("SELECT ?v WHERE { ?a ?p ?v } LIMIT 1", {"a": ox.NamedNode("http://a")})
    'SELECT ?v WHERE { { ?a ?p ?v } VALUES (?a) { (<http://a>) } } LIMIT 1'
    """
    names = list(bindings)
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(str(bindings[n]) for n in names)}) }}"
    try:
        start = sparql_text.where_start(sparql)  # just after the WHERE group's brace
    except ValueError:
        return f"{sparql}\n{block}"
    end = next(t.start for t in sparql_text.tokens(sparql) if t.kind == "close" and t.depth == 1 and t.start >= start)
    return f"{sparql[:start]} {{{sparql[start:end]}}} {block} {sparql[end:]}"
