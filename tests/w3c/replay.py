"""Replaying the HTTP requests of the W3C protocol manifests against a real server on 127.0.0.1.

The SPARQL 1.1 Protocol and Graph Store Protocol manifests describe each test as a list of
``ht:Request`` nodes (W3C HTTP Vocabulary in RDF): method, absolute path, headers and body, and an
``ht:resp`` with the expected status (``hts:StatusCode2xx`` or ``hts:Created`` …), format, body.
:class:`LiveServer` runs the Flask app in Werkzeug's threaded server (the one ``allianceld serve``
uses) on a free port over a throwaway in-memory store; :func:`send` sends a request with
``http.client`` exactly as written (no re-encoding of the path, no added Content-Type).
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.collection import Collection
from werkzeug.serving import WSGIRequestHandler, make_server

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from allianceld.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SUITE = Path(__file__).resolve().parents[3] / "shared" / "testsuites" / "sparql11"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
# hts: names used by the manifests, as status codes
NAMED_STATUS = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


@dataclass
class Expected:
    """What an ``ht:resp`` asks of a response."""

    statuses: list[str]  # "2xx" classes or exact codes as strings
    format: str | None = None  # "boolean", "tabular" or "RDF" (protocol suite)
    boolean: bool | None = None
    content_type: str | None = None
    body: str | None = None  # RDF expected in the response (graph store suite)
    location: str | None = None  # template variable the Location header binds (graph store suite)

    def status_ok(self, status: int) -> bool:
        return any(s == str(status) or (s.endswith("xx") and s[0] == str(status)[0]) for s in self.statuses)


@dataclass
class Request:
    """One ``ht:Request``."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expected: Expected = field(default_factory=lambda: Expected([]))


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _status(node: rdflib.term.Node) -> str:
    name = str(node).rsplit("#", 1)[-1]
    found = re.fullmatch(r"StatusCode(\dxx)", name)
    if found:
        return found.group(1)
    return str(NAMED_STATUS[name])


def _headers(g: rdflib.Graph, node: rdflib.term.Node) -> dict[str, str]:
    headers: dict[str, str] = {}
    for lst in g.objects(node, HT.headers):
        for h in Collection(g, lst):
            headers[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    return headers


def _body(g: rdflib.Graph, node: rdflib.term.Node) -> bytes | None:
    body = g.value(node, HT.body)
    if body is None:
        return None
    encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
    return str(g.value(body, CNT.chars)).encode(encoding)


def requests(g: rdflib.Graph, test: rdflib.term.Node) -> list[Request]:
    """The requests of one test, in order."""
    action = g.value(test, MF.action)
    found = []
    for node in Collection(g, g.value(action, HT.requests)):
        resp = g.value(node, HT.resp)
        expected = Expected(
            statuses=[_status(s) for s in g.objects(resp, MF.expectedStatus)],
            format=str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) is not None else None,
            boolean=g.value(resp, MF.expectedBoolean).toPython() if g.value(resp, MF.expectedBoolean) else None,
            content_type=_headers(g, resp).get("content-type"),
            body=(_body(g, resp) or b"").decode("utf-8") or None,
            location=str(g.value(resp, MF.expectedLocation)) if g.value(resp, MF.expectedLocation) else None,
        )
        found.append(
            Request(
                method=str(g.value(node, HT.methodName)),
                path=str(g.value(node, HT.absolutePath)),
                headers=_headers(g, node),
                body=_body(g, node),
                expected=expected,
            )
        )
    return found


def manifest_entries(path: Path) -> tuple[rdflib.Graph, list[rdflib.term.Node]]:
    """A manifest parsed with its canonical base IRI, and its entries in order."""
    iri = BASE + str(path.relative_to(SUITE))
    g = rdflib.Graph().parse(path, format="turtle", publicID=iri)
    entries = next(g.objects(None, MF.entries))
    return g, list(Collection(g, entries))


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LiveServer:
    """The app over an in-memory store, served on 127.0.0.1 by Werkzeug in a background thread.

    ``token`` is an admin bearer token from a throwaway tokens file: the W3C tests assume that
    anyone may update, allianceld needs a token for every write, so every request carries it.
    """

    def __init__(self, tmp: Path) -> None:
        # the port first: the service's public URL (its service description's sd:endpoint) names it
        self.server = make_server("127.0.0.1", 0, None, threaded=True, request_handler=_QuietHandler)  # type: ignore[arg-type]
        self.port = self.server.server_port
        settings = Settings(store_path=None, home=ROOT, tokens_file=tmp / "tokens.json", base_url=self.base)
        self.token = TokenStore(settings.tokens_file).create("w3c-tests", "admin")
        self.kb = KnowledgeBase()
        self.app = create_app({"SETTINGS": settings, "KB": self.kb})
        self.server.app = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Empty the store (every test starts from an empty graph store)."""
        self.kb.replace_graphs({g: [] for g in self.kb.graphs()})

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Response:
        """One request, sent as written, with the bearer token."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            sent = {**headers, "authorization": f"Bearer {self.token}"}
            if body is not None:
                sent["content-length"] = str(len(body))
            for name, value in sent.items():
                conn.putheader(name, value)
            conn.endheaders(body)
            resp = conn.getresponse()
            data = b"" if method == "HEAD" else resp.read()
            return Response(resp.status, resp.headers, data)
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
