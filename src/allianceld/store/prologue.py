"""The prologue of a SPARQL query sent to a remote endpoint (its ``BASE`` and ``PREFIX``
declarations) and the query form after it, read with the project's SPARQL tokeniser.

A remote endpoint takes no base parameter, so the request's base is written into the query as a
``BASE``. Virtuoso accepts one ``BASE`` only, and only before any ``PREFIX``; SPARQL 1.1 allows
several anywhere in the prologue, each resolved against the one before it and each ``PREFIX`` IRI
against the base in force where it is declared. :meth:`Prologue.one_base` resolves them all as
pyoxigraph does and sends one ``BASE``, the one in force at the end of the prologue, first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from allianceld.rdf.sparql_text import spans

FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_RESOLVER = ox.Store()  # empty: evaluates IRI() only, with pyoxigraph's own resolution (as the embedded store)
_REFERENCE = ox.Variable("reference")


@dataclass(frozen=True)
class Declaration:
    """``BASE <iri>`` (``prefix`` None) or ``PREFIX prefix <iri>``; ``iri`` as written (unescaped)."""

    prefix: str | None
    iri: str


@dataclass(frozen=True)
class Prologue:
    """The declarations a query begins with, the offset of the text after them (``end``), and the
    query form that follows (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``; None when the text
    does not read as a query there). ``complete``: False when a declaration could not be read."""

    sparql: str
    declarations: tuple[Declaration, ...]
    end: int
    form: str | None
    complete: bool = True

    def one_base(self, base_iri: str | None) -> str:
        """The query with one ``BASE`` at most, in first place: the base in force after its prologue
        (``base_iri``, then each ``BASE`` of its own resolved against the one before), every ``PREFIX``
        IRI made absolute against the base in force where it is declared. A query without a ``BASE``
        of its own gets ``BASE <base_iri>`` before its text (or stays as it is without ``base_iri``);
        one whose prologue cannot be read or resolved is sent as it is, after ``BASE <base_iri>``, for
        the endpoint to report. ValueError when ``base_iri`` is not an absolute IRI.

        >>> read("BASE <sub/> PREFIX e: <e/> SELECT (e:x AS ?x) {}").one_base("http://h/sparql")
        'BASE <http://h/sub/>\\nPREFIX e: <http://h/sub/e/>\\nSELECT (e:x AS ?x) {}'
        >>> read("SELECT * { <s> ?p ?o }").one_base("http://h/sparql")
        'BASE <http://h/sparql>\\nSELECT * { <s> ?p ?o }'
        """
        base = str(ox.NamedNode(base_iri)) if base_iri else None
        if not self.complete or all(d.prefix is not None for d in self.declarations):
            return f"BASE {base}\n{self.sparql}" if base else self.sparql
        current: ox.NamedNode | None = ox.NamedNode(base_iri) if base_iri else None
        prefixes: list[str] = []
        for declaration in self.declarations:
            iri = resolve(declaration.iri, current)
            if iri is None:
                return f"BASE {base}\n{self.sparql}" if base else self.sparql
            if declaration.prefix is None:
                current = iri
            else:
                prefixes.append(f"PREFIX {declaration.prefix} {iri}\n")
        return f"BASE {current}\n{''.join(prefixes)}{self.sparql[self.end :]}"


def read(sparql: str) -> Prologue:
    """The prologue of ``sparql``, read token by token up to the query form (the rest of the text is
    not tokenised).

    >>> p = read("PREFIX e: <http://e/>\\n# a comment\\nbase <b> construct WHERE {}")
    >>> p.declarations, p.form
    ((Declaration(prefix='e:', iri='http://e/'), Declaration(prefix=None, iri='b')), 'CONSTRUCT')
    """
    declarations: list[Declaration] = []
    expected: list[str] = []  # the kinds of token the declaration being read still needs
    words: list[str] = []
    for kind, start, end in spans(sparql):
        if kind in ("space", "comment"):
            continue
        text = sparql[start:end]
        if expected:
            if kind != expected.pop(0) or (kind == "pname" and text.index(":") != len(text) - 1):
                return Prologue(sparql, tuple(declarations), start, None, complete=False)
            words.append(text)
            if not expected:
                iri = _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), words[-1][1:-1])
                declarations.append(Declaration(words[0] if len(words) == 2 else None, iri))
                words = []
            continue
        keyword = text.upper() if kind == "word" else ""
        if keyword == "BASE":
            expected = ["iri"]
        elif keyword == "PREFIX":
            expected = ["pname", "iri"]
        else:
            return Prologue(sparql, tuple(declarations), start, keyword if keyword in FORMS else None)
    return Prologue(sparql, tuple(declarations), len(sparql), None, complete=not expected)


def resolve(reference: str, base: ox.NamedNode | None) -> ox.NamedNode | None:
    """``reference`` resolved against ``base`` as pyoxigraph resolves a query's IRIs (RFC 3986);
    None when it is not an IRI reference, or is relative and there is no base.

    >>> resolve("../e/", ox.NamedNode("http://h/a/b"))
    <NamedNode value=http://h/e/>
    >>> resolve("e/", None)
    """
    if base is None:
        try:
            return ox.NamedNode(reference)
        except ValueError:
            return None
    result = _RESOLVER.query(
        "SELECT ?reference (IRI(?reference) AS ?iri) {}",
        base_iri=base.value,
        substitutions={_REFERENCE: ox.Literal(reference)},
    )
    assert isinstance(result, ox.QuerySolutions)
    iri = next(iter(result))["iri"]
    return iri if isinstance(iri, ox.NamedNode) else None
