"""Content negotiation: pick a media type from the Accept header (q-values honoured), or 406."""

from __future__ import annotations

from flask import g, request
from werkzeug.datastructures import MIMEAccept

from allianceld.errors import NotAcceptable


def choose(offers: list[str], default: str) -> str:
    """The offered media type the client prefers; ``default`` when it sends no Accept header
    (or accepts anything); :class:`NotAcceptable` when it accepts none of them."""
    if not request.headers.get("Accept"):
        return default
    accept = _accept()
    best = accept.best_match(offers)
    if best is None:
        raise NotAcceptable(
            f"none of the requested media types ({request.headers['Accept']}) is available; "
            f"this resource is offered as {', '.join(offers)}",
            offered=offers,
        )
    if accept[best] == accept["*/*"] and accept.quality(default) >= accept[best]:
        return default  # only a wildcard matched: prefer the natural format
    return best


def _accept() -> MIMEAccept:
    """The request's Accept header, parsed once per request (an endpoint may negotiate several
    kinds of answer). Media-type parameters other than q (``text/turtle; charset=utf-8``) do not
    change the choice, so they are left out."""
    if "accept" not in g:
        g.accept = MIMEAccept([(value.split(";")[0].strip(), q) for value, q in request.accept_mimetypes])
    return g.accept
