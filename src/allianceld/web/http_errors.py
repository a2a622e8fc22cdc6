"""One error shape for every endpoint: JSON ``{"error", "status", "message", ...}``."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from allianceld.errors import AllianceldError, ValidationFailed
from allianceld.web.reports import report_response


def wants_html() -> bool:
    """A browser (text/html preferred over JSON) gets error pages; everyone else gets JSON."""
    if not request.headers.get("Accept"):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_response(status: int, kind: str, message: str, **details: object) -> Response:
    if wants_html():
        resp = Response(render_template("error.html", status=status, kind=kind, message=message), status)
        return resp
    resp = jsonify({"error": kind, "status": status, "message": message, **details})
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(AllianceldError)
    def _domain_error(exc: AllianceldError) -> Response:
        body = exc.to_json()
        if isinstance(exc, ValidationFailed) and getattr(exc, "report", None) is not None:
            # every refused write: the report as JSON (the error shape), Turtle or an HTML page
            return report_response(exc.report, status=exc.status, json_body=body, refused=exc.message)
        if exc.status == 401:
            resp = error_response(exc.status, body.pop("error"), body.pop("message"))
            resp.headers["WWW-Authenticate"] = 'Bearer realm="allianceld"'
            return resp
        resp = error_response(
            exc.status, body.pop("error"), body.pop("message"), **{k: v for k, v in body.items() if k != "status"}
        )
        if "retry_after_s" in body:  # a busy server (429, 503): when to try again
            resp.headers["Retry-After"] = str(body["retry_after_s"])
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        kind = (exc.name or "error").lower().replace(" ", "-")
        return error_response(exc.code or 500, kind, exc.description or kind)
