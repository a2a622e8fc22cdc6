"""The least a Python endpoint can do per query, for bench_sparql.py's point-query floor: granian (a
Rust HTTP server, ``pip install -e '.[bench]'``) calling a bare WSGI app that runs the POSTed query
on pyoxigraph in its own process and answers SPARQL JSON: no Flask, no content negotiation, no
time limit (nothing could stop a runaway query), no query worker.

    .venv/bin/python benchmarks/inline_endpoint.py DATA.nt --port 8125
"""

from __future__ import annotations

import argparse
import os
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

JSON = ox.QueryResultsFormat.JSON


def inline_app(store: ox.Store) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering the form-encoded ``query`` of a POST on ``store``, as SPARQL JSON."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        query = urllib.parse.parse_qs(body.decode())["query"][0]
        answer = store.query(query).serialize(format=JSON) or b""
        start_response(
            "200 OK", [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(answer)))]
        )
        return [answer]

    return app


def _app() -> Callable[..., Iterable[bytes]]:
    """The app for granian's worker: the N-Triples file of $INLINE_ENDPOINT_DATA in memory."""
    store = ox.Store()
    store.bulk_load(path=os.environ["INLINE_ENDPOINT_DATA"], format=ox.RdfFormat.N_TRIPLES)
    return inline_app(store)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="granian answering SPARQL queries inline on pyoxigraph.")
    parser.add_argument("data", help="N-Triples file to load")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8125)
    args = parser.parse_args(argv)
    os.environ["INLINE_ENDPOINT_DATA"] = os.path.abspath(args.data)
    serve_with_granian("inline_endpoint:_app", args.host, args.port)


def serve_with_granian(target: str, host: str, port: int, threads: int | None = None) -> None:
    """Serve the WSGI app that ``target`` (``module:function`` in benchmarks/) builds in granian's
    one worker process, until interrupted."""
    from granian import Granian  # the benchmark extra

    Granian(
        target,
        address=host,
        port=port,
        interface="wsgi",
        workers=1,
        blocking_threads=threads,
        factory=True,
        working_dir=Path(__file__).resolve().parent,
    ).serve()


if __name__ == "__main__":
    main()
