"""Runs the W3C SPARQL 1.1 Graph Store HTTP Protocol tests against a live allianceld server.

The manifest includes two manifests, direct and indirect graph identification; their tests run in
manifest order on one server, each from an empty store (several expect ``201 Created`` for a graph
an earlier test made). Paths starting with ``/gsp`` are mapped to ``/data``; a ``Location`` header
named by ``mf:expectedLocation`` is substituted for its template variable in later requests.
Responses are checked for the expected status, media type (with charset) and, when given, a graph
isomorphic to the expected Turtle body.
"""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from w3c.replay import MF, SUITE, LiveServer, Request, Response, manifest_entries, requests

FOLDER = SUITE / "graph-store-protocol"
MANIFEST = FOLDER / "manifest.ttl"


@dataclass
class Case:
    name: str
    requires: list[str]  # DirectGraphIdentification, IndirectGraphIdentification, POSTGraphCreation
    requests: list[Request]


def cases() -> list[Case]:
    """Every test of the included manifests, in manifest order."""
    top = rdflib.Graph().parse(MANIFEST, format="turtle")
    found = []
    for include in Collection(top, next(top.objects(None, MF.include))):
        g, entries = manifest_entries(FOLDER / str(include).rsplit("/", 1)[-1])
        for test in entries:
            requires = sorted(str(r).rsplit("#", 1)[-1] for r in g.objects(test, MF.requires))
            found.append(Case(str(test).rsplit("#", 1)[-1], requires, requests(g, test)))
    return found


def _content_type(value: str) -> tuple[str, str | None]:
    """A Content-Type's media type and charset, lower case."""
    media, *params = (p.strip().lower() for p in value.split(";"))
    charset = next((p.split("=", 1)[1].strip('"') for p in params if p.startswith("charset=")), None)
    return media, charset


def _problem(req: Request, resp: Response) -> str | None:
    """Why the response is not the expected one, or None."""
    want = req.expected
    if not want.status_ok(resp.status):
        return f"HTTP {resp.status}, expected {'/'.join(want.statuses)}: {resp.body[:300]!r}"
    if want.content_type and _content_type(resp.headers.get("Content-Type", "")) != _content_type(want.content_type):
        return f"Content-Type {resp.headers.get('Content-Type')!r}, expected {want.content_type!r}"
    if want.body is not None and req.method != "HEAD":
        expected = rdflib.Graph().parse(data=want.body, format="turtle")
        actual = rdflib.Graph().parse(data=resp.body.decode("utf-8"), format="turtle")
        if not isomorphic(expected, actual):
            return f"the graph differs from the expected one: {resp.body.decode()!r}"
    return None


def check(server: LiveServer, case: Case) -> str | None:
    """Run one test from an empty store; None when it passes, otherwise why not."""
    server.reset()
    bound: dict[str, str] = {}
    for i, req in enumerate(case.requests, 1):
        path, body = "/data" + req.path.removeprefix("/gsp"), req.body
        for name, value in bound.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body is not None else None
        resp = server.send(req.method, path, req.headers, body)
        problem = _problem(req, resp)
        if problem:
            return f"request {i} ({req.method} {path}): {problem}"
        if req.expected.location:
            location = resp.headers.get("Location")
            if not location:
                return f"request {i}: no Location header"
            bound[req.expected.location] = location
    return None
