"""Large writes that only add: pyoxigraph's bulk loader, made all-or-nothing by a rollback journal.

pyoxigraph writes a transaction (``Store.update``, ``Store.extend``) at about 45-55k quads/s on
this project's machines; its bulk loader (``Store.bulk_load``) at about 200k quads/s, without a
transaction: a process killed in the middle leaves part of the quads. A write that adds many quads
and removes none (a bulk load into new graphs, with its inferences and rules' outputs) is made
atomic here as a rollback journal makes it in a database: what it adds, none of which is in the
store, is first written to a journal file beside the store (complete, or not there at all: written
under another name, flushed, renamed): the graphs it creates, and the quads it adds to the others;
then the quads are bulk-loaded and flushed; then the journal is removed. A store opened with a
journal beside it was interrupted in between: the new graphs are dropped and the listed quads
removed again (:func:`recover`), and the store is as it was before the write.

Readers of the same store may see part of the quads while the loader runs (a transaction would
hide them until its end); the write lock keeps other writes out.

A write's new graphs may also begin loading before the write is decided (:func:`begin`, in a
thread), while it is reasoned over: the journal names them first, and the write ends with the
rest of it (:func:`add` ``after=``) or is rolled back (:meth:`Early.abort`). Only for a store that
nothing else reads: readers would see a write that may yet be refused.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

from allianceld.rdf import formats

#: a write adding at least this many quads, and removing none, is bulk-loaded
BULK_QUADS = 20_000
_CHUNK = 20_000  # quads per DELETE DATA when a journal is rolled back
#: in the journal, "this graph is new: drop it on roll-back" (a triple in the default graph)
_NEW_GRAPH = ox.NamedNode("urn:x-allianceld:bulk-write:new-graph")
#: pyoxigraph's parsers refuse a line of more than 16 MiB (a change record's list of a large load's
#: triples is one literal of 30 MB): such a graph is loaded from its triples, and never journaled
_LINE_LIMIT = 8 * 1024 * 1024
_NICENESS = 10  # how much lower an early part's loading thread's priority is


def journal_path(store: Path) -> Path:
    """The journal of an interrupted bulk write into the store directory ``store``."""
    return store.with_name(store.name + ".pending-write.nq")


def add(store: ox.Store, path: Path, graphs: Mapping[str, list[ox.Triple]], *, after: Early | None = None) -> bool:
    """Add the triples of ``graphs`` (graph IRI -> triples, none of them in ``store``, on disk at
    ``path``), all or nothing after a crash: journal, bulk load, flush, journal removed. False,
    writing nothing, when a graph already in the store would get a blank node (a roll-back's
    DELETE DATA cannot name one) or a line too long to read back. ``after``: the write's parts
    loaded early (:func:`begin`), made one write with these (False: they are still to be rolled
    back, :meth:`Early.abort`); any error rolls them back with these.

    The journal names each new graph (dropped on roll-back) and lists the quads added to the
    others. The triples are bulk-loaded from their N-Triples, read by pyoxigraph (20% less than
    making a Quad of each triple), except a graph with a blank node (whose labels must stay) or
    an over-long line, loaded from its triples."""
    prepared = _prepared(store, graphs)
    if prepared is None:
        return False
    texts, from_triples, new = prepared
    new_before, listed_before = (after.graphs, after.listed) if after is not None else ([], [])
    try:
        if after is not None:
            after.wait()
        _write_journal(path, [*new_before, *new], [*listed_before, *(t for iri, t in texts.items() if iri not in new)])
        _load(store, graphs, texts, from_triples)
        store.flush()
    except BaseException:
        if after is not None or journal_path(path).exists():
            recover(store, path)
        raise
    _end(path)
    return True


class Early:
    """Parts of a large write loading in threads of their own, one after the other, while the rest
    of the write is made (reasoned over, its rules recomputed): begun by :func:`begin`, more added
    by :meth:`add`, ended by :func:`add` with the rest, or rolled back by :meth:`abort`. Readers of
    the store see them meanwhile: only for a store nothing else reads (an offline command's)."""

    def __init__(self, store: ox.Store, path: Path) -> None:
        self.graphs: list[str] = []  # the graphs it creates
        self.listed: list[bytes] = []  # the N-Quads it adds to graphs that were there
        self.whole: dict[str, object] = {}  # graph -> the new content it loads whole (its writer's record)
        self._store, self._path = store, path
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    def add(self, graphs: Mapping[str, list[ox.Triple]]) -> bool:
        """Load ``graphs`` too (graph IRI -> triples, none of them in the store), after what is
        loading: the journal names the new graphs and lists the quads added to the others, then a
        thread loads them. False, loading nothing, when a graph in the store would get a blank node
        or a line too long to read back. A new graph's text is made in the thread."""
        there = {iri: ts for iri, ts in graphs.items() if self._store.contains_named_graph(ox.NamedNode(iri))}
        prepared = _prepared(self._store, there)
        if prepared is None or prepared[1]:
            return False
        texts = prepared[0]
        new = {iri: ts for iri, ts in graphs.items() if iri not in there}
        _write_journal(self._path, [*self.graphs, *new], [*self.listed, *texts.values()])
        self.graphs += new
        self.listed += texts.values()
        before = self._thread
        self._thread = threading.Thread(
            target=self._run, args=(before, new, texts), name="allianceld-bulk-write", daemon=True
        )
        self._thread.start()
        return True

    def _run(
        self, before: threading.Thread | None, new: Mapping[str, list[ox.Triple]], texts: dict[str, bytes]
    ) -> None:
        _lower_priority()
        if before is not None:
            before.join()
        if self._failed is not None:
            return
        try:
            prepared = _prepared(self._store, new)
            assert prepared is not None  # new graphs are always loaded
            _load(self._store, new, {**texts, **prepared[0]}, prepared[1])
        except BaseException as exc:  # raised again by wait()
            self._failed = exc

    def wait(self) -> None:
        """Wait until every part is loaded; raise what stopped their loading."""
        if self._thread is not None:
            self._thread.join()
        if self._failed is not None:
            raise self._failed

    def abort(self) -> None:
        """Roll every part back (the write is refused, or made otherwise): the store is as before."""
        if self._thread is not None:
            self._thread.join()
        recover(self._store, self._path)


def _lower_priority() -> None:
    """This thread (and those it starts: the bulk loader's) at a lower priority than the others
    (Linux's niceness is a thread's): the write's reasoning, which the write waits on, keeps its
    core, and the early parts load in the time the cores have left (a 200k-triple load: 0.4 s
    less of 8.5 s on 2 cores, with its validation's child also lowered)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: left as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + _NICENESS)


def begin(store: ox.Store, path: Path, graphs: Mapping[str, list[ox.Triple]]) -> Early | None:
    """Begin a bulk write with ``graphs``, none of them in ``store`` (None, writing nothing,
    otherwise): the journal names them, and they load in a thread (:class:`Early`)."""
    if not graphs or any(store.contains_named_graph(ox.NamedNode(iri)) for iri in graphs):
        return None
    early = Early(store, path)
    early.add(graphs)
    return early


def _prepared(
    store: ox.Store, graphs: Mapping[str, list[ox.Triple]]
) -> tuple[dict[str, bytes], dict[str, bool], list[str]] | None:
    """The N-Quads text of each graph but those loaded from their triples, those graphs (each with
    whether it has an over-long line), and the new graphs; None when a graph in the store would get
    what a roll-back could not remove."""
    texts: dict[str, bytes] = {}
    from_triples: dict[str, bool] = {}
    new: list[str] = []
    for iri, triples in graphs.items():
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        long = _has_long_line(text)
        odd = long or formats.any_blank_node(triples, text)
        if store.contains_named_graph(ox.NamedNode(iri)):
            if odd:
                return None
        else:
            new.append(iri)
        if odd:
            from_triples[iri] = long
        else:
            texts[iri] = _in_graph(text, iri)
    return texts, from_triples, new


def _write_journal(path: Path, new: list[str], listed: list[bytes]) -> None:
    """The journal of a write into the store at ``path``, complete or not there: its new graphs and
    the N-Quads of what it adds to the others."""
    journal = journal_path(path)
    partial = journal.with_name(journal.name + ".partial")
    with partial.open("wb") as out:
        out.writelines(f"{ox.NamedNode(iri)} {_NEW_GRAPH} {ox.NamedNode(iri)} .\n".encode() for iri in new)
        out.writelines(listed)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, journal)
    _sync_directory(journal.parent)


def _load(
    store: ox.Store, graphs: Mapping[str, list[ox.Triple]], texts: dict[str, bytes], from_triples: dict[str, bool]
) -> None:
    """Load ``texts`` by the bulk loader, and the graphs ``from_triples`` from their triples: a graph
    with an over-long line (a value of many megabytes, such as a large change record's list) in a
    transaction, for the bulk loader's table with such a value slowed every later read of the open
    store (a 300 MB value: reading the 1,621 quads of one graph took 240 s, 0.007 s after a
    transaction); a graph with blank nodes by the bulk loader."""
    if texts:
        store.bulk_load(b"".join(texts.values()), format=ox.RdfFormat.N_QUADS, lenient=True)  # terms checked
    for iri, long in from_triples.items():
        node = ox.NamedNode(iri)
        quads = (ox.Quad(t.subject, t.predicate, t.object, node) for t in graphs[iri])
        (store.extend if long else store.bulk_extend)(quads)


def _end(path: Path) -> None:
    """The write is whole and flushed: its journal goes."""
    journal = journal_path(path)
    journal.unlink()
    _sync_directory(journal.parent)


def _has_long_line(text: bytes) -> bool:
    return len(text) > _LINE_LIMIT and max(map(len, text.split(b"\n"))) > _LINE_LIMIT


def _in_graph(ntriples: bytes, iri: str) -> bytes:
    """N-Triples as N-Quads in the graph ``iri``. Every line of pyoxigraph's N-Triples ends with
    " .\\n" and no other " .\\n" occurs: a line break inside a literal is written as an escape."""
    return ntriples.replace(b" .\n", b" " + str(ox.NamedNode(iri)).encode() + b" .\n")


def recover(store: ox.Store, path: Path) -> int:
    """Undo a bulk write that was interrupted (its journal is beside the store at ``path``): drop
    the new graphs it names and remove the quads it lists; returns how many quads it listed and
    graphs it named (0 when there is no journal). Run again after a crash during the roll-back,
    it removes what is left."""
    journal = journal_path(path)
    journal.with_name(journal.name + ".partial").unlink(missing_ok=True)  # the write had not begun
    if not journal.exists():
        return 0
    quads = list(ox.parse(path=str(journal), format=ox.RdfFormat.N_QUADS))
    dropped = [q.subject for q in quads if q.predicate == _NEW_GRAPH and isinstance(q.graph_name, ox.DefaultGraph)]
    listed = [q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)]
    for graph in dropped:
        store.update(f"DROP SILENT GRAPH {graph}")
    for start in range(0, len(listed), _CHUNK):
        body = " .\n".join(f"GRAPH {q.graph_name} {{ {q.triple} }}" for q in listed[start : start + _CHUNK])
        store.update(f"DELETE DATA {{ {body} }}")
    store.flush()
    _end(path)
    return len(quads)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["BULK_QUADS", "Early", "add", "begin", "journal_path", "recover"]
