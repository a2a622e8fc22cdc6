"""SPARQL 1.1 Graph Store HTTP Protocol at /data (``?graph=<IRI>`` or ``?default``): GET, HEAD, PUT,
POST, DELETE. Every write passes the same gate as /sparql updates and ``allianceld load``, and
``write.graph_policy`` decides who may write which graph. The protocol as users see it is in
docs/http-api.md; the default graph and empty graphs in docs/architecture.md ("Design notes").
"""

from __future__ import annotations

import urllib.parse
import uuid

import pyoxigraph as ox
from flask import Blueprint, Response, request

from allianceld.errors import BadRequest, NotFound, UnsupportedMediaType
from allianceld.rdf import formats
from allianceld.vocab import DEFAULT_GRAPH, USER_GRAPH_BASE
from allianceld.web import write_keys
from allianceld.web.auth import require
from allianceld.web.negotiation import choose
from allianceld.web.services import Services, get_kb, services
from allianceld.web.views.metadata import request_base
from allianceld.web.write_keys import KeyedWrite
from allianceld.write import gate, graph_policy
from allianceld.write.graph_policy import Writer

bp = Blueprint("graph_store", __name__)


def _target(*, optional: bool = False) -> str | None:
    """The graph IRI the request names (:data:`DEFAULT_GRAPH` for ``?default``); None when it names
    none and ``optional``; 400 when it names both, none, or a graph that is not an absolute IRI."""
    graph, default = request.args.get("graph"), "default" in request.args
    if graph is not None and default:
        raise BadRequest("name one of ?graph=<IRI> or ?default, not both", parameter="graph")
    if default:
        return DEFAULT_GRAPH
    if graph is None:
        if optional:
            return None
        raise BadRequest("name the graph with ?graph=<IRI> or ?default", parameter="graph")
    try:
        iri = ox.NamedNode(graph).value
    except ValueError:
        raise BadRequest(f"?graph is not an absolute IRI: {graph!r}", parameter="graph") from None
    if {".", ".."} & set(urllib.parse.unquote(urllib.parse.urlsplit(iri).path).split("/")):
        raise BadRequest(  # …/graph/data/../ontology would be a second name for another graph
            f"?graph has a '.' or '..' segment in its path: {graph!r}; name the graph in its normal form",
            parameter="graph",
        )
    return iri


@bp.route("/data", methods=["GET", "HEAD"])
def read() -> Response:
    """The graph in the RDF syntax the client prefers (406 when it accepts none); 404 when absent.
    A HEAD response has the same headers, its body dropped by the server."""
    graph = _target()
    kb = get_kb()
    mime = choose(list(formats.OUTPUT_TYPES), "text/turtle")
    if graph != DEFAULT_GRAPH and graph not in kb.graphs():
        raise NotFound(f"no graph <{graph}> in the store")
    body = ox.serialize(kb.triples(graph), format=formats.OUTPUT_TYPES[mime]) or b""
    return Response(body, mimetype=mime)


def _body() -> list[ox.Triple]:
    """The triples of the request body; for POST, each file part of a multipart/form-data body."""
    if request.mimetype != "multipart/form-data":
        fmt = formats.format_for_media_type(request.content_type)
        return formats.parse(request.get_data(), fmt, source="request body", base_iri=request_base())
    if request.method != "POST":
        raise UnsupportedMediaType("multipart/form-data is taken by POST only (Graph Store Protocol, section 5.5)")
    if request.form or not request.files:
        raise BadRequest("each part of a multipart/form-data body must be a file part with its own Content-Type")
    triples: list[ox.Triple] = []
    for name, part in request.files.items(multi=True):
        fmt = formats.format_for_media_type(part.content_type)
        triples += formats.parse(part.read(), fmt, source=part.filename or name, base_iri=request_base())
    return triples


@bp.route("/data", methods=["PUT", "POST", "DELETE"])
def write() -> Response:
    """PUT replaces a graph, POST adds to it (or, to /data itself, creates one), DELETE removes it;
    each validated and atomic."""
    writer = Writer.of(require("contributor"))
    target = _target(optional=request.method == "POST")
    graph = target or USER_GRAPH_BASE + f"posted-{uuid.uuid4().hex}"
    graph_policy.check_write(graph, writer)  # before reading the body (the gate asks again)
    incoming = _body() if request.method != "DELETE" else []
    svc = services()
    with write_keys.keyed(svc.kb, writer.agent) as keyed:
        if keyed.replay is not None:
            return write_keys.replayed(keyed.replay)
        # no other write between reading the graph and committing it (nor another service's)
        status, location = svc.kb.exclusive(lambda: _written(svc, graph, target, incoming, writer, keyed))
    if location is not None:
        return _no_body(status, Location=location)
    return _no_body(status)


def _written(
    svc: Services, graph: str, target: str | None, incoming: list[ox.Triple], writer: Writer, keyed: KeyedWrite
) -> tuple[int, str | None]:
    """The write of :func:`write`, from the store as it is now: its status and Location."""
    existed = graph == DEFAULT_GRAPH or graph in svc.kb.graphs()
    if request.method == "DELETE" and not existed:
        raise NotFound(f"no graph <{graph}> in the store")
    triples = svc.kb.triples(graph) + incoming if request.method == "POST" else incoming
    if not triples and request.method != "DELETE" and graph != DEFAULT_GRAPH:
        raise BadRequest(
            f"the write would leave <{graph}> without triples, and the store keeps a named graph only while "
            "it has some: send triples, or DELETE the graph"
        )
    status = 201 if target is None or (request.method != "DELETE" and not existed) else 204
    location = graph if target is None else None
    gate.commit(
        svc.kb,
        svc.write_policy,
        [gate.Source(graph, triples, f"{request.method} /data")],
        writer=writer,
        provenance=keyed.record(status, location=location),
    )
    return status, location


def _no_body(status: int, **headers: str) -> Response:
    """A response without a body, and so without a Content-Type."""
    resp = Response(status=status, headers=headers)
    del resp.headers["Content-Type"]
    return resp
