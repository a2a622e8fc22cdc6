"""The KnowledgeBase: named graphs in a pyoxigraph store, atomic writes, SPARQL over the union."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
import rdflib

from allianceld.errors import (
    BadRequest,
    Forbidden,
    QuerySyntaxError,
    RemoteStoreError,
    WriteConflict,
    WriteOutcomeUnknown,
)
from allianceld.rdf import formats
from allianceld.store import bulk_write, values_binding, write_journal, write_lease, write_version
from allianceld.store.backends import Backend, EmbeddedBackend, QueryResult, SparqlBackend, iter_quads
from allianceld.store.dialects import STANDARD, Dialect
from allianceld.vocab import (
    ONTOLOGY_GRAPH,
    PREFIXES,
    is_inferred_graph,
    is_provenance_graph,
    write_version_graph_iri,
)

_IRI = re.compile(r"<([^<>\"{}|^`\\\x00-\x20]*)>")
_GRAPHS_UNKNOWN = re.compile(r"\b(?:PREFIX|BASE|ALL|NAMED|DEFAULT|LOAD|ADD|MOVE|COPY)\b|GRAPH\s*[?$]", re.IGNORECASE)
# what may make an update's effect differ when it is run again on an equal store: fresh values,
# an arbitrary choice of rows, or data from outside (matched loosely: a false match costs a reload)
_NOT_REPEATABLE = re.compile(
    r"\b(?:NOW|RAND|UUID|STRUUID|BNODE|SAMPLE)\s*\(|\b(?:LIMIT|OFFSET|LOAD|SERVICE)\b", re.IGNORECASE
)

#: called after each committed write with the store's new version and the SPARQL Update that made
#: it, or None when running that update again on an equal store might not give an equal store
WriteListener = Callable[[int, "str | None"], None]
T = TypeVar("T")
#: how many times a write to a remote store is done again from the start when another service wrote
#: to the store while it was being made (:meth:`KnowledgeBase.exclusive`)
WRITE_ATTEMPTS = 5


def data_operation(keyword: str, graph: str, triples: Iterable[ox.Triple], dialect: Dialect = STANDARD) -> str:
    """``INSERT DATA`` or ``DELETE DATA`` (``keyword``) of ``triples`` in ``graph``, as pyoxigraph
    writes its terms; empty text when there is no triple. Inserted triples with a blank node go in
    one ``INSERT { … } WHERE {}`` instead, after the others: the same fresh blank nodes, and an
    operation every store accepts (Virtuoso refuses blank nodes in ``INSERT DATA``). Where the store
    takes at most so many triples in one operation (``dialect``), they go in as many operations as
    it takes, one after the other; triples that share a blank node stay in one (ValueError when
    more of them share blank nodes than the store takes: nothing could write them).

    >>> t = [ox.Triple(ox.NamedNode(f"http://s/{i}"), ox.NamedNode("http://p"), ox.Literal("x")) for i in range(3)]
    >>> print(data_operation("DELETE", "http://g", t, Dialect("small", max_data_triples=2)))
    DELETE DATA { GRAPH <http://g> {
    <http://s/0> <http://p> "x" .
    <http://s/1> <http://p> "x" .
    } } ;
    DELETE DATA { GRAPH <http://g> {
    <http://s/2> <http://p> "x" .
    } }
    """
    ground: list[ox.Triple] = []
    blank: list[ox.Triple] = []
    for t in triples:
        (blank if keyword == "INSERT" and formats.has_blank_node(t) else ground).append(t)
    target, sep = f"GRAPH {ox.NamedNode(graph)}", " .\n"
    size = dialect.max_data_triples or len(ground) or 1
    parts = [
        f"{keyword} DATA {{ {target} {{\n{sep.join(map(str, ground[start : start + size]))} .\n}} }}"
        for start in range(0, len(ground), size)
    ]
    limit = dialect.max_template_triples
    for part in _linked_parts(blank, limit) if limit and len(blank) > limit else [blank] if blank else []:
        if limit and len(part) > limit:
            raise ValueError(
                f"{len(part)} triples of <{graph}> are linked by blank nodes, and {dialect.name} takes at most "
                f"{limit} such triples in one operation"
            )
        parts.append(f"INSERT {{ {target} {{\n{sep.join(map(str, part))} .\n}} }} WHERE {{}}")
    return " ;\n".join(parts)


def _linked_parts(triples: list[ox.Triple], size: int) -> list[list[ox.Triple]]:
    """``triples`` (each with a blank node) in parts of at most ``size`` where they can be: the
    triples linked by their blank nodes (directly or through others) are never parted."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for t in triples:
        nodes = [term for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)]
        for node in nodes[1:]:
            parent[root(node)] = root(nodes[0])
    linked: dict[ox.BlankNode, list[ox.Triple]] = {}
    for t in triples:
        node = next(term for term in (t.subject, t.object) if isinstance(term, ox.BlankNode))
        linked.setdefault(root(node), []).append(t)
    parts: list[list[ox.Triple]] = []
    for group in linked.values():
        if parts and len(parts[-1]) + len(group) <= size:
            parts[-1].extend(group)
        else:
            parts.append(list(group))
    return parts


def _in_parts(ops: str, dialect: Dialect) -> str:
    """``ops`` (operations joined by ``" ;\n"``) with each :func:`data_operation` of more triples
    than ``dialect`` takes in one written again as several (the others as they are)."""
    most = dialect.max_data_triples
    if most is None:
        return ops
    parts = []
    for op in ops.split(" ;\n"):
        found = _data_of(op) if op.count("\n") > most + 1 else None  # n triples: n + 1 line breaks
        parts.append(data_operation(*found, dialect) if found else op)
    return " ;\n".join(parts)


def _names_ontology(graphs: list[str], then: list[str]) -> bool:
    """Whether a write of ``graphs`` and the operations ``then`` may change the ontology graph."""
    return ONTOLOGY_GRAPH in graphs or any(ONTOLOGY_GRAPH in op or _GRAPHS_UNKNOWN.search(op) for op in then)


_SILENT_GRAPH = re.compile(r"(?:DROP|CREATE) SILENT GRAPH (<[^<>\"{}|^`\\\x00-\x20]*>)")
_DATA = re.compile(r"(INSERT|DELETE) DATA \{ GRAPH <([^<>\"{}|^`\\\x00-\x20]*)> \{\n(.*)\n\} \}", re.DOTALL)


def _unrepeatable(then: list[str]) -> str | None:
    """Why a write could not be finished by running its operations again after a part of them
    (:mod:`.write_journal`), or None: an operation of ``then`` is not a DROP SILENT or CREATE SILENT
    of a graph or a :func:`data_operation` without blank nodes. An operation is known by being read
    back: its triples parsed and written again must give its text. (The write's own operations are
    all repeatable: on a remote store a graph it writes blank nodes to is dropped first.)"""
    for op in (part for ops in then for part in ops.split(" ;\n")):
        if (found := _SILENT_GRAPH.fullmatch(op)) and found[1] == str(ox.NamedNode(found[1][1:-1])):
            continue
        if _data_of(op) is None:
            return f"its operation {op[:80]!r} could not be run again if the write were cut short"
    return None


def _data_of(op: str) -> tuple[str, str, list[ox.Triple]] | None:
    """The keyword, graph and triples of ``op`` when it is the text :func:`data_operation` writes
    (in one operation) for triples without a blank node; else None."""
    found = _DATA.fullmatch(op)
    if not found:
        return None
    try:
        triples = list(ox.parse(found[3].encode(), format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError:
        return None
    if not triples or any(map(formats.has_blank_node, triples)):
        return None
    return (found[1], found[2], triples) if data_operation(found[1], found[2], triples) == op else None


@dataclass
class _Replacing:
    """How a write replaces graphs: those dropped first and written whole, the triples each graph
    loses and gains, and the graphs it empties (dropped at the end)."""

    dropped: list[str] = field(default_factory=list)
    deletes: dict[str, list[ox.Triple]] = field(default_factory=dict)
    inserts: dict[str, list[ox.Triple]] = field(default_factory=dict)
    emptied: list[str] = field(default_factory=list)


class KnowledgeBase:
    """Ontology, data files and inferences, each in a named graph of its own.

    Queries see the union of all graphs by default.

    >>> kb = KnowledgeBase()            # in memory; KnowledgeBase("var/store") for a directory on disk
    >>> kb.replace_graphs({"http://example.org/g": formats.parse(
    ...     b'<http://example.org/a> <http://example.org/p> "x" .', ox.RdfFormat.N_TRIPLES, source="doc")})
    >>> bool(kb.query("ASK { ?s ?p 'x' }"))
    True
    """

    def __init__(
        self, path: str | Path | None = None, *, read_only: bool = False, backend: Backend | None = None
    ) -> None:
        """Open (or create) the embedded store at ``path``; in memory when ``path`` is None.
        ``read_only`` opens an existing store for reading even while another process writes to it.
        ``backend`` replaces the embedded store, e.g. with a :class:`SparqlBackend`."""
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self.backend: Backend = backend or EmbeddedBackend(self.path, read_only=read_only)
        if isinstance(self.backend, EmbeddedBackend) and self.path is not None and not read_only:
            bulk_write.recover(self.backend.store, self.path)  # a bulk write cut short is undone
        self.write_lock = threading.RLock()  # held by a whole validate-then-commit write
        self._commit = threading.Lock()  # held while the store changes (a write's update, a snapshot)
        self.version = 0  # bumped on every write; caches key on it
        self._listeners: list[WriteListener] = []
        self._graphs: tuple[int, list[str]] | None = None  # the embedded store's graph names, by version
        self._ontology: tuple[int, tuple[ox.Triple, ...]] | None = None  # its ontology's triples, by version
        self._expected: write_version.Version | None = None  # a remote store's version the write under way read
        self._lease: write_lease.Claim | None = None  # the remote store's write lease, while this process holds it
        self._seen: int | None = None  # a remote store's write version when this process last looked
        # (version, look-ups) the domain rules' upkeep of the last write through the gate carried to the next
        self.carried_lookups: tuple[int, object] | None = None
        # nothing reads the store but this process's writes (an offline command's): see stage()
        self.unshared = False

    @property
    def location(self) -> str:
        """Where the data lives: the store directory, the remote endpoint, or memory."""
        if isinstance(self.backend, SparqlBackend):
            return self.backend.query_url
        return str(self.path) if self.path is not None else "memory"

    def exclusive(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (a write: what it reads, validates and commits) with no other write between
        its reads and its commit. In this process that is :attr:`write_lock`. On a remote store, which
        other allianceld services may write too, the store's write lease is taken first (:mod:`.write_lease`:
        another service's write waits until this one landed; :class:`WriteConflict` when the lease stays
        taken by others), then the store's write version is read and every
        :meth:`write` of ``operation`` is made only if the store is still at it (:mod:`.write_version`);
        when another service wrote first, nothing was stored and ``operation`` runs again from the start,
        up to :data:`WRITE_ATTEMPTS` times, then :class:`WriteConflict` (409). Inside another
        ``exclusive`` call, ``operation`` just runs: the outer one is done again."""
        with self.write_lock:
            if not isinstance(self.backend, SparqlBackend) or self._expected is not None:
                return operation()
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                self._lease = self._take_lease()  # before anything of the write is read
                try:
                    self._expected = write_version.current(self.backend)  # a write cut short is finished first
                    self._saw(self._expected.number)
                    return operation()
                except WriteConflict:
                    if attempt == WRITE_ATTEMPTS:
                        raise WriteConflict(
                            f"other allianceld services wrote to the store (or were still writing to it) each of the "
                            f"{WRITE_ATTEMPTS} times this write was made; nothing of it was stored: send it again",
                            attempts=WRITE_ATTEMPTS,
                        ) from None
                finally:
                    self._expected = None
                    self._let_go()
            raise AssertionError("unreachable")

    def _take_lease(self) -> write_lease.Claim:
        """The remote store's write lease, taken for this process (:func:`write_lease.take`)."""
        assert isinstance(self.backend, SparqlBackend)
        found = write_lease.take(self.backend, write_version.new_token())
        if found is None:
            raise WriteConflict(
                "other allianceld services kept writing to the store while this write waited for its turn; "
                "nothing of it was stored: send it again"
            )
        return found

    def _let_go(self) -> None:
        """Withdraw this process's claim of the write lease, when no update released it (the write failed,
        was refused or wrote nothing)."""
        lease, self._lease = self._lease, None
        if lease is not None:
            assert isinstance(self.backend, SparqlBackend)
            write_lease.withdraw(self.backend, lease)

    def refresh(self) -> None:
        """On a remote store, notice the writes of other allianceld services: when its write version
        moved since this process last looked, :attr:`version` is bumped (what is cached by it is read
        again) and the write listeners are told; a write cut short is finished first
        (:func:`write_version.settled`). Called once per request by the web service; nothing on the
        embedded store, which only this process writes."""
        if isinstance(self.backend, SparqlBackend):
            found = write_version.settled(self.backend)
            self._saw(found.number if found is not None else -1)

    def _saw(self, number: int) -> None:
        with self._commit:
            if self._seen != number:
                self._seen = number
                self._moved_on()

    def _moved_on(self) -> None:
        """The store changed, or may have, with no update to replay: :attr:`version` is bumped (what is
        cached by it is read again) and the write listeners are told. Call with ``_commit`` held."""
        self.version += 1
        for listener in self._listeners:
            listener(self.version, None)

    # -- reading -----------------------------------------------------------------------------

    def graphs(self) -> list[str]:
        """The IRIs of all named graphs, sorted. Kept between writes for a writable embedded store
        (RocksDB lists its graphs by a scan: 0.1 s at 2M triples, and every write asks twice);
        asked anew of a remote store, which other clients may write."""
        if not isinstance(self.backend, EmbeddedBackend) or self.read_only:
            return sorted(self.backend.named_graphs())
        cached = self._graphs
        if cached is None or cached[0] != self.version:
            cached = self._graphs = (self.version, sorted(self.backend.named_graphs()))
        return list(cached[1])

    def ontology(self) -> tuple[ox.Triple, ...]:
        """The ontology graph's triples (the same tuple while the ontology is unchanged). Kept
        between writes that do not name the ontology graph, for a writable embedded store (every
        write reads it: 30-45 ms at 200k triples); read anew from a remote store."""
        if not isinstance(self.backend, EmbeddedBackend) or self.read_only:
            return tuple(self.triples(ONTOLOGY_GRAPH))
        cached = self._ontology
        if cached is None or cached[0] != self.version:
            cached = self._ontology = (self.version, tuple(self.triples(ONTOLOGY_GRAPH)))
        return cached[1]

    def data_graphs(self) -> list[str]:
        """Named graphs holding asserted instance data (not the ontology, not inferences, not the
        provenance records of contributions): what new data is validated with."""
        return [
            g for g in self.graphs() if g != ONTOLOGY_GRAPH and not is_inferred_graph(g) and not is_provenance_graph(g)
        ]

    def has_graph(self, graph: str) -> bool:
        """Whether the store has the named graph (on the embedded store, even empty)."""
        return self.backend.has_graph(graph)

    def knowledge_graphs(self) -> list[str]:
        """The ontology and the data graphs: what reasoning sees. Provenance records describe
        graphs, not alliances, so they are left out (and adding one never changes an inference)."""
        return [g for g in self.graphs() if not is_inferred_graph(g) and not is_provenance_graph(g)]

    def asserted_graphs(self) -> list[str]:
        """Every graph except the inferred ones (OWL 2 RL and domain rules; provenance records included)."""
        return [g for g in self.graphs() if not is_inferred_graph(g)]

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph."""
        return [q.triple for q in self.backend.quads(graph)]

    def rdflib_graph(self, graphs: Iterable[str]) -> rdflib.Graph:
        """The union of some named graphs, copied into an rdflib graph (without quad contexts, which
        made adding and reading a triple costlier: the OWL 2 RL closure reads it whole twice)."""
        g = rdflib.Graph(store="SimpleMemory")
        for name in graphs:
            formats.to_rdflib(self.triples(name), g)
        return g

    def count(self, graph: str | None = None) -> int:
        """Number of quads in the named graphs, or in one of them (counted by the store)."""
        target = "?g" if graph is None else str(ox.NamedNode(graph))
        result = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {target} {{ ?s ?p ?o }} }}")
        assert isinstance(result, ox.QuerySolutions)
        return int(next(iter(result))["n"].value)

    def query(
        self,
        sparql: str,
        *,
        inference: bool = True,
        substitutions: Mapping[str, ox.NamedNode | ox.Literal | ox.BlankNode] | None = None,
        default_graph_uris: list[str] | None = None,
        named_graph_uris: list[str] | None = None,
        prefixes: bool = False,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL query. The default graph is the union of all graphs (asserted + inferred);
        ``inference=False`` leaves out the inferred graph. Values are bound with ``substitutions``
        (variable name -> term), never pasted into the query text. Relative IRIs resolve against
        ``base_iri`` unless the query declares its own ``BASE``.
        """
        if substitutions:
            sparql = _with_values(sparql, substitutions)
        if default_graph_uris:
            default: list[str] | None = list(default_graph_uris)
        elif inference:
            default = None
        else:
            default = self.asserted_graphs()
        return self.backend.query(
            sparql,
            default_graphs=default,
            named_graphs=named_graph_uris or None,
            union=True,
            prefixes=PREFIXES if prefixes else None,
            base_iri=base_iri,
        )

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Any]]:
        """A SELECT query's rows as dicts of plain Python values (IRIs and lexical forms as str)."""
        result = self.query(sparql, prefixes=True, **kwargs)
        assert isinstance(result, ox.QuerySolutions)
        names = [v.value for v in result.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]

    def quads(self, graphs: Iterable[str]) -> list[ox.Quad]:
        """The quads of some named graphs."""
        return iter_quads(self.backend, graphs)

    def match(
        self,
        nodes: Iterable[ox.NamedNode | ox.BlankNode],
        predicates: Iterable[ox.NamedNode] | None = None,
        *,
        incoming: bool = False,
        graphs: Collection[str],
        limit: int | None = None,
    ) -> list[ox.Quad]:
        """The quads of ``graphs`` around ``nodes``: those with one of them as subject (as object
        when ``incoming``), and, when given, one of ``predicates`` (looked up by the store's
        indexes); at most ``limit`` per node and predicate when given."""
        nodes = list(nodes)
        if not nodes:
            return []
        return self.backend.match(nodes, predicates, incoming=incoming, graphs=graphs, limit=limit)

    def dump(self, fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS) -> bytes:
        """The whole dataset serialised (N-Quads by default), in a stable order."""
        quads = sorted(self.quads(self.graphs()), key=str)
        return ox.serialize(quads, format=fmt) or b""

    # -- writing -----------------------------------------------------------------------------

    def replace_graphs(self, graphs: Mapping[str, Iterable[ox.Triple]]) -> None:
        """Replace the content of each named graph with the given triples, all in one transaction:
        either every graph is written or none is.
        """
        self.write(graphs)

    def write(
        self,
        replace: Mapping[str, Iterable[ox.Triple]],
        *,
        remove: Mapping[str, Iterable[ox.Triple]] | None = None,
        add: Mapping[str, Iterable[ox.Triple]] | None = None,
        then: Iterable[str] = (),
        keep: Iterable[str] = (),
        early: bulk_write.Early | None = None,
    ) -> None:
        """One transaction: replace the graphs of ``replace``, delete the triples of ``remove``
        from their graphs, insert those of ``add``, then run the SPARQL Update operations ``then``
        (which see the writes before them); the graphs ``keep`` exist afterwards, even empty.
        Either all of it is written or none. On an on-disk embedded store a large write that only
        adds is bulk-loaded, all or nothing by a journal (:mod:`allianceld.store.bulk_write`). A graph that is
        the remote store's own (:mod:`allianceld.store.dialects`) is refused: :class:`Forbidden`; a
        literal the remote store cannot store, before anything is sent: :class:`BadRequest`. On a store
        that does not apply an update all or nothing, a write must be one that can be finished later by
        sending its operations again (:mod:`allianceld.store.write_journal`): a graph it adds blank
        nodes to is rewritten whole, and ``then`` operations that could not be run again are refused
        (:class:`BadRequest`). ``early``: graphs of ``replace`` loading already (:meth:`stage`), made
        one write with the rest, or rolled back and written with it otherwise."""
        if isinstance(self.backend, SparqlBackend):
            dialect = self.backend.dialect
            for iri in (*replace, *(remove or {}), *(add or {})):
                if dialect.is_system_graph(iri):
                    raise Forbidden(f"<{iri}> is one of the {dialect.name} store's own graphs, not allianceld's")
            replace = {iri: list(triples) for iri, triples in replace.items()}
            add = {iri: list(triples) for iri, triples in (add or {}).items()}
            for triples in (*replace.values(), *add.values()):
                try:
                    dialect.check_literals(triples)
                except ValueError as exc:  # before anything is sent: the store may not undo a part
                    raise BadRequest(f"the store cannot take this write: {exc}") from None
        then, keep = list(then), list(keep)
        remove = {iri: list(triples) for iri, triples in (remove or {}).items()}
        add = {iri: list(triples) for iri, triples in (add or {}).items()}
        if isinstance(self.backend, SparqlBackend) and not self.backend.dialect.atomic_updates:
            why = _unrepeatable(then)
            if why:
                raise BadRequest(f"the store cannot take this write: {why}")
            blank = [g for g, ts in add.items() if g not in replace and any(map(formats.has_blank_node, ts))]
            if blank and self._expected is None:  # the graphs are read at the version the write is made from
                return self.exclusive(lambda: self.write(replace, remove=remove, add=add, then=then, keep=keep))
            for iri in blank:  # rewritten whole, so that the write run again makes the same graph
                gone = set(remove.pop(iri, ()))
                replace[iri] = [q.triple for q in self.backend.quads(iri) if q.triple not in gone] + add.pop(iri)
        if early is not None:
            try:
                early.wait()  # what it adds to graphs that were there is read by the plan
            except BaseException:
                early.abort()
                raise
            rest = self._replacing({iri: ts for iri, ts in replace.items() if early.whole.get(iri) is not ts})
            if not then and self._bulk_written(rest, remove, add, keep, early):
                return
            early.abort()  # written below, with the rest
        plan = self._replacing(replace)
        if not then and self._bulk_written(plan, remove, add, keep):
            return
        dialect = self.backend.dialect if isinstance(self.backend, SparqlBackend) else STANDARD
        parts = [f"DROP SILENT GRAPH {ox.NamedNode(iri)}" for iri in plan.dropped]
        try:
            parts += [data_operation("DELETE", iri, triples, dialect) for iri, triples in plan.deletes.items()]
            parts += [data_operation("INSERT", iri, triples, dialect) for iri, triples in plan.inserts.items()]
            parts += [data_operation("DELETE", iri, triples, dialect) for iri, triples in remove.items()]
            parts += [data_operation("INSERT", iri, triples, dialect) for iri, triples in add.items()]
        except ValueError as exc:  # before anything is sent
            raise BadRequest(f"the store cannot take this write: {exc}") from None
        parts = [op for op in parts if op]
        parts.extend(_in_parts(op, dialect) for op in then)
        parts.extend(f"DROP SILENT GRAPH {ox.NamedNode(iri)}" for iri in plan.emptied)
        parts.extend(f"CREATE SILENT GRAPH {ox.NamedNode(iri)}" for iri in keep)
        if not parts:
            return
        update = " ;\n".join(parts)
        if isinstance(self.backend, SparqlBackend):  # other services may write it too
            with self.write_lock:
                self._guarded_update(update)
            return
        with self.write_lock, self._commit:
            listed = self._graphs[1] if self._graphs is not None and self._graphs[0] == self.version else None
            try:
                self.backend.update(update)
            except WriteOutcomeUnknown:  # it may have landed: what was cached or copied may be stale
                self._moved_on()
                raise
            self.version += 1
            ontology = self._ontology
            named = [*replace, *remove, *add]
            if ontology is not None and ontology[0] == self.version - 1 and not _names_ontology(named, then):
                self._ontology = (self.version, ontology[1])
            if listed is not None:
                self._graphs = self._graphs_after(listed, named, then)
            repeatable = not any(_NOT_REPEATABLE.search(op) for op in then)  # DATA operations always are
            for listener in self._listeners:
                listener(self.version, update if repeatable else None)

    def _guarded_update(self, update: str) -> None:
        """Send ``update`` to the remote store after the guard of the write version read when the write
        began (now, outside :meth:`exclusive`): :class:`WriteConflict` when another service wrote since.
        It is sent under the store's write lease (taken now when not held, or when its time has passed),
        and ends it in the same request."""
        backend = self.backend
        assert isinstance(backend, SparqlBackend)
        inside = self._expected is not None
        if self._lease is None or self._lease.expired():
            self._lease = self._take_lease()
        try:
            self._send_guarded(backend, update, self._lease)
        finally:
            if not inside:
                self._let_go()

    def _send_guarded(self, backend: SparqlBackend, update: str, lease: write_lease.Claim) -> None:
        """Send ``update`` after the write version's guard, ending ``lease`` (see :meth:`_guarded_update`)."""
        expected = self._expected or write_version.current(backend)
        token = write_version.new_token()
        journaled = not backend.dialect.atomic_updates  # so that a write cut short is finished later
        journal = write_journal.Journal.of(update, backend.timeout_s) if journaled else None
        operations = [*write_version.guard(expected, token, journal), update]
        if journaled:
            operations.append(write_journal.clear(ox.NamedNode(write_version_graph_iri(expected.number + 1))))
        operations.append(write_lease.release(lease))
        request = " ;\n".join(operations)
        if journaled and len(request.encode()) > write_journal.MAX_REQUEST_BYTES:
            raise BadRequest(
                f"the store cannot take this write: with its journal it is {len(request.encode()) / 1e6:.1f} MB of "
                f"SPARQL, and {backend.dialect.name} takes at most {write_journal.MAX_REQUEST_BYTES / 1e6:g} MB in "
                "one request; nothing of it was stored: write it in smaller parts"
            )
        try:
            backend.update(request)
        except WriteOutcomeUnknown:  # it may have landed: what was cached may be stale
            self._lease = None  # kept until its time passes: the update may still be running
            with self._commit:
                self._moved_on()
            raise
        except (QuerySyntaxError, RemoteStoreError):
            now = write_version.read(backend)
            if now is None or (now.number != expected.number and now.token != token):
                raise WriteConflict(
                    "another allianceld service wrote to the store after this write read it; nothing of it was "
                    "stored: send it again"
                ) from None
            raise
        self._lease = None  # ended by the update
        with self._commit:
            self._expected = write_version.Version(expected.number + 1, token) if self._expected else None
            self._seen = expected.number + 1
            self._moved_on()

    def _bulk_written(
        self,
        plan: _Replacing,
        remove: Mapping[str, list[ox.Triple]],
        add: Mapping[str, list[ox.Triple]],
        keep: list[str],
        early: bulk_write.Early | None = None,
    ) -> bool:
        """Write by :func:`bulk_write.add` when this is a large write to an on-disk embedded store
        that only adds quads (True: written); False, writing nothing, otherwise. With ``early``
        (graphs loading already), any size is large."""
        backend = self.backend
        if not isinstance(backend, EmbeddedBackend) or self.path is None or self.read_only:
            return False
        added = {iri: triples for iri, triples in add.items() if triples}
        if plan.dropped or plan.emptied or any(plan.deletes.values()) or any(remove.values()):
            return False  # something to remove
        if set(added) & set(plan.inserts):
            return False
        if (
            early is None
            and sum(map(len, plan.inserts.values())) + sum(map(len, added.values())) < bulk_write.BULK_QUADS
        ):
            return False
        graphs = dict(plan.inserts)
        for iri, triples in added.items():
            node = ox.NamedNode(iri)
            quads = (ox.Quad(t.subject, t.predicate, t.object, node) for t in dict.fromkeys(triples))
            graphs[iri] = [q.triple for q in quads if q not in backend.store]
        with self.write_lock, self._commit:
            if not bulk_write.add(backend.store, self.path, graphs, after=early):
                return False
            for iri in keep:
                backend.store.add_graph(ox.NamedNode(iri))
            self.version += 1
            if self._ontology is not None and not _names_ontology(
                [*plan.inserts, *added, *(early.graphs if early else [])], []
            ):
                self._ontology = (self.version, self._ontology[1])
            self._graphs = None
            for listener in self._listeners:
                listener(self.version, None)  # no update to replay: copies load the store again
        return True

    def stage(
        self, graphs: Mapping[str, Iterable[ox.Triple]], *, early: bulk_write.Early | None = None
    ) -> bulk_write.Early | None:
        """Begin loading the new graphs of ``graphs`` (those not in the store, with triples) of a large
        write before it is decided, beside the work that decides it (:class:`bulk_write.Early`): then
        :meth:`write` with them in ``replace`` and ``early`` makes the write, or ``abort()`` rolls them
        back. Only on an on-disk embedded store that nothing else reads (:attr:`unshared`: readers
        would see a write that may yet be refused); None, loading nothing, otherwise. With ``early``,
        more of the same write: what ``graphs`` (their whole new content) add to graphs that are
        there, for those of them that lose nothing; returns ``early``."""
        backend = self.backend
        if early is not None:
            plan = self._replacing(graphs)
            gaining = [iri for iri in graphs if not plan.deletes.get(iri) and iri not in plan.dropped + plan.emptied]
            if early.add({iri: plan.inserts[iri] for iri in gaining if plan.inserts[iri]}):
                early.whole.update({iri: graphs[iri] for iri in gaining})
            return early
        if not self.unshared or not isinstance(backend, EmbeddedBackend) or self.path is None or self.read_only:
            return None
        new = {iri: list(dict.fromkeys(ts)) for iri, ts in graphs.items() if not backend.has_graph(iri)}
        new = {iri: ts for iri, ts in new.items() if ts}
        if sum(map(len, new.values())) < bulk_write.BULK_QUADS:
            return None
        early = bulk_write.begin(backend.store, self.path, new)
        if early is not None:
            early.whole.update({iri: graphs[iri] for iri in new})
        return early

    def _replacing(self, replace: Mapping[str, Iterable[ox.Triple]]) -> _Replacing:
        """What gives each graph of ``replace`` its new content. On the embedded store a stored
        graph gets only its difference and a new graph no DROP: in pyoxigraph a DROP made every
        later operation of its update about twice as slow (a 200k-triple load: 21 s instead of
        10 s); a graph it empties is dropped at the end. A stored graph with a blank node in its old
        or new content is dropped first and written whole, as on a remote store: DELETE DATA cannot
        name a blank node, and INSERT DATA makes its blank nodes new ones, which kept triples would
        not share."""
        plan = _Replacing()
        embedded = isinstance(self.backend, EmbeddedBackend)
        for iri, triples in replace.items():
            new = list(dict.fromkeys(triples))
            present = embedded and self.backend.has_graph(iri)
            stored = {q.triple for q in self.backend.quads(iri)} if present else set()
            if not embedded or (stored and any(map(formats.has_blank_node, itertools.chain(stored, new)))):
                plan.dropped.append(iri)
                stored = set()
            elif present and not new:
                plan.emptied.append(iri)
            if not stored:  # a new graph, or one rewritten whole
                plan.deletes[iri], plan.inserts[iri] = [], new
                continue
            kept = set(new)
            plan.deletes[iri] = [t for t in stored if t not in kept]
            plan.inserts[iri] = [t for t in new if t not in stored]
        return plan

    def add_write_listener(self, listener: WriteListener) -> None:
        """Call ``listener`` after every committed write (inside the commit: keep it short), e.g.
        to keep a copy of the store current by running the same updates on it."""
        self._listeners.append(listener)

    def _graphs_after(self, listed: list[str], written: list[str], then: list[str]) -> tuple[int, list[str]] | None:
        """The graph list after a write, from the one before it: only the graphs the write names
        are asked about (listing them all is a scan of the store: 0.45-0.6 s at 2M triples after
        a write, every write). None (list them anew) when an operation may name a graph other
        than by a full IRI: a variable, a prefixed name, ALL, NAMED, DEFAULT, LOAD, ADD, MOVE, COPY
        (matched loosely: a literal with such a word only costs the scan)."""
        backend = self.backend
        if not isinstance(backend, EmbeddedBackend) or self.read_only or any(_GRAPHS_UNKNOWN.search(op) for op in then):
            return None
        named = set(written) | {iri for op in then for iri in _IRI.findall(op)}
        kept = (set(listed) - named) | {g for g in named if backend.listed(g)}
        return self.version, sorted(kept)

    def load_dataset(self, data: bytes, fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS) -> list[str]:
        """Replace the named graphs found in a dataset dump (N-Quads or TriG), atomically;
        returns their IRIs. Triples outside any named graph are refused."""
        graphs: dict[str, list[ox.Triple]] = {}
        for quad in ox.parse(data, format=fmt):
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise ValueError("the dump has triples outside a named graph; allianceld keeps every triple in one")
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        self.replace_graphs(graphs)
        return sorted(graphs)

    def snapshot(self, target: Path) -> int:
        """A consistent copy of the on-disk store at ``target`` (a RocksDB checkpoint: hard links,
        cheap), which other processes may open while this one goes on writing; returns the
        version it holds (taken between two writes)."""
        if not isinstance(self.backend, EmbeddedBackend) or self.path is None:
            raise ValueError("only an on-disk embedded store can be snapshotted")
        with self._commit:
            self.backend.store.backup(str(target))
            return self.version

    def close(self) -> None:
        """Flush to disk and release the store."""
        self.backend.close()

    @classmethod
    def from_settings(cls, settings: Any, *, read_only: bool = False) -> KnowledgeBase:
        """The embedded store at ``settings.store_path``, or the remote endpoint when
        ``settings.sparql_query_url`` and ``settings.sparql_update_url`` are set."""
        if settings.sparql_query_url:
            timeout = getattr(settings, "query_timeout", 60.0) or None
            return cls(backend=SparqlBackend(settings.sparql_query_url, settings.sparql_update_url, timeout_s=timeout))
        return cls(settings.store_path, read_only=read_only)


def _with_values(sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal | ox.BlankNode]) -> str:
    """Bind variables with a VALUES block joined with the WHERE clause (:mod:`.values_binding`)."""
    return values_binding.with_values(sparql, bindings)
