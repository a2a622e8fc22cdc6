"""The floor of bench_sparql.py: a server answering every request with the same bytes (a SPARQL
JSON result given in a file), without running a query. What it takes per request is what the
server, and with ``--flask`` Flask, costs before allianceld does anything.

- by default gunicorn, configured as ``allianceld serve --production`` runs it, calling a bare WSGI
  app (no Flask);
- with ``--flask``, granian (a Rust HTTP server, ``pip install -e '.[bench]'``) calling a Flask app
  with one route that reads the POSTed form, as ``/sparql`` must, and answers.

    .venv/bin/python benchmarks/fixed_endpoint.py ANSWER.json --port 8124 [--flask]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from inline_endpoint import serve_with_granian

from allianceld.web import production

MEDIA_TYPE = "application/sparql-results+json"


def fixed_app(body: bytes) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that reads the request body and answers ``body`` as SPARQL JSON results."""
    headers = [("Content-Type", MEDIA_TYPE), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", headers)
        return [body]

    return app


def flask_app(body: bytes) -> Flask:
    """A Flask app whose ``POST /sparql`` reads the form's ``query`` and answers ``body``."""
    app = Flask(__name__)

    @app.post("/sparql")
    def sparql() -> Response:
        request.form.get("query")
        return Response(body, mimetype=MEDIA_TYPE)

    return app


def _flask_app() -> Flask:
    """The app for granian's worker: the bytes of the file $FIXED_ENDPOINT_ANSWER."""
    return flask_app(Path(os.environ["FIXED_ENDPOINT_ANSWER"]).read_bytes())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A server answering every request with one fixed body.")
    parser.add_argument("answer", type=Path, help="the file whose bytes every request gets")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--threads", type=int, default=8, help="server threads (as allianceld serve --production)")
    parser.add_argument("--flask", action="store_true", help="a Flask app on granian instead of bare WSGI on gunicorn")
    args = parser.parse_args(argv)
    if not args.flask:
        body = args.answer.read_bytes()
        production.GunicornServer(lambda: fixed_app(body), production.options(args.host, args.port, args.threads)).run()
        return
    os.environ["FIXED_ENDPOINT_ANSWER"] = str(args.answer.resolve())
    serve_with_granian("fixed_endpoint:_flask_app", args.host, args.port, args.threads)


if __name__ == "__main__":
    main()
