"""The SPARQL 1.1 Protocol's ``using-graph-uri`` / ``using-named-graph-uri`` for updates.

The protocol (section 2.2.3) lets a request name the RDF dataset of the WHERE clause of every
DELETE/INSERT operation in it; pyoxigraph takes no dataset for an update, so the request is
rewritten: the SPARQL tokeniser (:mod:`allianceld.rdf.sparql_text`) splits it into
operations at top-level ``;`` and writes ``USING <iri>`` / ``USING NAMED <iri>`` before the
WHERE of each modify operation (``DELETE WHERE {P}`` becomes ``DELETE {P} USING … WHERE {P}``).
The IRIs are checked and written by pyoxigraph, never pasted from the request.

>>> with_dataset("INSERT { GRAPH <http://g> { ?s a <http://c> } } WHERE { ?s ?p ?o }", ["http://d"], [])
'INSERT { GRAPH <http://g> { ?s a <http://c> } } USING <http://d> WHERE { ?s ?p ?o }'
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from allianceld.errors import BadRequest, QuerySyntaxError
from allianceld.rdf import sparql_text
from allianceld.rdf.sparql_text import Token


def tokenize(update: str) -> list[Token]:
    """The significant tokens of ``update`` (white space and comments dropped).

    Raises :class:`QuerySyntaxError` for an unterminated string or unbalanced braces.
    """
    found, braces = [], 0
    for token in sparql_text.tokens(update):
        if token.kind == "error" and token.text in "'\"":
            raise QuerySyntaxError(f"SPARQL Update syntax error: unterminated string at offset {token.start}")
        if token.text == "{":
            braces += 1
        elif token.text == "}":
            braces -= 1
            if braces < 0:
                raise QuerySyntaxError(f"SPARQL Update syntax error: unbalanced '}}' at offset {token.start}")
        if token.significant:
            found.append(token)
    if braces:
        raise QuerySyntaxError("SPARQL Update syntax error: a '{' is never closed")
    return found


def _top(token: Token, *names: str) -> bool:
    """True for a top-level word that is one of the keywords ``names`` (any case)."""
    return token.depth == 0 and token.keyword(*names)


def operations(update: str) -> list[list[Token]]:
    """The tokens of each operation of the request (split at top-level ``;``), prologues included."""
    ops: list[list[Token]] = [[]]
    for token in tokenize(update):
        if token.text == ";" and token.depth == 0:
            ops.append([])
        else:
            ops[-1].append(token)
    return [op for op in ops if op]


def _body(op: list[Token]) -> list[Token]:
    """The operation without its prologue (PREFIX and BASE declarations)."""
    i = 0
    while i < len(op):
        if _top(op[i], "PREFIX"):
            i += 3  # PREFIX pname: <iri>
        elif _top(op[i], "BASE"):
            i += 2  # BASE <iri>
        else:
            break
    return op[i:]


def _dataset_clause(graphs: Sequence[str], named: Sequence[str]) -> str:
    """``USING <a> USING NAMED <b>`` for the protocol's parameters; 400 for a value that is not an IRI."""
    parts = []
    for keyword, iris in (("USING", graphs), ("USING NAMED", named)):
        for iri in iris:
            try:
                node = ox.NamedNode(iri)
            except ValueError:
                raise BadRequest(f"not an absolute IRI: {iri!r}", parameter="using-graph-uri") from None
            parts.append(f"{keyword} {node}")
    return " ".join(parts)


def with_dataset(update: str, graphs: Sequence[str], named: Sequence[str]) -> str:
    """``update`` with the dataset of ``using-graph-uri`` (``graphs``) and ``using-named-graph-uri``
    (``named``) written into each of its DELETE/INSERT … WHERE operations.

    Raises :class:`BadRequest` when the request already has a USING, USING NAMED or WITH clause
    (the protocol forbids giving both), or when a parameter is not an IRI.
    """
    clause = _dataset_clause(graphs, named)
    if not clause:
        return update
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the original text
    for op in operations(update):
        body = _body(op)
        if not body:
            continue
        if _top(body[0], "WITH") or any(_top(t, "USING") for t in body):
            raise BadRequest(
                "the update has a USING, USING NAMED or WITH clause and the request gives using-graph-uri or "
                "using-named-graph-uri: give the dataset one way only (SPARQL 1.1 Protocol, section 2.2.3)",
                parameter="using-graph-uri",
            )
        first, second = body[0], (body[1] if len(body) > 1 else None)
        if _top(first, "DELETE") and second is not None and _top(second, "WHERE"):
            # DELETE WHERE {P}  ->  DELETE {P} USING … WHERE {P}
            span = _group(body, 2)
            if span is not None:
                pattern = update[span[0] : span[1]]
                edits.append((second.start, span[1], f"{pattern} {clause} WHERE {pattern}"))
        elif _top(first, "DELETE", "INSERT") and not (second is not None and _top(second, "DATA")):
            where = next((t for t in body if _top(t, "WHERE")), None)
            if where is not None:
                edits.append((where.start, where.start, f"{clause} "))
    for start, end, replacement in sorted(edits, reverse=True):
        update = update[:start] + replacement + update[end:]
    return update


def _group(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """The text span of the ``{ … }`` group starting at ``tokens[i]``, or None if there is none."""
    if i >= len(tokens) or tokens[i].text != "{":
        return None
    depth = tokens[i].depth
    for t in tokens[i + 1 :]:
        if t.text == "}" and t.depth == depth + 1:
            return tokens[i].start, t.end
    return None
