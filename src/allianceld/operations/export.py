"""Whole-dataset exports: every named graph as N-Quads (or TriG), or Turtle per graph in a zip
file or directory with a manifest, each with the dataset's VoID description.

An export reads one consistent state of the store (:func:`consistent_view`) and is produced in
chunks, so a large store is never held in memory as one serialisation. The VoID description is
the one ``/.well-known/void`` serves (with ``void:dataDump``), counted from the same state; in an
N-Quads or TriG export it is the last graph, :data:`VOID_GRAPH`.

>>> from allianceld.store import KnowledgeBase
>>> kb = KnowledgeBase()
>>> kb.replace_graphs({"http://example.org/g": [ox.Triple(ox.NamedNode("http://example.org/a"),
...     ox.NamedNode("http://example.org/p"), ox.Literal("x"))]})
>>> b"".join(dataset_chunks(kb, ["http://example.org/g"]))
b'<http://example.org/a> <http://example.org/p> "x" <http://example.org/g> .\\n'
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from allianceld.browse import descriptions
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend
from allianceld.vocab import GRAPH_BASE, PREFIXES, VOID

# the graph an N-Quads or TriG export puts its VoID description in (not a graph of the store)
VOID_GRAPH = GRAPH_BASE + "void"
FORMATS = ("nquads", "trig", "turtle")
BATCH = 20_000  # quads serialised at a time

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a Turtle-per-graph export and the named graph it holds."""

    file: str
    graph: str
    triples: int

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "graph": self.graph, "triples": self.triples}


@contextlib.contextmanager
def consistent_view(kb: KnowledgeBase) -> Iterator[KnowledgeBase]:
    """A KnowledgeBase that no write changes while an export reads it: a checkpoint of a writable
    on-disk store (hard links, opened read-only, deleted afterwards), a copy of an in-memory store
    (taken under the write lock), the store itself when it is opened read-only. A remote store is
    read as it is (other clients may write to it meanwhile)."""
    backend = kb.backend
    if not isinstance(backend, EmbeddedBackend) or kb.read_only:
        yield kb
        return
    if kb.path is None:
        copy = KnowledgeBase()
        with kb.write_lock:
            copy.backend.store.extend(backend.store)  # type: ignore[attr-defined]
        yield copy
        return
    target = kb.path.parent / f".{kb.path.name}.exports" / uuid.uuid4().hex
    target.parent.mkdir(parents=True, exist_ok=True)
    kb.snapshot(target)
    view = KnowledgeBase(target, read_only=True)
    try:
        yield view
    finally:
        view.close()
        shutil.rmtree(target, ignore_errors=True)


def exported_graphs(kb: KnowledgeBase, *, inference: bool = True) -> list[str]:
    """The named graphs an export holds: all of them, or without the inferred ones."""
    return kb.graphs() if inference else kb.asserted_graphs()


def count_quads(kb: KnowledgeBase, graphs: Iterable[str]) -> dict[str, int]:
    """The number of quads of each graph, as the store counts them."""
    return {g: kb.count(g) for g in graphs}


def _quads(kb: KnowledgeBase, graph: str) -> Iterator[ox.Quad]:
    """The quads of one graph, streamed from an embedded store."""
    backend = kb.backend
    if isinstance(backend, EmbeddedBackend):
        return iter(backend.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    return iter(backend.quads(graph))


def _batches(quads: Iterator[ox.Quad], size: int = BATCH) -> Iterator[list[ox.Quad]]:
    batch: list[ox.Quad] = []
    for quad in quads:
        batch.append(quad)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def dataset_chunks(
    kb: KnowledgeBase,
    graphs: Iterable[str],
    fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
    *,
    progress: Progress | None = None,
) -> Iterator[bytes]:
    """The quads of ``graphs`` serialised in ``fmt`` (N-Quads or TriG), a batch at a time;
    ``progress`` is called with the number of quads of each batch."""
    for graph in graphs:
        for batch in _batches(_quads(kb, graph)):
            yield ox.serialize(batch, format=fmt) or b""
            if progress is not None:
                progress(len(batch))


def void_description(kb: KnowledgeBase, base: str, graphs: Iterable[str]) -> rdflib.Graph:
    """The VoID description of ``/.well-known/void`` for ``kb`` (``base`` is the service's URL,
    ending in ``/``; ``void:dataDump`` is ``base`` + ``dump``), its subsets limited to the
    exported ``graphs``."""
    g = descriptions.void_description(kb, base)
    dataset = rdflib.URIRef(base + ".well-known/void#dataset")
    keep = {rdflib.URIRef(x) for x in graphs}
    for subset in list(g.objects(dataset, VOID.subset)):
        if (subset, rdflib.RDF.type, VOID.Linkset) in g or subset in keep:
            continue
        g.remove((dataset, VOID.subset, subset))
        g.remove((subset, None, None))
    return g


def nquads_export(
    kb: KnowledgeBase,
    *,
    base: str,
    inference: bool = True,
    fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
    progress: Progress | None = None,
) -> Iterator[bytes]:
    """The whole dataset in N-Quads (or TriG), then its VoID description in :data:`VOID_GRAPH`.
    ``kb`` should be a :func:`consistent_view`."""
    graphs = exported_graphs(kb, inference=inference)
    yield from dataset_chunks(kb, graphs, fmt, progress=progress)
    void = ox.NamedNode(VOID_GRAPH)
    quads = [
        ox.Quad(t.subject, t.predicate, t.object, void) for t in formats.from_rdflib(void_description(kb, base, graphs))
    ]
    yield ox.serialize(quads, format=fmt) or b""


def file_name(index: int, graph: str) -> str:
    """The file of a graph in a Turtle-per-graph export: its position and its IRI made safe.

    >>> file_name(3, "https://w3id.org/allianceld/graph/data/nato")
    'graphs/0003-data-nato.ttl'
    """
    local = graph[len(GRAPH_BASE) :] if graph.startswith(GRAPH_BASE) else re.sub(r"^[a-z]+://", "", graph)
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", local).strip("-.")[:80] or "graph"
    return f"graphs/{index:04d}-{slug}.ttl"


def turtle_files(
    kb: KnowledgeBase, *, base: str, inference: bool = True, progress: Progress | None = None
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The files of a Turtle-per-graph export, in order, each as (name, chunks): one Turtle file
    per named graph, ``void.ttl`` and ``manifest.json`` (file -> graph IRI and triple count).
    ``kb`` should be a :func:`consistent_view`."""
    graphs = exported_graphs(kb, inference=inference)
    counts = count_quads(kb, graphs)
    entries = [ManifestEntry(file_name(i, g), g, counts[g]) for i, g in enumerate(graphs, 1)]
    for entry in entries:
        yield entry.file, _turtle(kb, entry.graph, progress)
    void = void_description(kb, base, graphs)
    yield "void.ttl", iter([ox.serialize(formats.from_rdflib(void), format=ox.RdfFormat.TURTLE, prefixes=_prefixes())])
    manifest = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "inference": inference,
        "void": "void.ttl",
        "graphs": [e.to_json() for e in entries],
    }
    yield "manifest.json", iter([json.dumps(manifest, indent=2).encode() + b"\n"])


def _prefixes() -> dict[str, str]:
    return {**PREFIXES, "void": str(VOID)}


def _turtle(kb: KnowledgeBase, graph: str, progress: Progress | None) -> Iterator[bytes]:
    """One graph in Turtle. Serialised whole (Turtle groups by subject, so batches would repeat
    the prefixes): a graph's triples are held in memory once, not the store's."""
    triples = [q.triple for q in _quads(kb, graph)]
    yield ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_prefixes()) or b""
    if progress is not None:
        progress(len(triples))


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (for a streamed zip)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        out, self.buffer = bytes(self.buffer), bytearray()
        return out


def zip_chunks(files: Iterable[tuple[str, Iterator[bytes]]]) -> Iterator[bytes]:
    """A zip archive of ``files``, produced as it is written (no seeking, no temporary file)."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for name, chunks in files:
            info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
                    if len(pipe.buffer) > 1 << 20:
                        yield pipe.take()
            yield pipe.take()
    yield pipe.take()


def write_directory(files: Iterable[tuple[str, Iterator[bytes]]], directory: Path) -> list[Path]:
    """Write ``files`` under ``directory`` (created); returns their paths."""
    written = []
    for name, chunks in files:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        written.append(path)
    return written


def read_turtle_export(source: Path) -> ox.Dataset:
    """Read back a Turtle-per-graph export (a zip file or a directory) into a dataset, each file
    into the graph the manifest gives it, blank node labels kept (for checks; a store's own
    bulk loader reads the files the same way, given the graph)."""

    def read(name: str) -> bytes:
        if source.is_dir():
            return (source / name).read_bytes()
        with zipfile.ZipFile(source) as archive:
            return archive.read(name)

    dataset = ox.Dataset()
    for entry in json.loads(read("manifest.json"))["graphs"]:
        graph = ox.NamedNode(entry["graph"])
        for t in ox.parse(read(entry["file"]), format=ox.RdfFormat.TURTLE):
            dataset.add(ox.Quad(t.subject, t.predicate, t.object, graph))
    return dataset
