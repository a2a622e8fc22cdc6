"""SPARQL 1.1 Query Protocol at /sparql: GET, POST form and POST direct; results by Accept."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request, send_from_directory
from rdflib import URIRef

from allianceld.browse import describe
from allianceld.browse.descriptions import SD, service_description
from allianceld.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from allianceld.rdf import formats
from allianceld.store.execution import RESULT_TYPES, Answer, QueryRequest
from allianceld.vocab import ALD, ID_BASE, PREFIXES
from allianceld.web import write_keys
from allianceld.web.auth import require
from allianceld.web.examples import example_queries
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb, services
from allianceld.web.views.metadata import public_url, rdf_response, request_base, wants_rdf
from allianceld.web.views.resources import term_view
from allianceld.write import gate, sparql_update
from allianceld.write.graph_policy import Writer

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer a SPARQL query; a browser without a query gets the query form."""
    query, update = _operation()
    if update is not None:
        return _update(update)
    if query is None:
        if wants_rdf():
            description = service_description(get_kb(), public_url("sparql"))
            if services().settings.service_endpoints:  # SERVICE works, to the allowlisted endpoints
                description.add((URIRef(public_url("sparql")), SD.feature, SD.BasicFederatedQuery))
            return rdf_response(description)
        if choose(["text/html", "application/json"], "application/json") == "text/html":
            return _editor()
        raise BadRequest("missing the 'query' parameter (SPARQL 1.1 Protocol, section 2.1)", parameter="query")
    results_type = _negotiate([*RESULT_TYPES, "text/html"], "application/sparql-results+json")
    html = results_type == "text/html"  # rendered here from the JSON results
    answer = services().answer(
        QueryRequest(
            query,
            results_type="application/sparql-results+json" if html else results_type,
            graph_type=_negotiate(list(formats.OUTPUT_TYPES), "text/turtle"),
            max_bytes=services().settings.max_result_bytes,
            inference=request.values.get("inference", "true").lower() not in ("false", "0", "no"),
            default_graph_uris=tuple(request.values.getlist("default-graph-uri")),
            named_graph_uris=tuple(request.values.getlist("named-graph-uri")),
            services=services().settings.service_endpoints,
            service_timeout=services().settings.service_timeout,
            base_iri=request_base(),  # relative IRIs resolve against the endpoint, as in an update
        )
    )
    if html and answer.kind != "graph":
        return _html(answer, query)
    return Response(answer.body, mimetype=answer.media_type)


def _negotiate(offers: list[str], default: str) -> str | None:
    """The media type for one kind of result; None when the client accepts none of them (the
    answer is 406 only if the query gives that kind)."""
    try:
        return choose(offers, default)
    except NotAcceptable:
        return None


@bp.get("/assets/yasgui/<path:name>")
def yasgui_asset(name: str) -> Response:
    """YASGUI's files, served from the npm package (no CDN)."""
    return send_from_directory(services().settings.yasgui_dir, name, max_age=3600)


def _editor() -> Response:
    """The query editor: YASGUI when its package is installed, a plain form otherwise."""
    examples = [e.to_json() for e in example_queries(services().settings.queries_dir)]
    has_yasgui = (services().settings.yasgui_dir / "yasgui.min.js").is_file()
    first = examples[0]["query"] if examples else ""
    # the result links open this server's pages for the IRIs it serves (describe.local_path)
    local = {base: describe.local_path(base) for base in (ID_BASE, str(ALD))}
    return Response(
        render_template(
            "sparql.html", query=first, prefixes=PREFIXES, examples=examples, yasgui=has_yasgui, local=local
        )
    )


def _update(update: str) -> Response:
    """SPARQL 1.1 Update: needs a contributor token (and what ``write.graph_policy`` asks for the graphs it
    changes: admin for the ontology and curated data); validated by the write gate like every other
    write, and refused whole with 422 when the result is invalid.
    ``using-graph-uri`` / ``using-named-graph-uri`` set the dataset of every WHERE clause."""
    writer = Writer.of(require("contributor"))
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"SPARQL Update must be sent in UTF-8, not {charset}")
    # the protocol's dataset for the WHERE clauses (section 2.2.3), written in as USING / USING NAMED
    update = sparql_update.with_dataset(
        update, request.values.getlist("using-graph-uri"), request.values.getlist("using-named-graph-uri")
    )

    svc = services()
    # relative IRIs resolve against the endpoint's URL, as in a query
    with write_keys.keyed(svc.kb, writer.agent) as keyed:
        if keyed.replay is not None:
            return write_keys.replayed(keyed.replay)
        result = gate.apply_update(
            svc.kb, svc.write_policy, update, writer=writer, base_iri=request_base(), provenance=keyed.record(200)
        )
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


def _html(answer: Answer, query: str) -> Response:
    result = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
    if isinstance(result, ox.QueryBoolean):
        return Response(render_template("sparql.html", query=query, boolean=bool(result), prefixes=PREFIXES))
    names = [v.value for v in result.variables]
    rows = [[term_view(row[n], {}) if row[n] is not None else None for n in names] for row in result]
    return Response(render_template("sparql.html", query=query, columns=names, rows=rows, prefixes=PREFIXES))
