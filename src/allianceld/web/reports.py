"""Validation reports by content negotiation: JSON (the default), Turtle (an
``sh:ValidationReport``) or an HTML page; the same for /validate and for every refused write."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template

from allianceld.errors import NotAcceptable
from allianceld.validation.report import Report
from allianceld.web.negotiation import choose

REPORT_TYPES = ["application/json", "text/turtle", "text/html"]


def report_type(*, strict: bool = True) -> str:
    """The report media type the client prefers; with ``strict=False`` JSON instead of a 406."""
    try:
        return choose(REPORT_TYPES, "application/json")
    except NotAcceptable:
        if strict:
            raise
        return "application/json"


def report_response(
    report: Report, *, status: int, json_body: dict[str, Any] | None = None, refused: str | None = None
) -> Response:
    """``report`` in the negotiated type. ``json_body`` replaces the JSON (an error's shape);
    ``refused`` is the message of a refused write, shown above the HTML report."""
    mime = report_type(strict=refused is None)
    if mime == "text/turtle":
        return Response(report.to_turtle(), status, mimetype="text/turtle")
    if mime == "text/html":
        return Response(render_template("report.html", report=report, refused=refused), status)
    resp = jsonify(json_body if json_body is not None else report.to_json())
    resp.status_code = status
    return resp
