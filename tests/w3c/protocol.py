"""Runs the W3C SPARQL 1.1 Protocol tests (protocol/manifest.ttl) against a live allianceld server.

Each test starts from an empty store holding its ``ut:graphData`` (each file loaded under the graph
IRI its ``rdfs:label`` gives); its requests are sent in order, ``/sparql/`` mapped to ``/sparql``,
and each response is checked for ``mf:expectedStatus``, ``mf:expectedFormat`` ("boolean",
"tabular" or "RDF", judged by the Content-Type and by parsing the body) and ``mf:expectedBoolean``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from w3c.replay import BASE, SUITE, UT, LiveServer, Request, Response, manifest_entries, requests

MANIFEST = SUITE / "protocol" / "manifest.ttl"
RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


@dataclass
class Case:
    name: str
    graph_data: dict[str, list[ox.Triple]]  # graph IRI -> its triples
    requests: list[Request]


def cases() -> list[Case]:
    """Every mf:ProtocolTest of the manifest, in manifest order."""
    g, entries = manifest_entries(MANIFEST)
    found = []
    for test in entries:
        data: dict[str, list[ox.Triple]] = {}
        for node in g.objects(test, UT.graphData):
            path = SUITE / str(g.value(node, UT.graph)).removeprefix(BASE)
            triples = [q.triple for q in ox.parse(path.read_bytes(), format=ox.RdfFormat.N_TRIPLES)]
            data[str(g.value(node, rdflib.RDFS.label))] = triples
        found.append(Case(str(test).rsplit("#", 1)[-1], data, requests(g, test)))
    return found


def _format_problem(req: Request, resp: Response) -> str | None:
    """Why the response body is not of the expected format (and value), or None."""
    want = req.expected.format
    if want in ("boolean", "tabular"):
        fmt = RESULTS.get(resp.media_type)
        if fmt is None:
            return f"{want} results expected, got Content-Type {resp.media_type!r}"
        try:
            result = ox.parse_query_results(resp.body, format=fmt)
        except (SyntaxError, ValueError) as exc:
            return f"results do not parse as {resp.media_type}: {exc}"
        if want == "boolean":
            if not isinstance(result, ox.QueryBoolean):
                return "a boolean result expected"
            if req.expected.boolean is not None and bool(result) != req.expected.boolean:
                return f"expected {req.expected.boolean}, got {bool(result)}"
        elif not isinstance(result, ox.QuerySolutions):
            return "solutions expected"
    elif want == "RDF":
        fmt = RDF.get(resp.media_type)
        if fmt is None:
            return f"RDF expected, got Content-Type {resp.media_type!r}"
        try:
            list(ox.parse(resp.body, format=fmt))
        except (SyntaxError, ValueError) as exc:
            return f"the graph does not parse as {resp.media_type}: {exc}"
    return None


def check(server: LiveServer, case: Case) -> str | None:
    """Run one test; None when it passes, otherwise why not."""
    server.reset()
    server.kb.replace_graphs(case.graph_data)
    for i, req in enumerate(case.requests, 1):
        path = "/sparql" + req.path.removeprefix("/sparql/")  # "/sparql/?query=…" -> "/sparql?query=…"
        resp = server.send(req.method, path, req.headers, req.body)
        if not req.expected.status_ok(resp.status):
            return f"request {i}: HTTP {resp.status}, expected {'/'.join(req.expected.statuses)}: {resp.body[:300]!r}"
        problem = _format_problem(req, resp)
        if problem:
            return f"request {i}: {problem}"
    return None
