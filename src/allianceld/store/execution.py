"""One SPARQL query, from request to serialised answer, the same in this process or in a worker.

A :class:`QueryRequest` carries everything needed to run a query and write its result in the media
type the client negotiated, so it can be sent to a query worker process (see ``query_pool``) and
the answer sent back as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from allianceld.errors import NotAcceptable, ResultTooLarge
from allianceld.rdf import depth, formats
from allianceld.store import federation
from allianceld.store.backends import EmbeddedBackend, QueryResult
from allianceld.store.knowledgebase import KnowledgeBase

RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


@dataclass(frozen=True)
class QueryRequest:
    """A query and how to answer it: ``results_type`` for SELECT/ASK and ``graph_type`` for
    CONSTRUCT/DESCRIBE are the negotiated media types (None when the client accepts none).
    ``services`` are the endpoints SERVICE may call (normalised; empty: none may), and
    ``service_timeout`` the seconds a query that calls one may take. Relative IRIs in the query
    resolve against ``base_iri`` unless it declares its own ``BASE``."""

    sparql: str
    results_type: str | None
    graph_type: str | None
    max_bytes: int
    inference: bool = True
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    service_timeout: float = 30.0
    base_iri: str | None = None


@dataclass(frozen=True)
class Answer:
    """A serialised query result: ``kind`` is "solutions", "boolean" or "graph"."""

    kind: str
    media_type: str
    body: bytes


class _BoundedBuffer:
    """A write target that refuses to grow past ``limit`` bytes (the maximum result size)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.data = limit, bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        if len(self.data) > self.limit:
            raise ResultTooLarge(
                f"the result is larger than the maximum of {self.limit} bytes: add a LIMIT or narrow the query",
                limit=self.limit,
            )
        return len(chunk)

    def flush(self) -> None:
        pass


def execute(kb: KnowledgeBase, request: QueryRequest) -> Answer:
    """Run the query on ``kb`` and serialise its result within ``request.max_bytes``. Its SERVICE
    endpoints are checked against ``request.services`` first (400 before anything connects); a
    federated query on the embedded store is given ``request.service_timeout`` seconds (504)."""
    depth.check_sparql(request.sparql)  # before rdflib's or pyoxigraph's parser recurses
    endpoints = federation.check_query(request.sparql, request.services)
    if endpoints and isinstance(kb.backend, EmbeddedBackend):
        return federation.run_with_deadline(lambda: _execute(kb, request), request.service_timeout, endpoints)
    return _execute(kb, request)


def _execute(kb: KnowledgeBase, request: QueryRequest) -> Answer:
    result: QueryResult = kb.query(
        request.sparql,
        inference=request.inference,
        default_graph_uris=list(request.default_graph_uris) or None,
        named_graph_uris=list(request.named_graph_uris) or None,
        base_iri=request.base_iri,
    )
    if isinstance(result, ox.QueryBoolean):
        kind, media_type = "boolean", _needed(request.results_type, "a boolean", list(RESULT_TYPES))
        if RESULT_TYPES[media_type] in (ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV):
            return Answer(kind, media_type, b"true\n" if bool(result) else b"false\n")
        fmt: ox.QueryResultsFormat | ox.RdfFormat = RESULT_TYPES[media_type]
    elif isinstance(result, ox.QuerySolutions):
        kind, media_type = "solutions", _needed(request.results_type, "solutions", list(RESULT_TYPES))
        fmt = RESULT_TYPES[media_type]
    else:
        kind, media_type = "graph", _needed(request.graph_type, "a graph", list(formats.OUTPUT_TYPES))
        fmt = formats.OUTPUT_TYPES[media_type]
    out = _BoundedBuffer(request.max_bytes)
    result.serialize(out, format=fmt)
    return Answer(kind, media_type, bytes(out.data))


def _needed(media_type: str | None, what: str, offered: list[str]) -> str:
    if media_type is None:
        raise NotAcceptable(
            f"the query gives {what}, offered as {', '.join(offered)}; the request accepts none of them",
            offered=offered,
        )
    return media_type
