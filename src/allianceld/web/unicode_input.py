"""Malformed Unicode in a request is a 400 naming where it is, never a 500 or a silent U+FFFD.

Checked before any endpoint runs: the path and the query string (percent-decoded bytes must be
UTF-8), and a text body (a URL-encoded form, JSON, a SPARQL query or update) in UTF-8. JSON,
wherever it is decoded (``request.get_json`` through the app's JSON provider, and JSON given in a
parameter through :func:`loads`), must not hold a lone surrogate (``"\\ud800"``), which no UTF-8
text can carry. Whatever still raises a ``UnicodeError`` in an endpoint is answered 400 too."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from allianceld.web.http_errors import error_response

SURROGATE = re.compile("[\ud800-\udfff]")
# bodies whose text must be UTF-8 (RDF bodies are checked by their parsers, files are bytes)
TEXT_TYPES = ("application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update")


class MalformedUnicode(BadRequest):
    """400: a request with bytes that are not UTF-8, or a lone surrogate in JSON."""


def _utf8(data: bytes, where: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.end].hex(" ")
        raise MalformedUnicode(f"{where} is not valid UTF-8: the bytes {bad} at byte {exc.start}") from None


def check_request() -> None:
    """Refuse (400) a path, query string or text body that is not UTF-8."""
    env = request.environ
    _utf8(env.get("PATH_INFO", "").encode("latin-1", "replace"), "the path")
    query = env.get("QUERY_STRING", "").encode("latin-1", "replace")
    _utf8(unquote_to_bytes(query.replace(b"+", b" ")), "the query string")
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        return  # another charset is the endpoint's to refuse or decode
    if mimetype == "application/x-www-form-urlencoded":
        _utf8(unquote_to_bytes(request.get_data().replace(b"+", b" ")), "the form")
    elif mimetype in TEXT_TYPES or mimetype == "application/json" or mimetype.endswith("+json"):
        _utf8(request.get_data(), "the body")


def check(value: Any, where: str) -> Any:
    """``value`` (decoded JSON) when no string in it holds a lone surrogate, else 400 naming ``where``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                raise MalformedUnicode(f"{where} holds a lone surrogate (such as \\ud800), which is not Unicode text")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def loads(raw: str | bytes, where: str) -> Any:
    """``json.loads`` that refuses lone surrogates (:func:`check`); JSON errors raise as usual."""
    return check(json.loads(raw), where)


class JSONProvider(DefaultJSONProvider):
    """The app's JSON: decoding refuses lone surrogates (``request.get_json`` included)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return check(super().loads(s, **kwargs), "the JSON body")


def init_app(app: Flask) -> None:
    """Check every request (:func:`check_request`), decode JSON with :class:`JSONProvider`, and
    answer any ``UnicodeError`` an endpoint raises with 400."""
    app.json = JSONProvider(app)
    app.before_request(check_request)

    @app.errorhandler(UnicodeError)
    def _unicode_error(exc: UnicodeError) -> Response:
        return error_response(400, "bad-request", f"the request holds malformed Unicode: {exc}")
