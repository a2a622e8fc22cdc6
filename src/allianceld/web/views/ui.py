"""The home page: what is in the store, with links to the rest (HTML, JSON twin)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from allianceld import __version__
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb
from allianceld.web.views.uploads import FORMATS

bp = Blueprint("ui", __name__)

COUNTS = """
SELECT
  (COUNT(DISTINCT ?alliance) AS ?alliances)
  (COUNT(DISTINCT ?state) AS ?states)
  (COUNT(DISTINCT ?membership) AS ?memberships)
  (COUNT(DISTINCT ?treaty) AS ?treaties)
WHERE {
  { ?alliance a ald:Alliance } UNION { ?state a ald:State }
  UNION { ?membership a org:Membership } UNION { ?treaty a ald:Treaty }
}
"""


def home_data() -> dict[str, Any]:
    kb = get_kb()
    counts = {k: int(v) for k, v in kb.select(COUNTS)[0].items()}
    return {
        "name": "allianceld",
        "version": __version__,
        "counts": counts,
        "triples": kb.count(),
        "graphs": kb.graphs(),
        "links": {
            "sparql": "/sparql",
            "validate": "/validate",
            "contributions": "/contributions",
            "reasoning": "/reasoning",
            "alliances": "/alliances",
            "states": "/states",
            "ontology": "/ontology",
        },
    }


@bp.get("/")
def home() -> Response:
    data = home_data()
    if choose(["text/html", "application/json"], "text/html") == "application/json":
        return jsonify(data)
    return Response(render_template("home.html", data=data, formats=FORMATS))
