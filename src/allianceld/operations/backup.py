"""Backups of the store and their restoration (``allianceld backup DIR`` / ``restore DIR``).

A backup is a directory holding ``manifest.json`` and either an embedded store (a RocksDB
checkpoint, or a copy of a read-only view) or an N-Quads dump of a remote store, written beside its
target and renamed into place when complete. How each kind is consistent: docs/operations.md
("Backup and restore").
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from allianceld import __version__
from allianceld.errors import AllianceldError
from allianceld.store import KnowledgeBase
from allianceld.store.backends import EmbeddedBackend, SparqlBackend
from allianceld.vocab import ONTOLOGY_GRAPH

FORMAT = "allianceld-backup/1"
MANIFEST = "manifest.json"
STORE = "store"
DUMP = "dataset.nq"
REMOTE_NOTE = (
    "an N-Quads dump of a remote store, read graph by graph: consistent only if no other client "
    "wrote to the store meanwhile"
)


class BackupError(AllianceldError):
    """A backup or restore refused or failed; nothing was changed."""

    status = 409
    kind = "backup-error"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds."""

    format: str
    created: str
    allianceld: str
    method: str  # checkpoint | copy | n-quads
    source: str
    quads: int
    graphs: int
    ontology_sha256: str | None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest of the backup in ``directory``; :class:`BackupError` naming what is wrong."""
        path = directory / MANIFEST
        if not path.is_file():
            raise BackupError(f"{directory} is not an allianceld backup: it has no {MANIFEST}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{path} is not a backup manifest: {exc}") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{path}: unknown backup format {manifest.format!r} (this allianceld reads {FORMAT})")
        return manifest


def ontology_digest(triples: Iterable[ox.Triple]) -> str | None:
    """A SHA-256 digest of the ontology's triples that does not depend on blank node labels
    (pyoxigraph's canonicalisation), so a stored ontology and the shipped file compare equal
    when they hold the same triples; None for no triples."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    if not len(dataset):
        return None
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    lines = sorted(f"{q.triple} .\n" for q in dataset)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _stored_ontology(store: ox.Store) -> list[ox.Triple]:
    return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(ONTOLOGY_GRAPH))]


def _describe(store: ox.Store, *, method: str, source: str, note: str = "") -> Manifest:
    """The manifest of ``store`` (read from the copy itself, so it describes what was kept)."""
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Manifest(
        format=FORMAT,
        created=created,
        allianceld=__version__,
        method=method,
        source=source,
        quads=len(store),
        graphs=sum(1 for _ in store.named_graphs()),
        ontology_sha256=ontology_digest(_stored_ontology(store)),
        note=note,
    )


def _fresh(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not empty: a backup goes into a new (or empty) directory")


def _beside(path: Path, what: str) -> Path:
    """A new name next to ``path`` (same file system, so a rename moves it into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{what}-{uuid.uuid4().hex[:12]}"


def backup(kb: KnowledgeBase, target: Path) -> Manifest:
    """Back up the store of ``kb`` into the new directory ``target``, as the module says; the
    manifest's counts are those of the copy. Raises :class:`BackupError` when ``target`` is not
    empty or ``kb`` is in memory (nothing to back up from another process)."""
    _fresh(target)
    work = _beside(target, "partial")
    work.mkdir()
    try:
        manifest = _write_backup(kb, work)
        (work / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty, checked above
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _write_backup(kb: KnowledgeBase, work: Path) -> Manifest:
    backend = kb.backend
    if isinstance(backend, SparqlBackend):
        with (work / DUMP).open("wb") as out:
            for graph in sorted(backend.named_graphs()):
                out.write(ox.serialize(backend.quads(graph), format=ox.RdfFormat.N_QUADS) or b"")
        copy = ox.Store()
        copy.bulk_extend(ox.parse(path=work / DUMP, format=ox.RdfFormat.N_QUADS))
        return _describe(copy, method="n-quads", source=kb.location, note=REMOTE_NOTE)
    assert isinstance(backend, EmbeddedBackend)
    if kb.path is None:
        raise BackupError("the store is in memory: there is nothing on disk to back up")
    if not kb.read_only:
        kb.snapshot(work / STORE)  # a RocksDB checkpoint, between two writes
        method = "checkpoint"
    else:
        copy = ox.Store(str(work / STORE))
        copy.bulk_extend(backend.store)  # the read-only view is frozen at its opening
        copy.flush()
        del copy
        method = "copy"
    view = ox.Store.read_only(str(work / STORE))
    try:
        return _describe(view, method=method, source=kb.location)
    finally:
        del view


def open_for_backup(path: Path) -> KnowledgeBase:
    """The embedded store at ``path``: for writing when no other process holds it (a checkpoint
    can then be taken), read-only when one does (the server)."""
    if not path.is_dir():
        raise BackupError(f"no store at {path}")
    try:
        return KnowledgeBase(path)
    except OSError:
        try:
            return KnowledgeBase(path, read_only=True)
        except OSError as exc:
            raise BackupError(f"cannot open the store at {path}: {exc}") from None


def _backup_quads(directory: Path, manifest: Manifest) -> Iterator[ox.Quad]:
    """The quads of the backup in ``directory``."""
    if manifest.method == "n-quads":
        yield from ox.parse(path=directory / DUMP, format=ox.RdfFormat.N_QUADS)
        return
    try:
        store = ox.Store.read_only(str(directory / STORE))
    except OSError as exc:
        raise BackupError(f"the backup's store at {directory / STORE} does not open: {exc}") from None
    yield from store


def check(directory: Path) -> Manifest:
    """The backup's manifest, after checking that its data is all there (as many quads as the
    manifest says); :class:`BackupError` naming the difference otherwise."""
    manifest = Manifest.read(directory)
    if not (directory / (DUMP if manifest.method == "n-quads" else STORE)).exists():
        raise BackupError(
            f"the backup in {directory} lacks its data ({DUMP if manifest.method == 'n-quads' else STORE})"
        )
    try:
        found = sum(1 for _ in _backup_quads(directory, manifest))
    except SyntaxError as exc:
        raise BackupError(f"the backup's {DUMP} does not parse: {exc}") from None
    if found != manifest.quads:
        raise BackupError(f"the backup in {directory} holds {found} quads, its manifest says {manifest.quads}")
    return manifest


def restore(directory: Path, path: Path, *, force: bool = False) -> Manifest:
    """Make the embedded store at ``path`` hold the backup in ``directory``: refused when the
    store is in use, or holds data and not ``force``. The backup is copied into a new store beside
    ``path``, checked, and swapped in by renames: ``path`` holds either the old store or the whole
    backup, never a part (the old store is removed only once the new one is in place)."""
    manifest = check(directory)
    if path.exists():
        if not path.is_dir():
            raise BackupError(f"{path} is a file, not a store directory")
        if any(path.iterdir()):
            try:
                current = ox.Store(str(path))
            except OSError as exc:
                raise BackupError(
                    f"cannot open the store at {path} ({exc}): is the server running? Stop it before a restore"
                ) from None
            held = len(current)
            del current
            if held and not force:
                raise BackupError(
                    f"the store at {path} holds {held} quads: restore replaces them only with --force "
                    "(back it up first)"
                )
    work = _beside(path, "restoring")
    try:
        if manifest.method == "n-quads":
            store = ox.Store(str(work))
            store.bulk_extend(_backup_quads(directory, manifest))
            store.flush()
            del store
        else:
            shutil.copytree(directory / STORE, work)
        restored = ox.Store(str(work))
        count = len(restored)
        restored.flush()
        del restored
        if count != manifest.quads:
            raise BackupError(f"the restored copy holds {count} quads, the backup {manifest.quads}: nothing changed")
        old = _beside(path, "replaced") if path.exists() else None
        if old is not None:
            os.rename(path, old)
        os.rename(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return manifest


def restore_remote(directory: Path, kb: KnowledgeBase, *, force: bool = False) -> Manifest:
    """Make the remote store of ``kb`` hold the backup in ``directory``: its graphs replaced and
    every other graph dropped in one SPARQL Update (all or nothing on a transactional store);
    refused when the store holds data and not ``force``."""
    manifest = check(directory)
    held = kb.graphs()
    if held and not force:
        raise BackupError(
            f"the store at {kb.location} holds {len(held)} graphs: restore replaces them only with --force"
        )
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in _backup_quads(directory, manifest):
        if not isinstance(quad.graph_name, ox.NamedNode):
            raise BackupError("the backup has quads outside a named graph; allianceld keeps every triple in one")
        graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
    drops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in held if g not in graphs]
    kb.write(graphs, then=drops)
    return manifest
