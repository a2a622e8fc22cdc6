"""What a SPARQL store does apart from SPARQL 1.1, where allianceld cannot send what every store
accepts: one small :class:`Dialect` per store, found by asking the endpoint (its ``Server``
header) once. The differences are listed for operators in docs/operations.md ("Virtuoso")."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)")
_INTEGERS = (
    "integer nonPositiveInteger negativeInteger long int short byte nonNegativeInteger unsignedLong unsignedInt "
    "unsignedShort unsignedByte positiveInteger"
).split()
#: the lexical forms of the datatypes Virtuoso converts to numbers or truth values when it stores them
_LEXICAL: dict[str, re.Pattern[str]] = {
    **{XSD + name: _INTEGER for name in _INTEGERS},
    XSD + "decimal": _DECIMAL,
    XSD + "double": _DOUBLE,
    XSD + "float": _DOUBLE,
    XSD + "boolean": re.compile(r"true|false|1|0"),
}


def _virtuoso_refuses(literal: ox.Literal) -> str | None:
    """Why Virtuoso 7 cannot store ``literal`` (it fails the whole request, see :class:`Dialect`)."""
    datatype = literal.datatype.value
    if datatype in (XSD + "duration", XSD + "yearMonthDuration"):
        return f"Virtuoso cannot store an xsd:{datatype[len(XSD) :]} value"
    pattern = _LEXICAL.get(datatype)
    if pattern is not None and not pattern.fullmatch(literal.value):
        return f"{literal.value!r} is not a valid xsd:{datatype[len(XSD) :]}, which Virtuoso refuses to store"
    return None


@dataclass(frozen=True)
class Dialect:
    """A store's departures from SPARQL 1.1 that allianceld must know of.

    ``system_graphs``: IRI prefixes of the graphs the store keeps for itself (its configuration,
    its own vocabularies). They are not allianceld's: they are never listed among its graphs, and
    allianceld refuses to write them (dropping one can break the store).

    ``refuses``: why the store would fail on a literal, or None. A store that commits each
    operation of an update by itself (Virtuoso) leaves the operations before a failing one
    written, so what it would fail on is refused before anything is sent (:meth:`check_literals`).

    ``empty_graphs``: whether ``ASK { GRAPH <g> {} }`` tells a created empty graph from one never
    created (Oxigraph: yes; Virtuoso answers true for any IRI).

    ``atomic_updates``: whether the store applies an update request all or nothing. When not
    (Virtuoso), a write journals its operations so that a write cut short is finished later
    (:mod:`allianceld.store.write_journal`).

    ``max_data_triples``: the most triples sent in one ``INSERT DATA`` or ``DELETE DATA``; more are
    sent as several such operations in the same request (None: no limit). Virtuoso 7 refuses an
    operation of more than 4,990 or so ("SPARQL compiler: memory exhausted"), whatever their length.
    ``max_template_triples``: the same for the ``INSERT { … } WHERE {}`` of triples with blank nodes
    (Virtuoso: 1,425, "the length of generated SQL text has exceeded 10000 lines")."""

    name: str
    system_graphs: tuple[str, ...] = ()
    refuses: Callable[[ox.Literal], str | None] = field(default=lambda literal: None, compare=False)
    empty_graphs: bool = True
    atomic_updates: bool = True
    max_data_triples: int | None = None
    max_template_triples: int | None = None

    def is_system_graph(self, iri: str) -> bool:
        """Whether ``iri`` names one of the store's own graphs.

        >>> VIRTUOSO.is_system_graph("http://www.openlinksw.com/schemas/virtrdf#")
        True
        >>> STANDARD.is_system_graph("http://www.openlinksw.com/schemas/virtrdf#")
        False
        """
        return iri.startswith(self.system_graphs) if self.system_graphs else False

    def check_literals(self, triples: Iterable[ox.Triple]) -> None:
        """ValueError naming the first literal of ``triples`` this store cannot store.

        >>> duration = ox.Literal("P1Y", datatype=ox.NamedNode(XSD + "duration"))
        >>> bad = ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://p"), duration)
        >>> VIRTUOSO.check_literals([bad])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: <http://a> <http://p> "P1Y"^^<...#duration>: Virtuoso cannot store an xsd:duration value
        >>> STANDARD.check_literals([bad])
        """
        for triple in triples:
            if isinstance(triple.object, ox.Literal):
                reason = self.refuses(triple.object)
                if reason:
                    raise ValueError(f"{triple}: {reason}")


STANDARD = Dialect("standard")

#: Virtuoso Open Source 7: its RDF views' metadata (virtrdf#), the LDP vocabulary and the endpoint's
#: service description are graphs of its quad store, present in every new database
VIRTUOSO = Dialect(
    "virtuoso",
    refuses=_virtuoso_refuses,
    empty_graphs=False,
    atomic_updates=False,
    max_data_triples=4_000,  # measured: 4,989 always taken, 4,991 always refused, 0.2 MB or 5 MB of them alike
    max_template_triples=1_400,  # measured: 1,425 taken, 1,426 refused, whatever the triples' shape
    system_graphs=(
        "http://www.openlinksw.com/schemas/",
        "http://www.w3.org/ns/ldp#",
        "http://localuriqaserver/",
    ),
)


def of_server(server: str | None) -> Dialect:
    """The dialect of a store that names itself ``server`` (an HTTP ``Server`` header).

    >>> of_server("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu").name
    'virtuoso'
    >>> of_server("Oxigraph/0.4.9").name
    'standard'
    """
    return VIRTUOSO if server and server.lower().startswith("virtuoso") else STANDARD


def probe(query_url: str, timeout_s: float | None) -> Dialect | None:
    """The dialect of the endpoint at ``query_url``, from the ``Server`` header of its answer to
    ``ASK {}`` (an error answer names its server too); None when it cannot be reached (the request
    that follows reports that)."""
    url = query_url + ("&" if "?" in query_url else "?") + "query=ASK%7B%7D"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return of_server(resp.headers.get("Server"))
    except urllib.error.HTTPError as exc:
        return of_server(exc.headers.get("Server"))
    except OSError:
        return None
