"""The real server on 127.0.0.1, queried by real clients (SPARQLWrapper, rdflib's SPARQLStore)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import JSON, SPARQLWrapper

from allianceld.tokens import TokenStore

pytestmark = pytest.mark.server
TOKENS: dict[str, str] = {}
NATO_1990 = (Path(__file__).resolve().parents[1] / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["development", "production"])
def server_url(request, tmp_path_factory) -> Iterator[str]:
    """A real server process on a free port: Werkzeug, then gunicorn (--production)."""
    store = tmp_path_factory.mktemp("server") / "store"
    cli = [sys.executable, "-m", "allianceld.cli", "--store", str(store)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    port = _free_port()
    tokens = store.parent / "tokens.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ALLIANCELD_TOKENS": str(tokens), "ALLIANCELD_QUERY_TIMEOUT": "3"}
    TOKENS[request.param] = TokenStore(tokens).create("tester", "contributor")
    log = (store.parent / "server.log").open("wb")  # a file: a pipe nobody reads would fill and stop the server
    proc = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
        + (["--production", "--threads", "4"] if request.param == "production" else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((store.parent / "server.log").read_text()) from None
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not start within 60 s")
    yield base + "#" + request.param
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    finally:
        log.close()


@pytest.fixture(scope="module")
def server(server_url: str) -> str:
    return server_url.split("#")[0]


def test_the_query_workers_load_their_copies_at_start(server: str) -> None:
    """Both servers start every query worker and its in-memory copy before any query asks: with
    queries one at a time only one worker would start."""
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(server + "/healthz", timeout=30) as resp:
            workers = json.loads(resp.read())["query_workers"]
        if workers["workers"] >= 2 and workers["in_memory"] == workers["workers"]:
            break
        assert time.monotonic() < deadline, workers
        time.sleep(0.2)
    assert workers["memory"] is True


def test_rdflib_sparqlupdatestore_writes_through_the_gate(server_url: str) -> None:
    base, kind = server_url.split("#")
    graph = "https://w3id.org/allianceld/graph/user/client-test"
    store = SPARQLUpdateStore(base + "/sparql", base + "/sparql", headers={"Authorization": f"Bearer {TOKENS[kind]}"})
    store.update(
        f"""INSERT DATA {{ GRAPH <{graph}> {{
          <https://w3id.org/allianceld/id/region/arctic> a <https://w3id.org/allianceld/ontology#Region> ;
            <http://www.w3.org/2000/01/rdf-schema#label> "Arctic"@en }} }}"""
    )
    reader = Graph(store=SPARQLStore(base + "/sparql", returnFormat="json"))
    label = reader.value(
        URIRef("https://w3id.org/allianceld/id/region/arctic"), URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    )
    assert str(label) == "Arctic"
    with pytest.raises(urllib.error.HTTPError) as err:  # a Region without a label is refused
        store.update(
            f"INSERT DATA {{ GRAPH <{graph}> {{ <https://w3id.org/allianceld/id/region/x> a "
            "<https://w3id.org/allianceld/ontology#Region> } }"
        )
    assert err.value.code == 422


def test_sparqlwrapper_queries_the_real_server(server: str) -> None:
    sparql = SPARQLWrapper(server + "/sparql")
    sparql.setQuery(NATO_1990)
    sparql.setReturnFormat(JSON)
    rows = sparql.queryAndConvert()["results"]["bindings"]
    assert len(rows) == 16
    assert rows[0]["joined"]["value"] == "1949-08-24"


def test_sparqlwrapper_post(server: str) -> None:
    sparql = SPARQLWrapper(server + "/sparql")
    sparql.setMethod("POST")
    sparql.setQuery("ASK { <https://w3id.org/allianceld/id/state/fin> ?p ?o }")
    sparql.setReturnFormat(JSON)
    assert sparql.queryAndConvert()["boolean"] is True


def test_rdflib_sparqlstore_reads_the_real_server(server: str) -> None:
    graph = Graph(store=SPARQLStore(server + "/sparql", returnFormat="json"))
    label = graph.value(
        URIRef("https://w3id.org/allianceld/id/alliance/nato"), URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    )
    assert label is not None and "North Atlantic" in str(label)


def test_concurrent_readers_are_served(server: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def ask(_: int) -> int:
        with urllib.request.urlopen(server + "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", timeout=30) as resp:
            return resp.status

    with ThreadPoolExecutor(max_workers=4) as pool:  # ALLIANCELD_CLIENT_QUERIES: one client has 4 under way
        assert set(pool.map(ask, range(32))) == {200}


def test_a_runaway_query_is_stopped_while_others_are_served(server: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    runaway = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")

    def run_away() -> tuple[int, dict, float]:
        start = time.monotonic()
        try:
            urllib.request.urlopen(f"{server}/sparql?query={runaway}", timeout=30)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read()), time.monotonic() - start
        raise AssertionError("the runaway query was answered")

    with ThreadPoolExecutor(max_workers=2) as pool:
        stopped = pool.submit(run_away)
        time.sleep(0.5)
        started = time.monotonic()
        # another client (one client runs at most query_workers - 1 queries at once)
        other = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(server).port, timeout=30, source_address=("127.0.0.2", 0)
        )
        other.request("GET", "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D")
        resp = other.getresponse()
        assert resp.status == 200 and time.monotonic() - started < 2  # served while the runaway runs
        other.close()
        assert not stopped.done()
        status, body, elapsed = stopped.result()
    assert status == 503 and body["error"] == "query-timeout"
    assert 3 <= elapsed < 6
