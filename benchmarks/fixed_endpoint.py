"""The floor of bench_sparql.py: gunicorn, configured as ``allianceld serve --production`` runs it,
answering every request with the same bytes (a SPARQL JSON result given in a file), without Flask
and without running a query. What it takes per request is what the chosen server costs before
allianceld does anything.

    .venv/bin/python benchmarks/fixed_endpoint.py ANSWER.json --port 8124
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from allianceld.web import production


def fixed_app(body: bytes) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that reads the request body and answers ``body`` as SPARQL JSON results."""
    headers = [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", headers)
        return [body]

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gunicorn answering every request with one fixed body.")
    parser.add_argument("answer", type=Path, help="the file whose bytes every request gets")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads (as allianceld serve --production)")
    args = parser.parse_args(argv)
    body = args.answer.read_bytes()
    production.GunicornServer(lambda: fixed_app(body), production.options(args.host, args.port, args.threads)).run()


if __name__ == "__main__":
    main()
