"""Content negotiation: pick a media type from the Accept header (q-values honoured), or 406."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import MIMEAccept

from allianceld.errors import NotAcceptable


def choose(offers: list[str], default: str) -> str:
    """The offered media type the client prefers; ``default`` when it sends no Accept header
    (or accepts anything); :class:`NotAcceptable` when it accepts none of them."""
    if not request.headers.get("Accept"):
        return default
    # media-type parameters other than q (e.g. "text/turtle; charset=utf-8") do not change the choice
    accept = MIMEAccept([(value.split(";")[0].strip(), q) for value, q in request.accept_mimetypes])
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
