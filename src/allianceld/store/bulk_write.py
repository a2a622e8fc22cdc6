"""Large writes that only add: pyoxigraph's bulk loader, made all-or-nothing by a rollback journal.

pyoxigraph writes a transaction (``Store.update``, ``Store.extend``) at about 45-55k quads/s on
this project's machines; its bulk loader (``Store.bulk_extend``) at about 200k quads/s, without a
transaction: a process killed in the middle leaves part of the quads. A write that adds many quads
and removes none (a bulk load into new graphs, with its inferences and rules' outputs) is made
atomic here as a rollback journal makes it in a database: the quads it adds, none of which is in
the store, are first written to a journal file beside the store (complete, or not there at all:
written under another name, flushed, renamed); then they are bulk-loaded and flushed; then the
journal is removed. A store opened with a journal beside it was interrupted in between: the quads
the journal lists are removed again (:func:`recover`), and the store is as it was before the write.

Readers of the same store may see part of the quads while the loader runs (a transaction would
hide them until its end); the write lock keeps other writes out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

#: a write adding at least this many quads, and removing none, is bulk-loaded
BULK_QUADS = 20_000
_CHUNK = 20_000  # quads per DELETE DATA when a journal is rolled back


def journal_path(store: Path) -> Path:
    """The journal of an interrupted bulk write into the store directory ``store``."""
    return store.with_name(store.name + ".pending-write.nq")


def eligible(quads: list[ox.Quad]) -> bool:
    """Whether adding ``quads`` (none in the store yet) takes the bulk path: enough of them, and no
    blank node (DELETE DATA, which a roll-back uses, cannot name one)."""
    return len(quads) >= BULK_QUADS and not any(
        isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) for q in quads
    )


def add(store: ox.Store, path: Path, quads: Iterable[ox.Quad]) -> None:
    """Add ``quads``, none of which is in ``store`` (on disk at ``path``), all or nothing after a
    crash: journal, bulk load, flush, journal removed."""
    journal = journal_path(path)
    quads = list(quads)
    partial = journal.with_name(journal.name + ".partial")
    with partial.open("wb") as out:
        ox.serialize(quads, out, format=ox.RdfFormat.N_QUADS)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, journal)
    _sync_directory(journal.parent)
    store.bulk_extend(quads)
    store.flush()
    journal.unlink()
    _sync_directory(journal.parent)


def recover(store: ox.Store, path: Path) -> int:
    """Undo a bulk write that was interrupted (its journal is beside the store at ``path``): remove
    the quads the journal lists; returns how many it listed (0 when there is no journal). Run again
    after a crash during the roll-back, it removes what is left."""
    journal = journal_path(path)
    journal.with_name(journal.name + ".partial").unlink(missing_ok=True)  # the write had not begun
    if not journal.exists():
        return 0
    quads = list(ox.parse(path=str(journal), format=ox.RdfFormat.N_QUADS))
    for start in range(0, len(quads), _CHUNK):
        body = " .\n".join(f"GRAPH {q.graph_name} {{ {q.triple} }}" for q in quads[start : start + _CHUNK])
        store.update(f"DELETE DATA {{ {body} }}")
    store.flush()
    journal.unlink()
    _sync_directory(journal.parent)
    return len(quads)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["BULK_QUADS", "add", "eligible", "journal_path", "recover"]
