"""Backends under the KnowledgeBase: the embedded pyoxigraph store, or any SPARQL 1.1 endpoint.

Both answer the same few calls; everything else (named graphs, atomic writes, the write gate) is
built on them by the KnowledgeBase, so a deployment moves to a clustered store (GraphDB, Virtuoso,
Neptune, QLever) by configuring two URLs.
"""

from __future__ import annotations

import gc
import http.client
import itertools
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from allianceld.errors import QuerySyntaxError, RemoteQueryTimeout, RemoteStoreError, WriteOutcomeUnknown
from allianceld.rdf import depth
from allianceld.store import prologue
from allianceld.store.dialects import STANDARD, Dialect, probe
from allianceld.vocab import RULE_GRAPH_BASE, Kind, kind_of


class GraphResult:
    """CONSTRUCT/DESCRIBE triples from a remote endpoint, with the interface of ox.QueryTriples."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self._triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def serialize(self, output: Any = None, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> bytes | None:
        return ox.serialize(self._triples, output, format=format)


QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | GraphResult


class Backend(Protocol):
    """What the KnowledgeBase needs from a store."""

    def named_graphs(self) -> list[str]: ...

    def has_graph(self, graph: str) -> bool: ...

    def quads(self, graph: str) -> list[ox.Quad]: ...

    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        union: bool,
        prefixes: dict[str, str] | None,
        base_iri: str | None = None,
    ) -> QueryResult: ...

    def match(
        self,
        nodes: Iterable[ox.NamedNode | ox.BlankNode],
        predicates: Iterable[ox.NamedNode] | None,
        *,
        incoming: bool,
        graphs: Collection[str],
        limit: int | None = None,
    ) -> list[ox.Quad]: ...

    def update(self, sparql: str) -> None: ...

    def close(self) -> None: ...


#: quads of one node read at once before a look-up per predicate (EmbeddedBackend.match): a node new
#: to the store has none (the ATOP import: 1 look-up instead of 39), a hub hundreds
_SCAN = 4


class EmbeddedBackend:
    """pyoxigraph in this process: a RocksDB directory on disk, or memory."""

    def __init__(self, path: Path | None, *, read_only: bool = False, store: ox.Store | None = None) -> None:
        """``store`` (with ``path`` None) wraps an existing in-memory store."""
        self.path, self.read_only = path, read_only
        if path is None:
            self.store = store if store is not None else ox.Store()
        elif read_only:
            self.store = ox.Store.read_only(str(path))
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.store = ox.Store(str(path))

    def named_graphs(self) -> list[str]:
        """The named graphs, but not a domain rule's graph while it is empty (it is kept so that a
        write knows the rule was computed, see ``rules.full_update``; it holds no triple)."""
        return [
            g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode) and not self._empty_rule_graph(g)
        ]

    def has_graph(self, graph: str) -> bool:
        """Whether the store has the named graph, even empty."""
        return self.store.contains_named_graph(ox.NamedNode(graph))

    def listed(self, graph: str) -> bool:
        """Whether :meth:`named_graphs` lists ``graph`` (without listing them all)."""
        node = ox.NamedNode(graph)
        return self.store.contains_named_graph(node) and not self._empty_rule_graph(node)

    def _empty_rule_graph(self, graph: ox.NamedNode) -> bool:
        return (
            graph.value.startswith(RULE_GRAPH_BASE)
            and next(self.store.quads_for_pattern(None, None, None, graph), None) is None
        )

    def quads(self, graph: str) -> list[ox.Quad]:
        return list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        union: bool,
        prefixes: dict[str, str] | None,
        base_iri: str | None = None,
    ) -> QueryResult:
        kwargs: dict[str, Any] = {}
        if default_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(u) for u in default_graphs] or [ox.DefaultGraph()]
        elif union:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(u) for u in named_graphs]
        if prefixes:
            kwargs["prefixes"] = prefixes
        if base_iri:
            kwargs["base_iri"] = base_iri
        depth.check_sparql(sparql)  # pyoxigraph's parser would overflow the stack and crash
        try:
            return self.store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc.msg or exc}") from None

    def match(
        self,
        nodes: Iterable[ox.NamedNode | ox.BlankNode],
        predicates: Iterable[ox.NamedNode] | None,
        *,
        incoming: bool,
        graphs: Collection[str],
        limit: int | None = None,
    ) -> list[ox.Quad]:
        """The quads of ``graphs`` with one of ``nodes`` as subject, or as object when
        ``incoming``, and, when given, one of ``predicates``; ``limit`` per node and predicate."""
        preds: list[ox.NamedNode | None] = list(predicates) if predicates is not None else [None]
        wanted = frozenset(ox.NamedNode(g) for g in graphs)  # a look-up per quad, not a scan of a list
        found: list[ox.Quad] = []
        for node in nodes:
            if limit is not None and len(preds) > 1 and preds[0] is not None:
                found.extend(self._first_of_each(node, preds, incoming=incoming, wanted=wanted, limit=limit))
                continue
            for p in preds:
                pattern = (None, p, node) if incoming else (node, p, None)
                quads = (q for q in self.store.quads_for_pattern(*pattern, None) if q.graph_name in wanted)
                found.extend(itertools.islice(quads, limit))
        return found

    def _first_of_each(
        self,
        node: ox.NamedNode | ox.BlankNode,
        predicates: list[ox.NamedNode | None],
        *,
        incoming: bool,
        wanted: frozenset[ox.NamedNode],
        limit: int,
    ) -> list[ox.Quad]:
        """:meth:`match`'s ``limit`` quads per predicate for one node: when it has at most
        :data:`_SCAN` quads, they are read once; otherwise each predicate not yet found as often as
        ``limit`` is looked up. A contribution's module: 9.0 ms with 4, 10.4 ms with 8, 13.7 ms with
        64 (thread CPU at 200k triples, alternated in one run)."""
        taken: dict[ox.NamedNode, list[ox.Quad]] = {p: [] for p in predicates if p is not None}
        pattern = (None, None, node) if incoming else (node, None, None)
        for read, q in enumerate(self.store.quads_for_pattern(*pattern, None), 1):
            if read > _SCAN:
                break
            bucket = taken.get(q.predicate)
            if bucket is not None and len(bucket) < limit and q.graph_name in wanted:
                bucket.append(q)
        else:  # all of the node's quads were read
            return [q for bucket in taken.values() for q in bucket]
        for p, bucket in taken.items():
            if len(bucket) < limit:
                pattern = (None, p, node) if incoming else (node, p, None)
                more = (q for q in self.store.quads_for_pattern(*pattern, None) if q.graph_name in wanted)
                bucket.extend(itertools.islice((q for q in more if q not in bucket), limit - len(bucket)))
        return [q for bucket in taken.values() for q in bucket]

    def update(self, sparql: str) -> None:
        depth.check_sparql(sparql, what="update")
        self.store.update(sparql)

    def close(self) -> None:
        """Flush and release the store: its RocksDB lock is free for the next opening, even in
        this process (the frames of a caught exception may still refer to the store: collected now)."""
        if self.path is not None and not self.read_only:
            self.store.flush()
        del self.store
        if self.path is not None:
            gc.collect()


# GROUP BY, not DISTINCT: Virtuoso answers DISTINCT ?g from its list of created graphs, empty or not
_GRAPHS_WITH_TRIPLES = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
# every graph the store lists, but a domain rule's graph only with a triple in it (as EmbeddedBackend lists them)
_LISTED_GRAPHS = (
    "SELECT ?g WHERE { GRAPH ?g { } "
    f"FILTER(!STRSTARTS(STR(?g), {ox.Literal(RULE_GRAPH_BASE)}) || EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }}) }}"
)


#: the answer asked of the endpoint for each query form (for a text whose form cannot be read: either)
_ACCEPT = {
    "SELECT": "application/sparql-results+json",
    "ASK": "application/sparql-results+json",
    "CONSTRUCT": "application/n-triples",
    "DESCRIBE": "application/n-triples",
}
_ACCEPT_ANY = "application/sparql-results+json, application/n-triples;q=0.9"


class SparqlBackend:
    """Any SPARQL 1.1 Query + Update endpoint, over the SPARQL 1.1 Protocol.

    Updates are sent as one request, which stores that implement SPARQL Update transactionally
    (Oxigraph, GraphDB, Fuseki/TDB2) apply all or nothing; Virtuoso commits each operation by itself
    (:mod:`allianceld.store.dialects`).
    """

    def __init__(
        self, query_url: str, update_url: str, *, timeout_s: float | None = 60.0, dialect: Dialect | None = None
    ) -> None:
        """``dialect``: the store's (:mod:`allianceld.store.dialects`); asked of the endpoint when None."""
        self.query_url, self.update_url, self.timeout_s = query_url, update_url, timeout_s
        self._dialect = dialect

    @property
    def dialect(self) -> Dialect:
        """The store's dialect, found once by asking the endpoint (standard while it cannot be reached)."""
        if self._dialect is None:
            self._dialect = probe(self.query_url, self.timeout_s)
        return self._dialect or STANDARD

    def _post(
        self, url: str, body: dict[str, str | list[str]], accept: str, *, write: bool = False
    ) -> tuple[bytes, str]:
        """POST ``body`` to ``url``. With ``write``, a request sent whole but not answered (timeout, dropped
        connection) raises :class:`WriteOutcomeUnknown`: the store may commit it all the same."""
        data = urllib.parse.urlencode(body, doseq=True).encode()
        req = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.read(), resp.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            if exc.code == 400:
                raise QuerySyntaxError(f"SPARQL syntax error (reported by the endpoint): {detail}") from None
            raise RemoteStoreError(f"the SPARQL endpoint at {url} answered {exc.code}: {detail}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            # urllib wraps what fails while sending in URLError: these come after the request was sent
            if write:
                raise WriteOutcomeUnknown(
                    f"the SPARQL endpoint at {url} did not answer the write "
                    + (f"within {self.timeout_s:g} s" if isinstance(exc, TimeoutError) else f"({exc!r})")
                    + ": it may have committed it or not",
                    timeout_s=self.timeout_s,
                ) from None
            if isinstance(exc, TimeoutError):
                raise RemoteQueryTimeout(
                    f"the SPARQL endpoint at {url} did not answer within {self.timeout_s:g} s",
                    timeout_s=self.timeout_s,
                ) from None
            raise RemoteStoreError(f"the SPARQL endpoint at {url} dropped the connection: {exc!r}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc, TimeoutError) or isinstance(exc.reason, TimeoutError):
                raise RemoteQueryTimeout(
                    f"the SPARQL endpoint at {url} did not answer within {self.timeout_s:g} s",
                    timeout_s=self.timeout_s,
                ) from None
            raise RemoteStoreError(f"the SPARQL endpoint at {url} cannot be reached: {exc.reason}") from None

    def named_graphs(self) -> list[str]:
        """The named graphs, as :meth:`EmbeddedBackend.named_graphs` lists them where the store keeps
        empty graphs (read from its list of graphs: the graphs of their triples, at 200k triples, took
        0.2-0.3 s); elsewhere the graphs with a triple."""
        body, _ = self._post(
            self.query_url,
            {"query": _LISTED_GRAPHS if self.dialect.empty_graphs else _GRAPHS_WITH_TRIPLES},
            "application/sparql-results+json",
        )
        result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        dialect = self.dialect
        return [
            row["g"].value
            for row in result
            if isinstance(row["g"], ox.NamedNode)
            and not dialect.is_system_graph(row["g"].value)
            and kind_of(row["g"].value) is not Kind.SERVICE  # the services' write version: theirs alone
        ]

    def has_graph(self, graph: str) -> bool:
        """Whether the store has the named graph: even empty where the store keeps empty graphs
        (``Dialect.empty_graphs``), else only with a triple in it."""
        if not self.dialect.empty_graphs:
            return graph in self.named_graphs()
        body, _ = self._post(
            self.query_url, {"query": f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ }} }}"}, "application/sparql-results+json"
        )
        return bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def quads(self, graph: str) -> list[ox.Quad]:
        g = ox.NamedNode(graph)
        body, _ = self._post(
            self.query_url,
            {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"},
            "application/n-triples",
        )
        return [ox.Quad(q.subject, q.predicate, q.object, g) for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        union: bool,
        prefixes: dict[str, str] | None,
        base_iri: str | None = None,
    ) -> QueryResult:
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items()) + sparql
        head = prologue.read(sparql)
        params: dict[str, str | list[str]] = {"query": head.one_base(base_iri)}
        if default_graphs is None and union:
            default_graphs = self.named_graphs()
        if default_graphs is not None:
            params["default-graph-uri"] = default_graphs
            # by the protocol, a dataset given in parameters has only the named graphs listed:
            # list them all, as the embedded store keeps every named graph available
            params["named-graph-uri"] = named_graphs or self.named_graphs()
        elif named_graphs:
            params["named-graph-uri"] = named_graphs
        # by the query's form: Virtuoso answers a CONSTRUCT as a table of ?s ?p ?o to a client
        # that accepts SPARQL results first, and a SELECT as a graph to one that accepts a graph first
        body, ctype = self._post(self.query_url, params, _ACCEPT.get(head.form or "", _ACCEPT_ANY))
        if ctype == "application/n-triples" or ctype == "text/plain":
            return GraphResult([q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)])
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

    def select(self, sparql: str) -> ox.QuerySolutions:
        """The rows of a SELECT query sent as written: over the store's own default graph, with no
        prefixes added (allianceld's own look-ups, which name their graphs)."""
        rows = self.query(sparql, default_graphs=None, named_graphs=None, union=False, prefixes=None)
        assert isinstance(rows, ox.QuerySolutions)
        return rows

    def match(
        self,
        nodes: Iterable[ox.NamedNode | ox.BlankNode],
        predicates: Iterable[ox.NamedNode] | None,
        *,
        incoming: bool,
        graphs: Collection[str],
        limit: int | None = None,
    ) -> list[ox.Quad]:
        """As :meth:`EmbeddedBackend.match`, in one query with VALUES (``limit``: per node and
        predicate; with 1, the store picks one subject (object) of each, so that a hub's thousands of
        triples are not sent). The endpoint's blank nodes cannot be named in a query, so they match nothing."""
        iris = sorted({str(n) for n in nodes if isinstance(n, ox.NamedNode)})
        if not iris:
            return []
        if not graphs:
            return []
        var = "?o" if incoming else "?s"
        values = f"VALUES {var} {{ {' '.join(iris)} }}"
        if predicates is not None:
            values += f" VALUES ?p {{ {' '.join(sorted({str(p) for p in predicates}))} }}"
        # the graphs in a FILTER, not joined as VALUES: Oxigraph joined them before the look-ups (150
        # subjects at 200k triples: 1.5 s, filtered 17 ms)
        named = ", ".join(str(ox.NamedNode(g)) for g in sorted(graphs))
        where = f"{values} GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({named}))"
        if limit == 1:  # one far end per node and predicate, picked by the store, then its quads
            far, pattern = ("?s", "?far ?p ?o") if incoming else ("?o", "?s ?p ?far")
            pick = (
                f"SELECT {var} ?p (SAMPLE(?far) AS {far}) WHERE {{ {values} GRAPH ?pg {{ {pattern} }} "
                f"FILTER(?pg IN ({named})) }} GROUP BY {var} ?p"
            )
            where = f"{{ {pick} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({named}))"
        sparql = f"SELECT ?g ?s ?p ?o WHERE {{ {where} }}"
        body, _ = self._post(self.query_url, {"query": sparql}, "application/sparql-results+json")
        rows = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        quads = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]  # type: ignore[arg-type]
        if limit is None:
            return quads
        kept: dict[tuple[object, object], list[ox.Quad]] = {}
        for q in quads:
            same = kept.setdefault((q.object if incoming else q.subject, q.predicate), [])
            if len(same) < limit:
                same.append(q)
        return [q for same in kept.values() for q in same]

    def update(self, sparql: str) -> None:
        self._post(self.update_url, {"update": sparql}, "*/*", write=True)

    def close(self) -> None:
        pass


def iter_quads(backend: Backend, graphs: Iterable[str]) -> list[ox.Quad]:
    """The quads of several graphs."""
    return [q for g in graphs for q in backend.quads(g)]
