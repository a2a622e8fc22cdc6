"""A minimal SPARQL endpoint over rdflib's in-memory Graph: the baseline of bench_sparql.py.

``GET|POST /sparql`` with a ``query`` parameter (or an ``application/sparql-query`` body) answers
SELECT/ASK as SPARQL JSON and CONSTRUCT/DESCRIBE as N-Triples; nothing else (no content
negotiation, no updates, no limits). Served like allianceld in production: gunicorn, one gthread
worker, which loads the N-Triples file before it serves (so "ready" means "loaded").

    .venv/bin/python benchmarks/rdflib_endpoint.py DATA.nt --port 8123

The file is parsed by pyoxigraph and added to the rdflib Graph term by term (about 3x faster
than rdflib's own N-Triples parser; the graph is the same).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def load_graph(path: str | Path) -> rdflib.Graph:
    """The N-Triples file at ``path`` in a new in-memory rdflib Graph."""
    graph = rdflib.Graph()
    terms: dict[Any, rdflib.term.Node] = {}

    def convert(term: Any) -> rdflib.term.Node:
        node = terms.get(term)
        if node is None:
            if isinstance(term, ox.NamedNode):
                node = rdflib.URIRef(term.value)
            elif isinstance(term, ox.BlankNode):
                node = rdflib.BNode(term.value)
            elif term.language:
                node = rdflib.Literal(term.value, lang=term.language)
            elif term.datatype.value == XSD_STRING:
                node = rdflib.Literal(term.value)
            else:
                node = rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
            terms[term] = node
        return node

    collecting = gc.isenabled()
    gc.disable()
    try:
        triples = ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
        graph.addN((convert(t.subject), convert(t.predicate), convert(t.object), graph) for t in triples)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()  # the loaded graph is permanent: later collections need not walk its objects
    return graph


def create_app(graph: rdflib.Graph) -> Flask:
    """The Flask app answering SPARQL queries on ``graph``."""
    app = Flask(__name__)

    @app.route("/sparql", methods=["GET", "POST"])
    def sparql() -> Response:
        if request.mimetype == "application/sparql-query":
            query = request.get_data(as_text=True)
        else:
            query = request.values.get("query", "")
        if not query:
            return Response("missing the 'query' parameter\n", status=400, mimetype="text/plain")
        try:
            result = graph.query(query)
        except Exception as exc:  # a parse error or an unsupported feature
            return Response(f"{type(exc).__name__}: {exc}\n", status=400, mimetype="text/plain")
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return Response(result.serialize(format="nt"), mimetype="application/n-triples")
        return Response(result.serialize(format="json"), mimetype="application/sparql-results+json")

    return app


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, data: str, options: dict[str, Any]) -> None:
        self.data, self.options = data, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        start = time.perf_counter()
        graph = load_graph(self.data)
        print(f"rdflib endpoint: {len(graph)} triples loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        return create_app(graph)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A minimal SPARQL endpoint over an rdflib in-memory Graph.")
    parser.add_argument("data", help="N-Triples file to load")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads (as allianceld serve --production)")
    args = parser.parse_args(argv)
    _Server(
        args.data,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": args.threads,
            "timeout": 0,  # no heartbeat kill: loading and some queries take minutes
            "keepalive": 5,
            "accesslog": None,
        },
    ).run()


if __name__ == "__main__":
    main()
