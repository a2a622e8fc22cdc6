"""POST /validate: a dry run of the write gate, the SHACL report as JSON, Turtle or HTML.

The RDF comes as a raw body (syntax by Content-Type) or, from the home page's form, as
multipart/form-data (a ``file`` part, or ``data`` + ``format`` fields).

Anyone may validate, and a large body takes seconds and hundreds of megabytes: a client runs
``ALLIANCELD_CLIENT_VALIDATIONS`` validations at once (429 beyond), everyone together
``ALLIANCELD_VALIDATIONS`` (503 beyond), and the memory a large one took is given back after it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from allianceld.rdf import formats
from allianceld.store.admission import Admission
from allianceld.web import memory
from allianceld.web.reports import report_response
from allianceld.web.services import request_client, services
from allianceld.web.views import uploads

bp = Blueprint("validation", __name__)

# bodies at least this large are followed by giving memory back (a collection and a trim take ~10 ms)
LARGE_BODY = 1 * 2**20


def validations() -> Admission:
    """The app's bound on concurrent validations (made on first use from its settings)."""
    admission = current_app.extensions.get("allianceld.validations")
    if admission is None:
        settings = services().settings
        admission = Admission(
            "validations",
            per_client=settings.client_validations,
            total=settings.validations,
            setting="ALLIANCELD_CLIENT_VALIDATIONS",
        )
        admission = current_app.extensions.setdefault("allianceld.validations", admission)
    return admission


@bp.post("/validate")
def validate() -> Response:
    """Validate the posted RDF with the data already in the store; nothing is written."""
    with validations().slot(request_client() or "unknown"):
        triples = uploads.read_triples()
        svc = services()
        report = svc.validator.validate(formats.to_rdflib(triples), svc.kb)
        return report_response(report, status=200)


@bp.teardown_request
def _give_memory_back(_exc: BaseException | None) -> None:
    """After a large body (validated or refused), give the memory its parse took back."""
    if (request.content_length or 0) >= LARGE_BODY:
        memory.give_back()
