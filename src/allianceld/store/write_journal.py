"""The journal of a write on a store that does not apply an update all or nothing (Virtuoso commits each
operation of a request by itself, and keeps the first part of a request whose client went away).

The operation that makes a write's version N+1 (:func:`allianceld.store.write_version.guard`) also
stores, on the version's own graph, the write's operations (in parts of at most :data:`PART_CHARS`
characters), when they were sent, and the time after which the write, if it is still there, is no
longer being run (its writer's time limit and a margin). The write's last operation removes them
(:func:`clear`). So a version that has a journal is a write that may be unfinished. Once its time has
passed, the next service that reads the version sends its operations again, as a write of their own
(:func:`allianceld.store.write_version.settled`). That gives the store the whole write: each operation
sets what it names whatever the store holds before (DROP SILENT, CREATE SILENT, INSERT DATA and
DELETE DATA without blank nodes, and blank nodes only in a graph the write drops first), so running
them again after a part of them gives the same store as running them once. A write made of other
operations is refused before anything is sent (:meth:`KnowledgeBase.write`).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyoxigraph as ox

from allianceld.vocab import ALD

PART = ox.NamedNode(str(ALD.pendingUpdate))
SINCE = ox.NamedNode(str(ALD.pendingSince))
UNTIL = ox.NamedNode(str(ALD.pendingUntil))
_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
#: Virtuoso takes a time growing with the square of a literal's length to store it (a 1 MB literal:
#: 1.4 s, 4 MB: 20 s); 7 MB in parts of 20,000 characters took 1.8 s
PART_CHARS = 20_000
#: Virtuoso refuses a request longer than this (measured: 9.9 MB taken, 10.4 MB refused)
MAX_REQUEST_BYTES = 10_000_000
#: what begins a journal's compressed operations (no SPARQL Update begins so)
PACKED = "zlib+base64:"
#: how long after its writer stopped waiting for it a write may still be running in the store
MARGIN_S = 30.0
#: how long a writer with no time limit is taken to wait for the store
NO_TIME_LIMIT_S = 3600.0


@dataclass(frozen=True)
class Journal:
    """A write's operations (``update``), when they were sent, and when the write is surely no longer
    running (``until``): a journal found after that time is of a write cut short."""

    update: str
    since: datetime
    until: datetime

    @classmethod
    def of(cls, update: str, timeout_s: float | None, now: datetime | None = None) -> Journal:
        """The journal of ``update`` sent ``now`` by a writer that waits ``timeout_s`` for the store."""
        since = now or datetime.now(UTC)
        return cls(update, since, since + timedelta(seconds=limit_s(timeout_s)))


def limit_s(timeout_s: float | None) -> float:
    """How long after it was sent a write whose writer waits ``timeout_s`` (None: with no limit) may
    still be running in the store.

    >>> limit_s(60.0), limit_s(None)
    (90.0, 3630.0)
    """
    return (timeout_s or NO_TIME_LIMIT_S) + MARGIN_S


def triples(graph: ox.NamedNode, journal: Journal) -> list[ox.Triple]:
    """The triples of ``journal`` on the version graph ``graph``: one per part of the operations (its
    subject names the part's place), the time they were sent and the time the write ends by. The
    operations are kept compressed (:func:`packed`): the journal travels in the write's own request,
    which Virtuoso limits to 10 MB."""
    text = packed(journal.update)
    found = [
        ox.Triple(ox.NamedNode(f"{graph.value}#part-{i}"), PART, ox.Literal(text[start : start + PART_CHARS]))
        for i, start in enumerate(range(0, len(text), PART_CHARS))
    ]
    found.append(ox.Triple(graph, SINCE, ox.Literal(journal.since.isoformat(), datatype=_DATETIME)))
    found.append(ox.Triple(graph, UNTIL, ox.Literal(journal.until.isoformat(), datatype=_DATETIME)))
    return found


def text(parts: Iterable[tuple[ox.NamedNode, str]]) -> str:
    """The operations of a journal, from its parts (subject, text) in any order."""
    return unpacked("".join(part for _, part in sorted(parts, key=lambda p: int(p[0].value.rsplit("#part-", 1)[1]))))


def packed(update: str) -> str:
    """``update`` compressed (zlib) and written in base64 after :data:`PACKED`: the operations of a
    write are N-Triples-like text, a tenth of their size compressed.

    >>> update = " ;".join(f"INSERT DATA {{ <http://example.org/{i}> <http://example.org/p> {i} }}" for i in range(99))
    >>> len(packed(update)) < len(update) / 5 and unpacked(packed(update)) == update
    True
    """
    return PACKED + base64.b64encode(zlib.compress(update.encode("utf-8"), 6)).decode("ascii")


def unpacked(text: str) -> str:
    """The operations :func:`packed` wrote (a journal written as plain text is read as it is)."""
    if not text.startswith(PACKED):
        return text
    return zlib.decompress(base64.b64decode(text[len(PACKED) :])).decode("utf-8")


def clear(graph: ox.NamedNode) -> str:
    """The operation that ends a write: its journal removed from its version graph ``graph``."""
    return (
        f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} "
        f"WHERE {{ GRAPH {graph} {{ ?s ?p ?o FILTER(?p = {PART} || ?p = {SINCE} || ?p = {UNTIL}) }} }}"
    )


def until(value: ox.Literal) -> datetime:
    """The time a journal's ``ald:pendingUntil`` literal names (with its time zone)."""
    return datetime.fromisoformat(value.value)
