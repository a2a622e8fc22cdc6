"""Dataset descriptions generated from the store: SPARQL Service Description and VoID."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib
from flask import Blueprint, Response, request

from allianceld.browse.descriptions import void_description
from allianceld.rdf import formats
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb, services

bp = Blueprint("metadata", __name__)


def public_url(path: str = "") -> str:
    """The absolute public URL of ``path`` on this service, from the configured base URL
    (``Settings.public_url``), never from the request's ``Host`` header."""
    return services().settings.public_url + path.lstrip("/")


def request_base() -> str:
    """The base IRI of the relative IRIs in a request's RDF body or SPARQL text: the public URL of
    the path the request was sent to (:func:`public_url`, so the configured base when one is set),
    without its query string."""
    return public_url(request.path)


def rdf_response(graph: rdflib.Graph) -> Response:
    """Serialise ``graph`` in the RDF syntax the client prefers (Turtle by default)."""
    mime = choose(list(formats.OUTPUT_TYPES), "text/turtle")
    body = ox.serialize(formats.from_rdflib(graph), format=formats.OUTPUT_TYPES[mime]) or b""
    return Response(body, mimetype=mime)


def wants_rdf() -> bool:
    """True when the client asks for an RDF syntax rather than HTML or query results."""
    if not request.headers.get("Accept"):
        return False
    rdf = [m for m in formats.OUTPUT_TYPES if m != "text/plain"]
    best = request.accept_mimetypes.best_match([*rdf, "text/html", "application/sparql-results+json"])
    return best in rdf


@bp.get("/.well-known/void")
def void() -> Response:
    return rdf_response(void_description(get_kb(), public_url()))
