"""SPARQL 1.1 Graph Store HTTP Protocol at /data?graph=IRI: GET, HEAD, PUT, POST, DELETE.

Every write passes the same gate as /sparql updates and `allianceld load`. allianceld keeps every
triple in a named graph, so ``?default`` is readable (and empty) but not writable.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request

from allianceld import gate, rdfio
from allianceld.errors import BadRequest, Forbidden, NotFound
from allianceld.tokens import Principal
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH
from allianceld.web.auth import require
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb, services

bp = Blueprint("graph_store", __name__)


def _target() -> str | None:
    """The graph IRI named by the request (None for ``?default``); 400 when neither or both."""
    graph, default = request.args.get("graph"), "default" in request.args
    if bool(graph) == default:
        raise BadRequest("name exactly one of ?graph=<IRI> or ?default", parameter="graph")
    if graph is None:
        return None
    try:
        return ox.NamedNode(graph).value
    except ValueError:
        raise BadRequest(f"?graph is not an absolute IRI: {graph!r}", parameter="graph") from None


@bp.route("/data", methods=["GET", "HEAD"])
def read() -> Response:
    graph = _target()
    kb = get_kb()
    mime = choose(list(rdfio.OUTPUT_TYPES), "text/turtle")
    if graph is None:
        triples: list[ox.Triple] = []
    elif graph not in kb.graphs():
        raise NotFound(f"no graph <{graph}> in the store")
    else:
        triples = kb.triples(graph)
    body = ox.serialize(triples, format=rdfio.OUTPUT_TYPES[mime]) or b""
    return Response(b"" if request.method == "HEAD" else body, mimetype=mime)


def _writable(graph: str | None, principal: Principal) -> str:
    if graph is None:
        raise BadRequest("allianceld keeps every triple in a named graph: write with ?graph=<IRI>", parameter="default")
    if graph == INFERRED_GRAPH:
        raise BadRequest(f"the inferred graph <{graph}> is computed by the reasoner; it cannot be written")
    if graph == ONTOLOGY_GRAPH and not principal.has("admin"):
        raise Forbidden(f"changing the ontology graph <{graph}> needs the admin role")
    return graph


def _body() -> list[ox.Triple]:
    fmt = rdfio.format_for_media_type(request.content_type)
    return rdfio.parse(request.get_data(), fmt, source="request body")


@bp.route("/data", methods=["PUT", "POST", "DELETE"])
def write() -> Response:
    """PUT replaces a graph, POST adds to it, DELETE removes it; each validated and atomic."""
    principal = require("contributor")
    graph = _writable(_target(), principal)
    svc = services()
    existed = graph in svc.kb.graphs()
    if request.method == "DELETE":
        if not existed:
            raise NotFound(f"no graph <{graph}> in the store")
        triples: list[ox.Triple] = []
    elif request.method == "PUT":
        triples = _body()
    else:
        triples = svc.kb.triples(graph) + _body()
    gate.commit(svc.kb, svc.validator, [gate.Source(graph, triples, f"{request.method} /data")])
    return Response(status=201 if request.method != "DELETE" and not existed else 204)
