"""Content negotiation: pick a media type from the Accept header (q-values honoured), or 406."""

from __future__ import annotations

from functools import lru_cache

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from allianceld.errors import NotAcceptable


def choose(offers: list[str], default: str) -> str:
    """The offered media type the client prefers; ``default`` when it sends no Accept header
    (or accepts anything); :class:`NotAcceptable` when it accepts none of them."""
    header = request.headers.get("Accept")
    if not header:
        return default
    best = _choice(header, tuple(offers), default)
    if best is None:
        raise NotAcceptable(
            f"none of the requested media types ({header}) is available; "
            f"this resource is offered as {', '.join(offers)}",
            offered=offers,
        )
    return best


@lru_cache(maxsize=512)
def _choice(header: str, offers: tuple[str, ...], default: str) -> str | None:
    """The choice for one Accept header, remembered: clients send the same few headers, and
    parsing and matching one costs more than answering a cheap SPARQL query. Media-type parameters
    other than q (``text/turtle; charset=utf-8``) do not change the choice, so they are left out."""
    accept = MIMEAccept([(value.split(";")[0].strip(), q) for value, q in parse_accept_header(header, MIMEAccept)])
    best = accept.best_match(offers)
    if best is not None and accept[best] == accept["*/*"] and accept.quality(default) >= accept[best]:
        return default  # only a wildcard matched: prefer the natural format
    return best
