"""One structured log line per request (logger ``allianceld.request``): method, path, the query
string without its secrets, status, duration, size, remote address, a request id, which the
response carries as ``X-Request-ID``, and, for a request with a valid bearer token, the agent (the
token's name, set by ``web.auth.require``). Headers are never logged, so neither is a bearer token."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from allianceld.logs import redact_query, scrub

log = logging.getLogger("allianceld.request")
# a client's own request id is kept when it looks like one (a proxy's, say); otherwise a new one
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def init_app(app: Flask) -> None:
    """Time each request, give it an id and log it when its response is ready."""

    @app.before_request
    def _start() -> None:
        g.log_start = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _log(resp: Response) -> Response:
        start = g.get("log_start")
        request_id = g.get("request_id") or uuid.uuid4().hex  # before_request did not run (routing failed early)
        resp.headers.setdefault("X-Request-ID", request_id)
        fields = {
            "method": request.method,
            "path": scrub(request.path),
            "query": redact_query(request.query_string.decode("latin-1")) or None,
            "status": resp.status_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 1) if start is not None else None,
            "bytes": resp.content_length,
            "remote": request.remote_addr,
            "request_id": request_id,
            "agent": g.get("agent"),  # the token's name, never the token
        }
        level = logging.ERROR if resp.status_code >= 500 else logging.INFO
        log.log(level, "%s %s %s", request.method, request.path, resp.status_code, extra=fields)
        return resp
