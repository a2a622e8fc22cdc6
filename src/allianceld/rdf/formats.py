"""Reading and writing RDF: syntaxes by file extension or media type, errors with line and column."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from allianceld import collector
from allianceld.errors import RdfSyntaxError, UnsupportedMediaType
from allianceld.rdf import depth, literals, xml_guard

# media type -> pyoxigraph format (graph syntaxes accepted for writes)
MEDIA_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
EXTENSIONS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
}
# media type -> pyoxigraph format (graph syntaxes offered to readers, the first one the default)
OUTPUT_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
_POSITION = re.compile(r"line (\d+) column (\d+)")
_NESTED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD)
_REMOTE_CONTEXT = "LoadDocumentCallback"  # pyoxigraph's message when a remote context is named
_REMOTE_CONTEXT_MESSAGE = (
    "a remote JSON-LD @context is never fetched by this service: put the context object itself "
    'in the document ("@context": {...})'
)
_CONTEXT_IRI = re.compile(r'"@context"\s*:\s*(?:\[[^\]"]*)?"')


def format_for_media_type(media_type: str | None) -> ox.RdfFormat:
    """The RDF syntax for a Content-Type header value; 415 for anything else."""
    base = (media_type or "").split(";")[0].strip().lower()
    if base not in MEDIA_TYPES:
        accepted = ", ".join(sorted(MEDIA_TYPES))
        raise UnsupportedMediaType(
            f"Content-Type {base or '(none)'!r} is not an RDF syntax this service reads; use one of {accepted}",
            accepted=sorted(MEDIA_TYPES),
        )
    return MEDIA_TYPES[base]


def format_for_path(path: Path) -> ox.RdfFormat:
    """The RDF syntax for a file name, by its extension."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise RdfSyntaxError(
            f"unknown RDF file extension {path.suffix!r} (use one of {', '.join(sorted(EXTENSIONS))})",
            source=str(path),
        )
    return fmt


def parse(data: bytes | str, fmt: ox.RdfFormat, *, source: str, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse a graph serialisation into triples (quads' graph names are dropped).

    Relative IRIs resolve against ``base_iri`` unless the text declares its own base; without
    either, a relative IRI is a syntax error (N-Triples and N-Quads never take one).

    Raises :class:`RdfSyntaxError` naming ``source``, the line and the column. Refused before
    parsing: brackets nested deeper than ``depth.MAX_DEPTH`` (Turtle, TriG, JSON-LD), and in
    RDF/XML elements nested as deep, external entities or DTDs, nested entities and entity
    expansion out of proportion to the document (:mod:`allianceld.rdf.xml_guard`). JSON-LD remote
    contexts are never fetched. Ill-typed literals (``"2023-02-30"^^xsd:date``) and literals
    longer than ``literals.MAX_CHARS`` are refused (:mod:`allianceld.rdf.literals`).

    >>> len(parse(b'<http://a> <http://b> "c" .', ox.RdfFormat.N_TRIPLES, source="x.nt"))
    1
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if fmt == ox.RdfFormat.RDF_XML:
        xml_guard.check(raw, source=source)
    elif fmt in _NESTED:
        _check_nesting(raw, source=source, json=fmt == ox.RdfFormat.JSON_LD)
    if fmt == ox.RdfFormat.JSON_LD:
        _check_json_ld_top(raw, source=source)
    try:
        # blank node labels are local to a document: rename them so two writes never share one
        with collector.paused(len(raw) >= _LARGE_DOCUMENT):
            triples = [q.triple for q in ox.parse(raw, format=fmt, base_iri=base_iri, rename_blank_nodes=True)]
    except SyntaxError as exc:
        raise syntax_error(exc, source=source, raw=raw) from None
    except ValueError as exc:
        raise RdfSyntaxError(str(exc), source=source) from None
    literals.check(triples, source=source, text=raw)
    return triples


def syntax_error(exc: SyntaxError, *, source: str, raw: bytes) -> RdfSyntaxError:
    """pyoxigraph's syntax error in the document ``raw`` as an :class:`RdfSyntaxError` naming
    ``source``, the line and the column."""
    line, column = exc.lineno, exc.offset
    msg = exc.msg or str(exc)
    found = _POSITION.search(msg)
    if line is None and found:
        line, column = int(found.group(1)), int(found.group(2))
    if _REMOTE_CONTEXT in msg:
        line, column, msg = *_remote_context_at(raw), _REMOTE_CONTEXT_MESSAGE
    return RdfSyntaxError(msg, source=source, line=line, column=column)


_LARGE_DOCUMENT = 1_000_000  # bytes: parsed with the cycle collector paused (allianceld.collector)
_JSON_START = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")  # a byte order mark and JSON's white space


def _check_json_ld_top(raw: bytes, *, source: str) -> None:
    """A JSON-LD document is an object or an array: a bare scalar (``1``, ``false``, ``"x"``,
    ``null``), which pyoxigraph reads as an empty graph, is refused where it starts."""
    start = _JSON_START.match(raw).end()  # type: ignore[union-attr]  # the pattern matches anywhere
    if start == len(raw) or raw[start : start + 1] in (b"{", b"["):
        return
    before = raw[:start].decode("utf-8").lstrip("\ufeff")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    raise RdfSyntaxError(
        "a JSON-LD document must be a JSON object or array, not a bare value", source=source, line=line, column=column
    )


def _check_nesting(raw: bytes, *, source: str, json: bool) -> None:
    if sum(raw.count(c) for c in b"{([") <= depth.MAX_DEPTH:
        return
    text = raw.decode("utf-8", "replace")
    offset = depth.too_deep(text, json=json)
    if offset is not None:
        line, column = depth.line_column(text, offset)
        raise RdfSyntaxError(
            f"brackets nested more than {depth.MAX_DEPTH} deep; the document is refused unparsed",
            source=source,
            line=line,
            column=column,
        )


def _remote_context_at(raw: bytes) -> tuple[int | None, int | None]:
    """Where the first remote ``@context`` (a string, alone or in an array) is named."""
    text = raw.decode("utf-8", "replace")
    found = _CONTEXT_IRI.search(text)
    return depth.line_column(text, found.start()) if found else (None, None)


def file_iri(path: Path) -> str:
    """The ``file:`` IRI of ``path`` (made absolute): the base of the relative IRIs in the file."""
    return path.resolve().as_uri()


def parse_file(path: Path, *, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse an RDF file, its syntax chosen by extension. Relative IRIs resolve against ``base_iri``,
    by default the file's own IRI (:func:`file_iri`), unless the file declares its own base
    (``@base``, ``BASE``, ``xml:base``, ``@base`` in a JSON-LD context)."""
    fmt = format_for_path(path)
    return parse(path.read_bytes(), fmt, source=str(path), base_iri=base_iri or file_iri(path))


def to_rdflib(triples: Iterable[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Copy pyoxigraph triples into an rdflib graph, as rdflib's N-Triples parser would read them
    written out: literals normalised as rdflib does, and each blank node a new one, the same for
    every occurrence of its label in this call (twice as fast as writing and parsing N-Triples)."""
    graph = graph if graph is not None else rdflib.Graph()
    term = RdflibTerms()
    graph.addN((term(t.subject), term(t.predicate), term(t.object), graph) for t in triples)
    return graph


_POSITIONS = (attrgetter("subject"), attrgetter("predicate"), attrgetter("object"))


class RdflibTerms:
    """pyoxigraph terms as rdflib reads them (:func:`to_rdflib`): each term converted once, each
    blank node a new one, the same for every occurrence of its label in one converter. An rdflib
    term or triple (a tuple) is given back as it is.

    Each IRI is one object (``known``, or the first made): sets and dictionaries of such terms
    then compare them by identity, not by rdflib's ``__eq__`` (a Python call), and
    :meth:`canonical` makes rdflib's triples from elsewhere (a reasoner's) use the same objects."""

    def __init__(self, known: Iterable[rdflib.URIRef] = ()) -> None:
        self._terms: dict[Any, Any] = {}
        self._iris: dict[str, rdflib.URIRef] = {str(iri): iri for iri in known}

    def __call__(self, node: Any) -> Any:
        found = self._terms.get(node)
        if found is None:
            if isinstance(node, rdflib.term.Node):
                return node
            if isinstance(node, ox.NamedNode):
                found = self._iri(node.value)
            else:
                found = rdflib.BNode() if isinstance(node, ox.BlankNode) else rdflib_term(node)
            self._terms[node] = found
        return found

    def _iri(self, value: str) -> rdflib.URIRef:
        found = self._iris.get(value)
        if found is None:
            # rdflib's URIRef(value) with its check left out (it only logs a warning, and a
            # pyoxigraph IRI is valid): the check took most of a conversion's time
            found = self._iris[value] = str.__new__(rdflib.URIRef, value)
        return found

    def terms(self, nodes: Sequence[Any]) -> list[Any]:
        """Each of ``nodes`` converted, as by calling this converter on it: looked up in C, only
        the terms not met before one by one."""
        found = list(map(self._terms.get, nodes))
        for i in [i for i, term in enumerate(found) if term is None]:
            found[i] = self(nodes[i])
        return found

    def triples(self, triples: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
        """``triples`` (all pyoxigraph's, or all rdflib's tuples) as tuples of rdflib terms, by columns."""
        if not triples or isinstance(triples[0], tuple):
            return list(triples)
        columns = (self.terms(list(map(position, triples))) for position in _POSITIONS)
        return list(zip(*columns, strict=True))

    def canonical(self, triples: Iterable[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any]]:
        """rdflib's ``triples`` with each IRI replaced by this converter's object for it (an IRI it
        has not met becomes its own). Done by columns, in C: a call per term cost more."""
        columns = list(zip(*triples, strict=True))
        if not columns:
            return []
        return list(zip(*map(self._canonical_column, columns), strict=True))

    def _canonical_column(self, terms: tuple[Any, ...]) -> list[Any]:
        found = list(map(self._iris.get, map(str, terms)))  # by text: a literal may match too
        iri = rdflib.URIRef
        kinds = list(map(type, terms))
        for i in [i for i, kind in enumerate(kinds) if kind is not iri]:
            found[i] = terms[i]
        for i in [i for i, term in enumerate(found) if term is None]:
            found[i] = self._iris.setdefault(str(terms[i]), terms[i])
        return found


def has_blank_node(t: ox.Triple) -> bool:
    """Whether the subject or the object of ``t`` is a blank node."""
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def any_blank_node(triples: Iterable[ox.Triple], ntriples: bytes) -> bool:
    """Whether one of ``triples``, which pyoxigraph wrote as the N-Triples ``ntriples``, has a
    blank node: looked at one by one only when the text has ``_:`` (how a blank node is written,
    and rare elsewhere)."""
    return b"_:" in ntriples and any(map(has_blank_node, triples))


def load_into(store: ox.Store, triples: Iterable[ox.Triple]) -> None:
    """Add ``triples`` to the default graph of ``store``, faster than a Python Quad per triple:
    written as N-Triples and read by pyoxigraph's parser, leniently (pyoxigraph terms are valid
    already), in one go by ``Store.load`` (200k triples: 0.5 s instead of 1.1-1.3 s). Blank node
    labels are kept (``Store.load`` would rename them): triples with a blank node are added from
    the parsed quads instead."""
    triples = triples if isinstance(triples, list) else list(triples)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if not data:
        return
    if any_blank_node(triples, data):
        store.extend(ox.parse(data, format=ox.RdfFormat.N_TRIPLES, lenient=True))
    else:
        store.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)


def from_rdflib(graph: rdflib.Graph) -> list[ox.Triple]:
    """Copy an rdflib graph into pyoxigraph triples."""
    nt = graph.serialize(format="nt", encoding="utf-8")  # rdflib's own output: no checks of input
    return [q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES, rename_blank_nodes=True)]


#: IRIs already converted (an rdflib IRI checks its characters when made: most of a conversion's
#: cost, for the same few thousand IRIs at every write); emptied when it reaches _IRI_CACHE_SIZE
_iris: dict[ox.NamedNode, rdflib.URIRef] = {}
_IRI_CACHE_SIZE = 100_000


def rdflib_term(term: Any, *, as_written: bool = False) -> Any:
    """A pyoxigraph term as rdflib's, labels kept (``"x"^^xsd:string`` as the simple literal);
    ``as_written``: a typed literal keeps its lexical form (rdflib would normalise ``"1"^^xsd:boolean``
    to ``"true"``)."""
    if isinstance(term, ox.NamedNode):
        found = _iris.get(term)
        if found is None:
            if len(_iris) >= _IRI_CACHE_SIZE:
                _iris.clear()
            found = _iris[term] = rdflib.URIRef(term.value)
        return found
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib_term(term.datatype), normalize=False if as_written else None)
