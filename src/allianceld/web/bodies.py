"""Request bodies are whole or refused: the one place where a body is read off the connection.

Before any endpoint runs, the body is read completely into memory and checked: larger than
``ALLIANCELD_MAX_BODY_BYTES`` (with a ``Content-Length`` or sent ``Transfer-Encoding: chunked``)
gets 413; cut short by the client (fewer bytes than its ``Content-Length``, a chunked body that
ends before its last chunk, a malformed chunk) gets 400. Either way no endpoint sees any of it.
A whole body is handed on as a finished in-memory stream with its exact ``Content-Length``, so
every reader (forms, files, JSON, raw bytes) sees all of it and nothing else.

The endpoints in :data:`STREAMED` (the import of large files) read their body themselves, in
pieces, to disk, under a limit of their own, after checking the request's token."""

from __future__ import annotations

import io

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

CHUNK = 64 * 1024
# after a body over the limit, at most this much more is read and dropped, so that the client,
# still sending, can read the 413 instead of a reset connection
DRAIN = 4 * 2**20
# endpoints (Flask endpoint names, as routed) that read their own body in pieces
STREAMED: set[str] = set()


def init_app(app: Flask, limit: int) -> None:
    """Read every request body whole (:func:`take_body`) before the endpoint runs."""

    @app.before_request
    def _whole_body() -> None:
        if request.endpoint in STREAMED:
            return
        take_body(request.environ, limit)


def _chunked(environ: dict) -> bool:
    codings = environ.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in [c.strip().lower() for c in codings.split(",")]


def _declared_length(environ: dict) -> int | None:
    raw = environ.get("CONTENT_LENGTH", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise BadRequest(f"Content-Length must be a number of bytes, not {raw[:40]!r}")
    return int(raw)


def take_body(environ: dict, limit: int) -> None:
    """Replace ``environ``'s input with the whole body, or raise 413 (over ``limit`` bytes) or
    400 (a body that ends early or is malformed). A request without a body is left as it is."""
    chunked = _chunked(environ)
    declared = None if chunked else _declared_length(environ)
    if not chunked and not declared:
        return
    if declared is not None and declared > limit:
        raise RequestEntityTooLarge(f"the body is too large: {declared} bytes, more than the limit of {limit}")
    stream = environ["wsgi.input"]
    wanted = declared if declared is not None else limit + 1
    body = _read(stream, wanted)
    if declared is not None and len(body) < declared:
        raise BadRequest(f"the body ended after {len(body)} of the {declared} bytes its Content-Length announced")
    if len(body) > limit:
        _drain(stream)
        raise RequestEntityTooLarge(f"the body is too large: more than the limit of {limit} bytes")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)  # the length above now ends the stream


def _read(stream: io.RawIOBase, wanted: int) -> bytes:
    """Up to ``wanted`` bytes; fewer only at the end of the body. A transfer that breaks off
    (the server's reader raises on a truncated or malformed chunk) is a 400."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < wanted:
            part = stream.read(min(CHUNK, wanted - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
    except (OSError, ValueError) as exc:
        raise BadRequest(f"the body was cut short or malformed ({exc or type(exc).__name__})") from None
    return b"".join(parts)


def _drain(stream: io.RawIOBase) -> None:
    try:
        left = DRAIN
        while left > 0 and (part := stream.read(min(CHUNK, left))):
            left -= len(part)
    except (OSError, ValueError):
        pass
