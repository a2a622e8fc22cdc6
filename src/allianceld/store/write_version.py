"""The write version of a remote store, shared by every allianceld service over it.

A write reads the store's version N when it starts, before it validates or reasons, and its update
begins with ``DROP GRAPH <…/write-version/N>`` (not SILENT), then makes version N+1. When another
service wrote in between, version N is gone, the DROP fails and the store keeps nothing of the update:
the write is done again from the start (:meth:`KnowledgeBase.exclusive`). The store's own
transactions decide, not a lock of one process. What each store guarantees is in docs/deployment.md.

Each version's graph holds two triples (the version, and the token of the write that made it, which
tells a failure after the guard from a conflict); it is the services' own (``vocab.Kind.SERVICE``):
never listed among the store's graphs, so never exported, validated, reasoned over or written by users.
On a store that does not apply an update all or nothing it also holds the write's journal while the
write may be unfinished (:mod:`.write_journal`): a version whose journal is older than its time limit
is finished by the next service that reads it (:func:`settled`, :func:`current`), and no write is made
on top of one that may still be running (:class:`WriteConflict`).

On a store whose transactions do not notice two updates that read the same version (the on-disk
`oxigraph serve`), the guard alone lets two writes sent at the same instant both land: every write, and
every write cut short that is finished, is also made under the store's write lease (:mod:`.write_lease`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from allianceld.errors import QuerySyntaxError, RemoteStoreError, WriteConflict, WriteOutcomeUnknown
from allianceld.store import write_journal, write_lease
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import ALD, WRITE_VERSION_GRAPH_BASE, write_version_graph_iri

VERSION = ox.NamedNode(str(ALD.writeVersion))
TOKEN = ox.NamedNode(str(ALD.writeToken))
_READ = (
    f"SELECT ?v ?t ?u WHERE {{ GRAPH ?g {{ ?g {VERSION} ?v OPTIONAL {{ ?g {TOKEN} ?t }} "
    f"OPTIONAL {{ ?g {write_journal.UNTIL} ?u }} }} "
    f'FILTER(STRSTARTS(STR(?g), "{WRITE_VERSION_GRAPH_BASE}")) }} ORDER BY DESC(?v) LIMIT 1'
)
log = logging.getLogger(__name__)
_FIRST_GRAPH = ox.NamedNode(write_version_graph_iri(0))
# the first version, made only while the store has none (two services starting at once make the same one)
_FIRST = (
    f"CREATE SILENT GRAPH {_FIRST_GRAPH} ;\n"
    f"INSERT {{ GRAPH {_FIRST_GRAPH} {{ {_FIRST_GRAPH} {VERSION} 0 }} }} "
    f"WHERE {{ FILTER NOT EXISTS {{ GRAPH ?g {{ ?g {VERSION} ?v }} }} }}"
)


@dataclass(frozen=True)
class Version:
    """A store's write version and the token of the write that made it (None for the first); ``until``:
    while the write may be unfinished (it has a journal), the time it is surely no longer running by."""

    number: int
    token: str | None = None
    until: datetime | None = None


def read(backend: SparqlBackend) -> Version | None:
    """The store's write version, or None when no allianceld service has written it yet."""
    for row in backend.select(_READ):
        value, token, until = row["v"], row["t"], row["u"]
        return Version(
            int(value.value),
            token.value if token is not None else None,
            write_journal.until(until) if isinstance(until, ox.Literal) else None,
        )
    return None


def settled(backend: SparqlBackend, now: datetime | None = None) -> Version | None:
    """The store's write version (:func:`read`), after finishing the write that made it when that write
    was cut short: it has a journal older than its time limit (``now``: the time it is). It is finished
    under the write lease, when no other service holds it (that one finishes it first). A failure to
    finish it is logged, not raised: the store is read as it is."""
    found = read(backend)
    at = now or datetime.now(UTC)
    if found is None or found.until is None or at <= found.until:
        return found
    try:
        lease = write_lease.take(backend, new_token(), attempts=1, now=lambda: at)
    except RemoteStoreError as exc:
        log.warning("%s", exc)
        return found
    if lease is None:
        return found
    try:
        return roll_forward(backend, found, at)
    except (RemoteStoreError, WriteOutcomeUnknown) as exc:
        log.warning("%s", exc)
        return read(backend)
    finally:
        write_lease.withdraw(backend, lease)


def current(backend: SparqlBackend, now: datetime | None = None) -> Version:
    """The store's write version, made first when the store has none, and a version a write may be
    made from: a write cut short is finished first (:func:`settled`); :class:`WriteConflict` while the
    write that made it may still be running (it has a journal whose time limit is not passed)."""
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
    if found.until is not None:
        found = roll_forward(backend, found, now or datetime.now(UTC))
    if found.until is not None:
        raise WriteConflict(
            "another allianceld service's write is still being applied by the store; nothing of this write "
            "was stored: send it again"
        )
    return found


def roll_forward(backend: SparqlBackend, found: Version, now: datetime) -> Version:
    """The version after the write that made ``found`` is finished, when it has a journal older than
    its time limit (else ``found``). Its operations are sent again as a write of their own, from
    ``found`` (with a journal of their own): when two services finish it at once, the store takes one
    (the other's guard fails and that service reads the version the first made). :class:`RemoteStoreError`
    when the store refuses them: the write cannot be finished."""
    if found.until is None or now <= found.until:
        return found
    graph = ox.NamedNode(write_version_graph_iri(found.number))
    rows = backend.select(f"SELECT ?part ?text WHERE {{ GRAPH {graph} {{ ?part {write_journal.PART} ?text }} }}")
    update = write_journal.text((row["part"], row["text"].value) for row in rows)  # type: ignore[misc]
    token = new_token()
    journal = write_journal.Journal.of(update, backend.timeout_s, now)
    finished = ox.NamedNode(write_version_graph_iri(found.number + 1))
    operations = [*guard(found, token, journal), *([update] if update else []), write_journal.clear(finished)]
    try:
        backend.update(" ;\n".join(operations))
    except WriteOutcomeUnknown:
        raise RemoteStoreError(
            f"the store did not answer in time while allianceld finished the write of version {found.number}, "
            "which was cut short; it is finished again later"
        ) from None
    except (QuerySyntaxError, RemoteStoreError) as exc:
        now_found = read(backend)
        if now_found is not None and now_found.number != found.number and now_found.token != token:
            return now_found  # another service finished it first
        raise RemoteStoreError(
            f"the store holds the write of version {found.number}, which was cut short, and refused to finish it: "
            f"{exc}; restore the store from a backup"
        ) from None
    return Version(found.number + 1, token)


def new_token() -> str:
    """A token naming the version one write makes."""
    return secrets.token_hex(8)


def guard(expected: Version, token: str, journal: write_journal.Journal | None = None) -> list[str]:
    """The operations that begin a write made from version ``expected``: they fail (and the store
    keeps nothing of the update) when the store has moved past it, else make version N+1 with ``token``
    and, in the same operation, the write's ``journal`` (:mod:`.write_journal`; the write then ends
    with :func:`write_journal.clear`). The graph is created before it is written: Virtuoso drops
    only a graph created explicitly."""
    old, new = (ox.NamedNode(write_version_graph_iri(n)) for n in (expected.number, expected.number + 1))
    triples = f"{new} {VERSION} {expected.number + 1} . {new} {TOKEN} {ox.Literal(token)} ."
    if journal is not None:
        triples += "".join(f" {t} ." for t in write_journal.triples(new, journal))
    return [f"DROP GRAPH {old}", f"CREATE SILENT GRAPH {new}", f"INSERT DATA {{ GRAPH {new} {{ {triples} }} }}"]
