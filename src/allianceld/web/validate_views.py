"""POST /validate: a dry run of the write gate, the SHACL report as JSON, Turtle or HTML."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from allianceld import rdfio
from allianceld.errors import BadRequest
from allianceld.web.negotiation import choose
from allianceld.web.services import services

bp = Blueprint("validation", __name__)


@bp.post("/validate")
def validate() -> Response:
    """Validate the posted RDF (syntax by Content-Type) with the data already in the store."""
    fmt = rdfio.format_for_media_type(request.content_type)
    body = request.get_data()
    if not body.strip():
        raise BadRequest("the request body is empty: post the RDF to validate", parameter="body")
    triples = rdfio.parse(body, fmt, source="request body")
    svc = services()
    report = svc.validator.validate(rdfio.to_rdflib(triples), svc.kb)
    mime = choose(["application/json", "text/turtle", "text/html"], "application/json")
    if mime == "text/turtle":
        return Response(report.to_turtle(), mimetype="text/turtle")
    if mime == "text/html":
        return Response(render_template("report.html", report=report))
    return jsonify(report.to_json())
