"""Large writes that only add: pyoxigraph's bulk loader, made all-or-nothing by a rollback journal.

pyoxigraph writes a transaction (``Store.update``, ``Store.extend``) at about 45-55k quads/s on
this project's machines; its bulk loader (``Store.bulk_load``) at about 200k quads/s, without a
transaction: a process killed in the middle leaves part of the quads. A write that adds many quads
and removes none (a bulk load into new graphs, with its inferences and rules' outputs) is made
atomic here as a rollback journal makes it in a database: the quads it adds, none of which is in
the store, are first written to a journal file beside the store (complete, or not there at all:
written under another name, flushed, renamed); then the journal is bulk-loaded and flushed; then the
journal is removed. A store opened with a journal beside it was interrupted in between: the quads
the journal lists are removed again (:func:`recover`), and the store is as it was before the write.

Readers of the same store may see part of the quads while the loader runs (a transaction would
hide them until its end); the write lock keeps other writes out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

#: a write adding at least this many quads, and removing none, is bulk-loaded
BULK_QUADS = 20_000
_CHUNK = 20_000  # quads per DELETE DATA when a journal is rolled back


def journal_path(store: Path) -> Path:
    """The journal of an interrupted bulk write into the store directory ``store``."""
    return store.with_name(store.name + ".pending-write.nq")


def eligible(graphs: Mapping[str, list[ox.Triple]]) -> bool:
    """Whether adding the triples of ``graphs`` (graph IRI -> triples, none in the store yet) takes
    the bulk path: enough of them, and no blank node (DELETE DATA, which a roll-back uses, cannot
    name one)."""
    return sum(map(len, graphs.values())) >= BULK_QUADS and not any(
        isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for ts in graphs.values() for t in ts
    )


def add(store: ox.Store, path: Path, graphs: Mapping[str, list[ox.Triple]]) -> None:
    """Add the triples of ``graphs`` (graph IRI -> triples, none of them in ``store``, on disk at
    ``path``), all or nothing after a crash: journal, bulk load of the journal, flush, journal
    removed."""
    journal = journal_path(path)
    partial = journal.with_name(journal.name + ".partial")
    with partial.open("wb") as out:
        for iri, triples in graphs.items():
            out.write(_in_graph(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", iri))
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, journal)
    _sync_directory(journal.parent)
    # read by pyoxigraph from the journal: 20% less than making a Quad of each triple for bulk_extend
    store.bulk_load(path=str(journal), format=ox.RdfFormat.N_QUADS, lenient=True)  # terms already checked
    store.flush()
    journal.unlink()
    _sync_directory(journal.parent)


def _in_graph(ntriples: bytes, iri: str) -> bytes:
    """N-Triples as N-Quads in the graph ``iri``. Every line of pyoxigraph's N-Triples ends with
    " .\\n" and no other " .\\n" occurs: a line break inside a literal is written as an escape."""
    return ntriples.replace(b" .\n", b" " + str(ox.NamedNode(iri)).encode() + b" .\n")


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
