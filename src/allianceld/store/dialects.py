"""What a SPARQL store does apart from SPARQL 1.1, where allianceld cannot send what every store
accepts: one small :class:`Dialect` per store, found by asking the endpoint (its ``Server``
header) once. The differences are listed for operators in docs/operations.md ("Virtuoso")."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """A store's departures from SPARQL 1.1 that allianceld must know of.

    ``system_graphs``: IRI prefixes of the graphs the store keeps for itself (its configuration,
    its own vocabularies). They are not allianceld's: they are never listed among its graphs, and
    allianceld refuses to write them (dropping one can break the store)."""

    name: str
    system_graphs: tuple[str, ...] = ()

    def is_system_graph(self, iri: str) -> bool:
        """Whether ``iri`` names one of the store's own graphs.

        >>> VIRTUOSO.is_system_graph("http://www.openlinksw.com/schemas/virtrdf#")
        True
        >>> STANDARD.is_system_graph("http://www.openlinksw.com/schemas/virtrdf#")
        False
        """
        return iri.startswith(self.system_graphs) if self.system_graphs else False


STANDARD = Dialect("standard")

#: Virtuoso Open Source 7: its RDF views' metadata (virtrdf#), the LDP vocabulary and the endpoint's
#: service description are graphs of its quad store, present in every new database
VIRTUOSO = Dialect(
    "virtuoso",
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
