"""GET /reasoning: OWL 2 RL derived facts and the OWL 2 DL consistency verdict (JSON and HTML)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from allianceld import reasoning
from allianceld.vocab import INFERRED_GRAPH
from allianceld.web.negotiation import choose
from allianceld.web.services import services

bp = Blueprint("reasoning", __name__)

DERIVED_MEMBERSHIPS = f"""
SELECT ?member ?memberLabel ?organization ?organizationLabel WHERE {{
  GRAPH <{INFERRED_GRAPH}> {{ ?member org:memberOf ?organization }}
  OPTIONAL {{ ?member rdfs:label ?memberLabel FILTER(lang(?memberLabel) = "en") }}
  OPTIONAL {{ ?organization rdfs:label ?organizationLabel FILTER(lang(?organizationLabel) = "en") }}
}} ORDER BY ?organizationLabel ?memberLabel
"""


def reasoning_summary() -> dict[str, Any]:
    """The data behind /reasoning (the HTML page renders exactly this)."""
    svc = services()
    return {
        "inferredGraph": INFERRED_GRAPH,
        "derived": reasoning.derived_counts(svc.kb),
        "memberOf": svc.kb.select(DERIVED_MEMBERSHIPS),
        "consistency": svc.consistency().to_json(),
    }


@bp.get("/reasoning")
def summary() -> Response:
    data = reasoning_summary()
    if choose(["application/json", "text/html"], "application/json") == "text/html":
        return Response(render_template("reasoning.html", data=data))
    return jsonify(data)
