"""The write version of a remote store, shared by every allianceld service over it.

A write reads the store's version N when it starts, before it validates or reasons, and its update
begins with ``DROP GRAPH <…/write-version/N>`` (not SILENT), then makes version N+1. When another
service wrote in between, version N is gone, the DROP fails and the store keeps nothing of the update:
the write is done again from the start (:meth:`KnowledgeBase.exclusive`). The store's own
transactions decide, not a lock of one process. What each store guarantees is in docs/deployment.md.

Each version's graph holds two triples (the version, and the token of the write that made it, which
tells a failure after the guard from a conflict); it is the services' own (``vocab.Kind.SERVICE``):
never listed among the store's graphs, so never exported, validated, reasoned over or written by users.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pyoxigraph as ox

from allianceld.errors import RemoteStoreError, WriteOutcomeUnknown
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import ALD, WRITE_VERSION_GRAPH_BASE, write_version_graph_iri

VERSION = ox.NamedNode(str(ALD.writeVersion))
TOKEN = ox.NamedNode(str(ALD.writeToken))
_READ = (
    f"SELECT ?v ?t WHERE {{ GRAPH ?g {{ ?g {VERSION} ?v OPTIONAL {{ ?g {TOKEN} ?t }} }} "
    f'FILTER(STRSTARTS(STR(?g), "{WRITE_VERSION_GRAPH_BASE}")) }} ORDER BY DESC(?v) LIMIT 1'
)
_FIRST_GRAPH = ox.NamedNode(write_version_graph_iri(0))
# the first version, made only while the store has none (two services starting at once make the same one)
_FIRST = (
    f"CREATE SILENT GRAPH {_FIRST_GRAPH} ;\n"
    f"INSERT {{ GRAPH {_FIRST_GRAPH} {{ {_FIRST_GRAPH} {VERSION} 0 }} }} "
    f"WHERE {{ FILTER NOT EXISTS {{ GRAPH ?g {{ ?g {VERSION} ?v }} }} }}"
)


@dataclass(frozen=True)
class Version:
    """A store's write version and the token of the write that made it (None for the first)."""

    number: int
    token: str | None = None


def read(backend: SparqlBackend) -> Version | None:
    """The store's write version, or None when no allianceld service has written it yet."""
    rows = backend.query(_READ, default_graphs=None, named_graphs=None, union=False, prefixes=None)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        value, token = row["v"], row["t"]
        return Version(int(value.value), token.value if token is not None else None)
    return None


def current(backend: SparqlBackend) -> Version:
    """The store's write version, made first when the store has none."""
    found = read(backend)
    if found is None:
        try:
            backend.update(_FIRST)
        except WriteOutcomeUnknown:
            raise RemoteStoreError(
                "the store did not answer in time while allianceld made its write version; nothing of the write "
                "was sent"
            ) from None
        found = read(backend)
        assert found is not None, "the store kept no write version"
    return found


def new_token() -> str:
    """A token naming the version one write makes."""
    return secrets.token_hex(8)


def guard(expected: Version, token: str) -> list[str]:
    """The operations that begin a write made from version ``expected``: they fail (and the store
    keeps nothing of the update) when the store has moved past it, else make version N+1 with ``token``.
    The graph is created before it is written: Virtuoso drops only a graph created explicitly."""
    old, new = (ox.NamedNode(write_version_graph_iri(n)) for n in (expected.number, expected.number + 1))
    triples = f"{new} {VERSION} {expected.number + 1} . {new} {TOKEN} {ox.Literal(token)} ."
    return [f"DROP GRAPH {old}", f"CREATE SILENT GRAPH {new}", f"INSERT DATA {{ GRAPH {new} {{ {triples} }} }}"]
