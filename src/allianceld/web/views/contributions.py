"""/contributions: POST data (a contributor token) into a named graph of its own with PROV-O
provenance; GET the list (paged, newest first) or one contribution (its data and its record, by
content negotiation); DELETE retracts one (an admin token), keeping its record."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request, url_for

from allianceld.browse import describe
from allianceld.errors import BadRequest, NotFound
from allianceld.rdf import formats
from allianceld.vocab import PREFIXES
from allianceld.web import write_keys
from allianceld.web.auth import require
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb, services
from allianceld.web.views import uploads
from allianceld.web.views.resources import term_view
from allianceld.write import contributions

bp = Blueprint("contributions", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
DATASET_TYPES = {"application/trig": ox.RdfFormat.TRIG, "application/n-quads": ox.RdfFormat.N_QUADS}
ONE_TYPES = ["application/json", "text/html", *DATASET_TYPES, *formats.OUTPUT_TYPES]


@bp.post("/contributions")
def create() -> Response:
    """Validate the posted RDF with the store's data and commit it with its provenance: 201 with
    Location, or 422 with the report (nothing written)."""
    principal = require("contributor")
    source, license = uploads.iri_field("source"), uploads.iri_field("license")
    comment = uploads.field("comment")
    triples = uploads.read_triples()
    svc = services()
    with write_keys.keyed(svc.kb, principal.name) as keyed:
        if keyed.replay is not None:
            return _replayed(keyed.replay)
        cid = contributions.new_id()
        location = url_for("contributions.one", contribution_id=cid)
        found, result = contributions.contribute(
            svc.kb,
            svc.write_policy,
            triples,
            agent=principal.name,
            source=source,
            license=license,
            comment=comment,
            contribution_id=cid,
            write_record=keyed.record(201, location=location, contribution=cid),
        )
    body = {**found.to_json(), "warnings": [r.to_json() for r in result.report.warnings]}
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = url_for("contributions.one", contribution_id=found.id)
    return resp


def _replayed(landed: write_keys.Landed) -> Response:
    """A retry of a contribution's write that landed: the contribution as it is now."""
    cid = landed.outcome.contribution
    found = contributions.find(get_kb(), cid) if cid else None
    return write_keys.replayed(landed, found.to_json() if found is not None else None)


def _int(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """A whole-number query parameter within bounds; 400 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
        raise BadRequest(f"'{name}' must be a whole number {bounds}, not {raw!r}", parameter=name)
    return value


@bp.get("/contributions")
def listing() -> Response:
    """The contributions, newest first: JSON ``{"items", "total", "limit", "offset", "next"}``, or an
    HTML table for browsers."""
    limit, offset = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _int("offset", 0, 0)
    items, total = contributions.page(get_kb(), limit=limit, offset=offset)
    following = offset + limit if items and offset + limit < total else None
    data: dict[str, Any] = {
        "items": [c.to_json() for c in items],
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": url_for("contributions.listing", limit=limit, offset=following) if following is not None else None,
    }
    if choose(["application/json", "text/html"], "application/json") == "text/html":
        previous = max(0, offset - limit) if offset > 0 else None
        prev_url = url_for("contributions.listing", limit=limit, offset=previous) if previous is not None else None
        return Response(render_template("contributions.html", data=data, previous=prev_url))
    return jsonify(data)


def _find(contribution_id: str) -> contributions.Contribution:
    found = contributions.find(get_kb(), contribution_id)
    if found is None:
        raise NotFound(f"no contribution {contribution_id!r}")
    return found


# prefixes for reading (no "id:", whose local names would need escaped slashes)
_TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k != "id"}


def _turtle(triples: list[ox.Triple]) -> str:
    """Triples as Turtle, grouped by subject."""
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return (ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=_TURTLE_PREFIXES) or b"").decode("utf-8")


def _written(kb: Any, triples: list[ox.Triple]) -> list[dict[str, Any]]:
    """The resources a contribution's triples describe (their subjects that are IRIs), as the pages
    show terms: label and link to their page here, by label."""
    iris = sorted({t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)})
    labels = describe.labels(kb, iris)
    views = [term_view(ox.NamedNode(i), labels) for i in iris]
    return sorted(views, key=lambda v: ((v["label"] or v["short"]).casefold(), v["iri"]))


@bp.get("/contributions/<contribution_id>")
def one(contribution_id: str) -> Response:
    """One contribution: its record and its data (none once retracted), as JSON, an HTML page,
    TriG / N-Quads (each graph as itself) or one merged graph in any RDF syntax."""
    found = _find(contribution_id)
    mime = choose(ONE_TYPES, "application/json")
    kb = get_kb()
    data, record = contributions.data(kb, found), contributions.record(kb, found)
    if mime in DATASET_TYPES:
        quads = kb.quads([found.graph, found.record])
        return Response(ox.serialize(quads, format=DATASET_TYPES[mime]) or b"", mimetype=mime)
    if mime in formats.OUTPUT_TYPES:
        return Response(ox.serialize(data + record, format=formats.OUTPUT_TYPES[mime]) or b"", mimetype=mime)
    body = {
        **found.to_json(),
        "data": {"mediaType": "text/turtle", "text": _turtle(data)},
        "provenance": {"mediaType": "text/turtle", "text": _turtle(record)},
    }
    if mime == "text/html":
        written = _written(kb, data)
        return Response(render_template("contribution.html", c=body, written=written, formats=ONE_TYPES))
    return jsonify(body)


@bp.delete("/contributions/<contribution_id>")
def retract(contribution_id: str) -> Response:
    """Retract a contribution (admin): its data leaves the store through the write gate (422 and
    nothing changed if other data needs it); its record stays, with the retraction added."""
    principal = require("admin")
    _find(contribution_id)
    svc = services()
    with write_keys.keyed(svc.kb, principal.name) as keyed:
        if keyed.replay is not None:
            return _replayed(keyed.replay)
        retracted = contributions.retract(
            svc.kb,
            svc.write_policy,
            contribution_id,
            agent=principal.name,
            reason=uploads.field("reason"),
            write_record=keyed.record(200, contribution=contribution_id),
        )
    return jsonify(retracted.to_json())
