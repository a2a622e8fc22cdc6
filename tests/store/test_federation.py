"""Federated queries: SERVICE to allowlisted endpoints only, LOAD never; nothing connects first.

The external graph is a second real `oxigraph serve` on 127.0.0.1 holding Wikidata-style
statements; every refusal is checked against a listening socket that records any connection.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from allianceld.config import Settings, parse_allowlist
from allianceld.store import KnowledgeBase, federation
from allianceld.store.backends import SparqlBackend
from allianceld.tokens import TokenStore
from allianceld.web import create_app
from allianceld.write import gate
from conftest import ROOT, oxigraph_serve

# real Wikidata statements: the United States (Q30) and Germany (Q183) are members of (P463) NATO (Q7184)
EXTERNAL = """
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA {
  wd:Q30 wdt:P463 wd:Q7184 ; rdfs:label "United States of America"@en .
  wd:Q183 wdt:P463 wd:Q7184 ; rdfs:label "Germany"@en .
}
"""

JOIN = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?state ?alliance ?label WHERE {
  SERVICE <%s> { ?wd <http://www.wikidata.org/prop/direct/P463> ?org ; rdfs:label ?label }
  ?state owl:sameAs ?wd .
  ?alliance owl:sameAs ?org .
} ORDER BY ?state
"""

EXPECTED = [
    ["https://w3id.org/allianceld/id/state/deu", "https://w3id.org/allianceld/id/alliance/nato", "Germany"],
    [
        "https://w3id.org/allianceld/id/state/usa",
        "https://w3id.org/allianceld/id/alliance/nato",
        "United States of America",
    ],
]


class Trap:
    """A socket listening on 127.0.0.1 that records every connection made to it (and answers none).

    The kernel completes a connection (and queues it for accepting) before the client's connect
    returns, so once the code under test has returned, every connection it made is in the queue:
    :meth:`connections` takes them all without waiting."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        self.accepted: list[socket.socket] = []

    def connections(self) -> int:
        """How many connections were made so far (call once the code that might connect returned)."""
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:  # the queue is empty
                return len(self.accepted)
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


@pytest.fixture(scope="module")
def external() -> Iterator[str]:
    """A second `oxigraph serve` on 127.0.0.1, holding :data:`EXTERNAL`; yields its query URL."""
    with oxigraph_serve() as base:
        body = urllib.parse.urlencode({"update": EXTERNAL}).encode()
        urllib.request.urlopen(urllib.request.Request(base + "/update", data=body), timeout=10).read()
        yield base + "/query"


@pytest.fixture(scope="module")
def memory_app(settings: Settings, shared_kb: KnowledgeBase):
    """One app over the shared in-memory store; :func:`configure` sets its allowlist per test."""
    return create_app({"SETTINGS": settings, "KB": shared_kb, "TESTING": True})


def configure(app, allowlist: str, **changes: object):
    """``app``'s test client, with ``ALLIANCELD_SERVICE_ALLOWLIST`` (and other settings) changed."""
    svc = app.extensions["allianceld"]
    changes.setdefault("service_timeout", 30.0)
    svc.settings = dataclasses.replace(svc.settings, service_allowlist=allowlist, **changes)
    return app.test_client()


@pytest.fixture(scope="module")
def disk_app(tmp_path_factory, small_store: KnowledgeBase, external: str) -> Iterator[tuple]:
    """An app over an on-disk copy of the small store, queries in a worker process, the external
    endpoint allowlisted: (app, kb, contributor token)."""
    tmp = tmp_path_factory.mktemp("federation")
    small_store.snapshot(tmp / "store")
    kb = KnowledgeBase(tmp / "store")
    local = Settings(
        store_path=kb.path,
        home=ROOT,
        tokens_file=tmp / "tokens.json",
        query_timeout=30,
        query_workers=1,
        service_allowlist=external,
    )
    app = create_app({"SETTINGS": local, "KB": kb, "TESTING": True})
    yield app, kb, TokenStore(local.tokens_file).create("alice", "contributor")
    app.extensions["allianceld"].close()
    kb.close()


def rows(body: bytes) -> list[list[str]]:
    data = json.loads(body)
    names = data["head"]["vars"]
    return [[b[n]["value"] for n in names] for b in data["results"]["bindings"]]


def ask(client, query: str):
    return client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})


# -- the check itself ---------------------------------------------------------------------------


def test_allowlist_is_normalised_and_exact() -> None:
    allowed = parse_allowlist("HTTP://Example.ORG:80/sparql, https://q.example/sparql?x=1")
    assert allowed == ("http://example.org/sparql", "https://q.example/sparql?x=1")
    assert federation.check_query("ASK { SERVICE <http://example.org/sparql> {} }", allowed) == [
        "http://example.org/sparql"
    ]
    for other in ("http://example.org/sparql/", "http://example.org:8080/sparql", "https://example.org/sparql"):
        with pytest.raises(federation.ServiceNotAllowed, match="not on the allowlist"):
            federation.check_query(f"ASK {{ SERVICE <{other}> {{}} }}", allowed)
    with pytest.raises(ValueError, match="not an http"):
        parse_allowlist("file:///etc/passwd")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <%s> { ?s ?p ?o } } } }",
        "SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE SILENT <%s> { ?s ?p ?o } } }",
        "ASK { ?s ?p ?o .SERVICE<%s>{?s ?p ?o} }",
        "PREFIX t: <%s> SELECT * WHERE { OPTIONAL { SERVICE t: { ?s ?p ?o } } }",
        "SELECT * WHERE { ?s ?p ?o BIND(EXISTS { GRAPH ?g { SERVICE <%s> {} } } AS ?x) }",
    ],
)
def test_service_found_wherever_it_is(query: str) -> None:
    with pytest.raises(federation.ServiceNotAllowed):
        federation.check_query(query % "http://127.0.0.1:9/sparql", ("http://127.0.0.1:8/sparql",))


def test_service_in_comments_and_strings_is_not_a_call() -> None:
    query = 'SELECT * WHERE { ?s ?p "SERVICE <http://x.example/> {}" # SERVICE <http://y.example/> {}\n }'
    assert federation.check_query(query, ()) == []


def test_service_behind_a_less_than_that_looks_like_an_iri(memory_app, trap: Trap) -> None:
    """``?a<?b)#x>`` reads as an IRI to a naive tokenizer, which then takes the next lines for a
    long string; SPARQL reads less-than, a comment, then a SERVICE in code."""
    query = f"SELECT * WHERE {{ ?s ?p ?o FILTER(?a<?b)#x>'''\nSERVICE <{trap.url}> {{ ?s ?p ?o }}\n#'''\n}}"
    resp = ask(configure(memory_app, ""), query)
    assert resp.status_code == 400 and resp.get_json()["error"] == "service-not-allowed"
    assert trap.connections() == 0


def test_unparsable_query_naming_service_is_refused() -> None:
    with pytest.raises(federation.QuerySyntaxError, match="SPARQL syntax error"):
        federation.check_query("SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p } }", ())


# -- through the Flask client -------------------------------------------------------------------


def test_allowlisted_service_joins_local_and_external(memory_app, external: str) -> None:
    client = configure(memory_app, external)
    resp = ask(client, JOIN % external)
    assert resp.status_code == 200, resp.get_json()
    assert rows(resp.data) == EXPECTED


def test_other_endpoint_refused_before_connecting(memory_app, external: str, trap: Trap) -> None:
    client = configure(memory_app, external)
    resp = ask(client, JOIN % trap.url)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "service-not-allowed"
    assert trap.url in body["message"] and "not on the allowlist" in body["message"]
    assert trap.connections() == 0


def test_empty_allowlist_refuses_every_service(memory_app, external: str, trap: Trap) -> None:
    client = configure(memory_app, "")
    for url in (external, trap.url):
        resp = ask(client, JOIN % url)
        assert resp.status_code == 400
        assert "federated queries are off" in resp.get_json()["message"]
    assert trap.connections() == 0


def test_variable_and_silent_services_refused(memory_app, external: str, trap: Trap) -> None:
    client = configure(memory_app, external)
    variable = f"SELECT * WHERE {{ VALUES ?e {{ <{trap.url}> }} SERVICE ?e {{ ?s ?p ?o }} }}"
    resp = ask(client, variable)
    assert resp.status_code == 400 and "not a variable" in resp.get_json()["message"]
    silent = f"SELECT * WHERE {{ SERVICE SILENT <{trap.url}> {{ ?s ?p ?o }} }}"
    assert ask(client, silent).status_code == 400
    assert trap.connections() == 0


def test_from_clause_fetches_nothing(memory_app, trap: Trap) -> None:
    client = configure(memory_app, "")
    resp = ask(client, f"SELECT * FROM <{trap.url}> WHERE {{ ?s ?p ?o }} LIMIT 1")
    assert resp.status_code == 200
    assert trap.connections() == 0


def test_redirect_is_not_followed(memory_app, trap: Trap) -> None:
    """An allowlisted endpoint that redirects elsewhere gets 502; the redirect target is not contacted."""
    with socket.socket() as redirector:
        redirector.bind(("127.0.0.1", 0))
        redirector.listen()
        url = f"http://127.0.0.1:{redirector.getsockname()[1]}/sparql"

        def answer() -> None:
            conn, _ = redirector.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {trap.url}\r\nContent-Length: 0\r\n\r\n".encode())

        threading.Thread(target=answer, daemon=True).start()
        resp = ask(configure(memory_app, url), f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    assert resp.status_code == 502
    assert resp.get_json()["error"] == "service-error"
    assert trap.connections() == 0


def test_silent_endpoint_times_out(memory_app, trap: Trap) -> None:
    """An allowlisted endpoint that never answers: 504 after ALLIANCELD_SERVICE_TIMEOUT."""
    client = configure(memory_app, trap.url, service_timeout=1.0)
    started = time.monotonic()
    resp = ask(client, f"SELECT * WHERE {{ SERVICE <{trap.url}> {{ ?s ?p ?o }} }}")
    assert resp.status_code == 504
    assert resp.get_json()["error"] == "service-timeout"
    assert time.monotonic() - started >= 1.0  # not before the limit
    assert trap.connections() == 1  # it was allowed, so it did connect


# -- updates: LOAD never, SERVICE never -----------------------------------------------------------


def test_load_refused_over_http(disk_app, external: str, trap: Trap) -> None:
    app, kb, token = disk_app
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"}
    graphs = kb.graphs()
    client = app.test_client()
    for update in (f"LOAD <{trap.url}>", f"LOAD SILENT <{trap.url}> INTO GRAPH <https://example.org/g>"):
        resp = client.post("/sparql", data=update, headers=headers)
        assert resp.status_code == 400
        assert resp.get_json()["error"] == "load-not-allowed"
        assert trap.url in resp.get_json()["message"]
    service = (
        f"INSERT {{ GRAPH <https://example.org/g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{external}> {{ ?s ?p ?o }} }}"
    )
    resp = client.post("/sparql", data=service, headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"] == "service-not-allowed"
    assert kb.graphs() == graphs
    assert trap.connections() == 0


def test_load_refused_on_the_remote_backend(oxigraph_server: str, settings, write_policy, trap: Trap) -> None:
    remote = KnowledgeBase(backend=SparqlBackend(oxigraph_server + "/query", oxigraph_server + "/update"))
    with pytest.raises(federation.LoadNotAllowed):
        gate.apply_update(remote, write_policy, f"LOAD <{trap.url}>")
    assert trap.connections() == 0


# -- a real server, queries in a worker process; the command line ------------------------------


def test_real_server_with_query_workers(disk_app, external: str, trap: Trap) -> None:
    """The app in a real server on 127.0.0.1; the on-disk store's queries run in a worker process."""
    app = disk_app[0]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/sparql"

    def post(query: str) -> tuple[int, bytes]:
        req = urllib.request.Request(
            base,
            data=urllib.parse.urlencode({"query": query}).encode(),
            headers={"Accept": "application/sparql-results+json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    try:
        status, body = post(JOIN % external)
        assert status == 200 and rows(body) == EXPECTED
        status, body = post(JOIN % trap.url)
        assert status == 400 and json.loads(body)["error"] == "service-not-allowed"
    finally:
        server.shutdown()
    assert trap.connections() == 0


def test_cli_query(tmp_path: Path, small_store: KnowledgeBase, runner, external: str, trap: Trap) -> None:
    from allianceld.cli import main

    small_store.snapshot(tmp_path / "store")
    store = str(tmp_path / "store")
    result = runner.invoke(
        main,
        ["--store", store, "query", JOIN % external, "--format", "csv"],
        env={"ALLIANCELD_SERVICE_ALLOWLIST": external},
    )
    assert result.exit_code == 0, result.output
    assert "https://w3id.org/allianceld/id/state/usa,https://w3id.org/allianceld/id/alliance/nato" in result.output
    refused = runner.invoke(
        main, ["--store", store, "query", JOIN % trap.url], env={"ALLIANCELD_SERVICE_ALLOWLIST": ""}
    )
    assert refused.exit_code == 2
    assert "federated queries are off" in refused.output
    assert trap.connections() == 0


def test_service_description_says_federation_is_on(memory_app, external: str) -> None:
    feature = "<http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery>"
    off = configure(memory_app, "").get("/sparql", headers={"Accept": "application/n-triples"})
    assert off.status_code == 200 and feature not in off.get_data(as_text=True)
    on = configure(memory_app, external).get("/sparql", headers={"Accept": "application/n-triples"})
    endpoint = memory_app.config["SETTINGS"].public_url + "sparql"
    assert f"<{endpoint}> <http://www.w3.org/ns/sparql-service-description#feature> {feature} ." in (
        on.get_data(as_text=True)
    )


def test_rdflib_evaluates_its_own_service_calls_after_the_guard_ran(external: str) -> None:
    """The guard parses with its own copy of rdflib's grammar: rdflib's SERVICE rule (which keeps
    the SERVICE's text, what rdflib sends to the endpoint) is left as it is in this process."""
    import rdflib
    from rdflib.plugins.sparql import parser as sparql_parser

    text = (
        f"SELECT ?label WHERE {{ SERVICE <{external}> {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }} }}"
    )
    assert federation.connections(text) == (federation.ServiceCall(external),)
    assert "postParse" not in vars(sparql_parser.ServiceGraphPattern)
    found = sorted(str(row[0]) for row in rdflib.Graph().query(text))
    assert found == ["Germany", "United States of America"]
