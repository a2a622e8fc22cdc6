"""SPARQL 1.1 Query Protocol at /sparql: GET, POST form and POST direct; results by Accept."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request, send_from_directory

from allianceld import gate, rdfio, sparql_update
from allianceld.errors import BadRequest, Forbidden, ResultTooLarge, UnsupportedMediaType
from allianceld.store.backends import QueryResult
from allianceld.vocab import ONTOLOGY_GRAPH, PREFIXES
from allianceld.web.auth import require
from allianceld.web.metadata import rdf_response, service_description, wants_rdf
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb, services

bp = Blueprint("sparql", __name__)

RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer a SPARQL query; a browser without a query gets the query form."""
    query, update = _operation()
    if update is not None:
        return _update(update)
    if query is None:
        if wants_rdf():
            return rdf_response(service_description(get_kb(), request.base_url))
        if choose(["text/html", "application/json"], "application/json") == "text/html":
            return _editor()
        raise BadRequest("missing the 'query' parameter (SPARQL 1.1 Protocol, section 2.1)", parameter="query")
    inference = request.values.get("inference", "true").lower() not in ("false", "0", "no")
    result = get_kb().query(
        query,
        inference=inference,
        default_graph_uris=request.values.getlist("default-graph-uri") or None,
        named_graph_uris=request.values.getlist("named-graph-uri") or None,
    )
    return _render(result, query)


def _examples() -> list[dict[str, str]]:
    """The example queries of docs/queries, each with the title taken from its first comment line."""
    examples = []
    for path in sorted(services().settings.queries_dir.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        title = first.lstrip("# ").strip() if first.startswith("#") else path.stem.replace("-", " ")
        examples.append({"name": path.stem, "title": title, "query": text})
    return examples


@bp.get("/assets/yasgui/<path:name>")
def yasgui_asset(name: str) -> Response:
    """YASGUI's files, served from the npm package (no CDN)."""
    return send_from_directory(services().settings.yasgui_dir, name, max_age=3600)


def _editor() -> Response:
    """The query editor: YASGUI when its package is installed, a plain form otherwise."""
    examples = _examples()
    has_yasgui = (services().settings.yasgui_dir / "yasgui.min.js").is_file()
    first = examples[0]["query"] if examples else ""
    return Response(
        render_template("sparql.html", query=first, prefixes=PREFIXES, examples=examples, yasgui=has_yasgui)
    )


def _update(update: str) -> Response:
    """SPARQL 1.1 Update: needs a contributor token (admin for the ontology graph); validated by
    the write gate like every other write, and refused whole with 422 when the result is invalid.
    ``using-graph-uri`` / ``using-named-graph-uri`` set the dataset of every WHERE clause."""
    principal = require("contributor")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"SPARQL Update must be sent in UTF-8, not {charset}")
    # the protocol's dataset for the WHERE clauses (section 2.2.3), written in as USING / USING NAMED
    update = sparql_update.with_dataset(
        update, request.values.getlist("using-graph-uri"), request.values.getlist("using-named-graph-uri")
    )

    def authorize(changed: list[str]) -> None:
        if ONTOLOGY_GRAPH in changed and not principal.has("admin"):
            raise Forbidden(f"changing the ontology graph <{ONTOLOGY_GRAPH}> needs the admin role")

    svc = services()
    # relative IRIs resolve against the endpoint's URL, as the protocol suggests
    result = gate.apply_update(svc.kb, svc.validator, update, authorize=authorize, base_iri=request.base_url)
    return jsonify(
        {
            "graphs": result.graphs,
            "triples": result.triples,
            "inferred": result.reasoning.inferred if result.reasoning else None,
            "warnings": [r.to_json() for r in result.report.warnings],
        }
    )


def _operation() -> tuple[str | None, str | None]:
    """The query or update string of the request, following the protocol's three forms."""
    if request.method == "GET":
        queries = request.args.getlist("query")
        if len(queries) > 1:
            raise BadRequest("more than one 'query' parameter", parameter="query")
        if "update" in request.args:
            raise BadRequest("SPARQL Update must be sent with POST", parameter="update")
        return (queries[0] if queries else None), None
    ctype = (request.mimetype or "").lower()
    if ctype == "application/x-www-form-urlencoded":
        queries, updates = request.form.getlist("query"), request.form.getlist("update")
        if len(queries) + len(updates) != 1:
            raise BadRequest("send exactly one 'query' or one 'update' parameter", parameter="query")
        return (queries[0] if queries else None), (updates[0] if updates else None)
    body = request.get_data(as_text=True)
    if ctype == "application/sparql-query":
        return body, None
    if ctype == "application/sparql-update":
        return None, body
    raise UnsupportedMediaType(
        f"POST /sparql takes application/x-www-form-urlencoded, application/sparql-query or "
        f"application/sparql-update, not {ctype or '(none)'}"
    )


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


def _serialize(result: QueryResult, fmt: ox.RdfFormat | ox.QueryResultsFormat) -> bytes:
    out = _BoundedBuffer(services().settings.max_result_bytes)
    result.serialize(out, format=fmt)
    return bytes(out.data)


def _render(result: QueryResult, query: str) -> Response:
    if not isinstance(result, ox.QuerySolutions | ox.QueryBoolean):  # CONSTRUCT or DESCRIBE
        mime = choose(list(rdfio.OUTPUT_TYPES), "text/turtle")
        return Response(_serialize(result, rdfio.OUTPUT_TYPES[mime]), mimetype=mime)
    offers = [*RESULT_TYPES, "text/html"]
    mime = choose(offers, "application/sparql-results+json")
    if mime == "text/html":
        return _html(result, query)
    fmt = RESULT_TYPES[mime]
    if isinstance(result, ox.QueryBoolean) and fmt in (ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV):
        return Response("true\n" if bool(result) else "false\n", mimetype=mime)
    return Response(_serialize(result, fmt), mimetype=mime)


def _html(result: ox.QuerySolutions | ox.QueryBoolean, query: str) -> Response:
    if isinstance(result, ox.QueryBoolean):
        return Response(render_template("sparql.html", query=query, boolean=bool(result), prefixes=PREFIXES))
    names = [v.value for v in result.variables]
    rows = [[row[n] for n in names] for row in result]
    return Response(render_template("sparql.html", query=query, columns=names, rows=rows, prefixes=PREFIXES))
