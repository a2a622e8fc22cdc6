"""What every response carries and what operators poll: security headers on HTML pages (no framing,
no MIME sniffing, no plug-ins, a strict referrer policy), read-only CORS, and ``GET /healthz``.

CORS: a page on another origin may read what anyone may read (``GET`` and ``HEAD`` answers carry
``Access-Control-Allow-Origin: *``), and nothing else: no preflight is ever granted, so a browser
never sends a cross-origin write with a token (``Authorization`` needs a preflight) nor reads the
answer of another origin's form post."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, jsonify, request

from allianceld import __version__
from allianceld.web import request_log
from allianceld.web.services import get_kb, services

bp = Blueprint("operations", __name__)

HTML_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # scripts only from the app's own files (no inline script, no javascript: URL, no eval), and
    # everything else from here too; no framing, plug-ins or foreign <base>. Inline styles stay:
    # the pictures' libraries and YASGUI set them.
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
        )
    ),
}


def init_app(app: Flask) -> None:
    """Add :data:`HTML_HEADERS` to every HTML response, ``nosniff`` to every other one, and the
    read-only CORS header to ``GET`` and ``HEAD`` answers; log every request (:mod:`.request_log`)."""
    request_log.init_app(app)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.method in ("GET", "HEAD"):
            resp.headers.setdefault("Access-Control-Allow-Origin", "*")
        if resp.mimetype == "text/html":
            for name, value in HTML_HEADERS.items():
                resp.headers.setdefault(name, value)
        return resp


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the store answers a query (with how long it took), 503 naming the error when not."""
    start = time.perf_counter()
    try:
        get_kb().query("ASK { ?s ?p ?o }")
    except Exception as exc:  # any failure of the store is what this reports
        body = {"status": "unavailable", "version": __version__, "error": f"{type(exc).__name__}: {exc}"}
        return jsonify(body), 503
    ms = round((time.perf_counter() - start) * 1000, 1)
    body: dict[str, object] = {"status": "ok", "version": __version__, "store_ms": ms}
    pool = services().pool
    if pool is not None:
        pool.refresh()
        body["query_workers"] = pool.status()
    return jsonify(body), 200
