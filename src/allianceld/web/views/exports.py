"""Whole-dataset exports: GET /dump (N-Quads, TriG, or Turtle per graph in a zip) with its VoID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pyoxigraph as ox
from flask import Blueprint, Response, request

from allianceld.errors import BadRequest
from allianceld.operations import export
from allianceld.web.negotiation import choose
from allianceld.web.services import get_kb
from allianceld.web.views.metadata import public_url

bp = Blueprint("exports", __name__)

MEDIA_TYPES = {"nquads": "application/n-quads", "trig": "application/trig", "turtle": "application/zip"}
EXTENSIONS = {"nquads": "nq", "trig": "trig", "turtle": "zip"}


@bp.get("/dump")
def dump() -> Response:
    """The whole dataset, streamed: ``?format=nquads`` (the default), ``trig`` or ``turtle`` (a zip
    of one Turtle file per graph with manifest.json and void.ttl), or by Accept;
    ``?inference=false`` leaves out the inferred graphs."""
    fmt = _format()
    inference = _flag("inference", default=True)
    kb, base = get_kb(), public_url()

    def generate() -> Iterator[bytes]:
        with export.consistent_view(kb) as view:
            if fmt == "turtle":
                yield from export.zip_chunks(export.turtle_files(view, base=base, inference=inference))
            else:
                rdf = ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS
                yield from export.nquads_export(view, base=base, inference=inference, fmt=rdf)

    name = f"allianceld-{datetime.now(UTC):%Y%m%d}{'' if inference else '-asserted'}.{EXTENSIONS[fmt]}"
    return Response(
        generate(),
        mimetype=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Link": '</.well-known/void>; rel="describedby"',
        },
    )


def _format() -> str:
    """``format`` from the query string, else from Accept (N-Quads by default)."""
    given = request.args.get("format")
    if given is not None:
        if given not in MEDIA_TYPES:
            raise BadRequest(
                f"unknown format {given!r}: use one of {', '.join(MEDIA_TYPES)}",
                parameter="format",
                allowed=list(MEDIA_TYPES),
            )
        return given
    media_type = choose(list(MEDIA_TYPES.values()), "application/n-quads")
    return next(k for k, v in MEDIA_TYPES.items() if v == media_type)


def _flag(name: str, *, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, not {value!r}", parameter=name)
