"""POST /validate: a dry run of the write gate, the SHACL report as JSON, Turtle or HTML.

The RDF comes as a raw body (syntax by Content-Type) or, from the home page's form, as
multipart/form-data (a ``file`` part, or ``data`` + ``format`` fields)."""

from __future__ import annotations

from flask import Blueprint, Response

from allianceld import rdfio
from allianceld.web import uploads
from allianceld.web.reports import report_response
from allianceld.web.services import services

bp = Blueprint("validation", __name__)


@bp.post("/validate")
def validate() -> Response:
    """Validate the posted RDF with the data already in the store; nothing is written."""
    triples = uploads.read_triples()
    svc = services()
    report = svc.validator.validate(rdfio.to_rdflib(triples), svc.kb)
    return report_response(report, status=200)
