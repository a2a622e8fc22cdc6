"""RDF sent to /validate and /contributions: a raw body (syntax by Content-Type) or a form
(multipart/form-data with a ``file`` part, or a ``data`` text field, with an optional ``format``
field; a URL-encoded form with ``data``), and the metadata fields that come with it."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import request

from allianceld.errors import BadRequest
from allianceld.rdf import formats
from allianceld.web.views.metadata import request_base

FORMATS = {  # the syntaxes offered by the HTML forms (any of formats.MEDIA_TYPES is taken)
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF/XML",
}


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def is_form() -> bool:
    """True when the request is an HTML form (multipart/form-data or URL-encoded)."""
    return request.mimetype in FORM_TYPES


def read_triples() -> list[ox.Triple]:
    """The posted RDF, its relative IRIs resolved against the request's URL (``request_base``).
    415 (listing the accepted types) for a syntax this service does not read, 400 for an empty body
    or bad syntax (with line and column)."""
    if not is_form():
        fmt = formats.format_for_media_type(request.content_type)
        body = request.get_data()
        if not body.strip():
            raise BadRequest("the request body is empty: post the RDF", parameter="body")
        return formats.parse(body, fmt, source="request body", base_iri=request_base())
    chosen = request.form.get("format", "").strip()
    upload = request.files.get("file")
    content = upload.read() if upload is not None else b""
    if upload is not None and content.strip():
        name = upload.filename or "file"
        return formats.parse(content, _file_format(chosen, upload.mimetype, name), source=name, base_iri=request_base())
    text = request.form.get("data", "")
    if not text.strip():
        raise BadRequest("nothing to read: upload a file (field 'file') or paste RDF (field 'data')", parameter="data")
    fmt = formats.format_for_media_type(chosen or "text/turtle")
    return formats.parse(text.encode("utf-8"), fmt, source="data", base_iri=request_base())


def _file_format(chosen: str, media_type: str | None, filename: str) -> ox.RdfFormat:
    """The syntax of an uploaded file: the ``format`` field, else the part's Content-Type when it
    is an RDF one, else the file's extension (browsers send a .ttl file as application/octet-stream
    or text/plain, which would otherwise mean N-Triples)."""
    if chosen:
        return formats.format_for_media_type(chosen)
    media_type = (media_type or "").lower()
    if media_type in formats.MEDIA_TYPES and media_type != "text/plain":
        return formats.MEDIA_TYPES[media_type]
    suffix = Path(filename).suffix.lower()
    if suffix in formats.EXTENSIONS:
        return formats.EXTENSIONS[suffix]
    return formats.format_for_media_type(media_type)  # text/plain, or 415 naming the accepted types


def field(name: str) -> str | None:
    """A metadata parameter: a form field (multipart or URL-encoded body), else a query-string
    parameter; None when absent or blank."""
    value = request.form.get(name) if is_form() else None
    if value is None:
        value = request.args.get(name)
    value = (value or "").strip()
    return value or None


def iri_field(name: str) -> str | None:
    """A metadata parameter that must be an absolute IRI (400 naming it otherwise)."""
    value = field(name)
    if value is None:
        return None
    try:
        return ox.NamedNode(value).value
    except ValueError:
        raise BadRequest(f"'{name}' must be an absolute IRI, not {value!r}", parameter=name) from None
