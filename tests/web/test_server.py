"""The real server on 127.0.0.1, queried by real clients (SPARQLWrapper, rdflib's SPARQLStore)."""

from __future__ import annotations

import contextlib
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
SERVERS: dict[str, subprocess.Popen] = {}
NATO_1990 = (Path(__file__).resolve().parents[2] / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()


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
    SERVERS[request.param] = proc
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
    workers = _until_copies_loaded(server)
    assert workers["memory"] is True


def _until_copies_loaded(server: str) -> dict:
    """Wait until every query worker (at least two) answers from an up-to-date in-memory copy."""
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(server + "/healthz", timeout=30) as resp:
            workers = json.loads(resp.read())["query_workers"]
        if workers["workers"] >= 2 and workers["in_memory"] == workers["workers"]:
            return workers
        assert time.monotonic() < deadline, workers
        time.sleep(0.2)


def _query_workers(pid: int) -> list[int]:
    """The query worker processes (spawned by multiprocessing) among process ``pid``'s descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):  # gone meanwhile
            children.setdefault(int(stat.read_text().rsplit(")", 1)[1].split()[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
    return found


def _running(pids: list[int]) -> list[int]:
    """Those of ``pids`` that are running or runnable (a worker waiting for a query sleeps)."""
    running = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                running.append(pid)
    return running


def _until(condition, about: object, seconds: float = 60):
    """Wait until ``condition()`` is true and return it (``seconds`` only guard against a hang)."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, about
        time.sleep(0.01)
    return result


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


def test_a_runaway_query_is_stopped_while_others_are_served(server_url: str) -> None:
    """Another client's query is answered while the runaway runs in its worker (checked by the
    order of events: the worker runs it, the other answer comes, the runaway's comes later)."""
    from concurrent.futures import ThreadPoolExecutor

    server, kind = server_url.split("#")
    runaway = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    _until_copies_loaded(server)
    workers = _query_workers(SERVERS[kind].pid)
    assert len(workers) >= 2, workers
    _until(lambda: not _running(workers), workers)  # every worker waits for a query

    def run_away() -> tuple[int, dict, float]:
        start = time.monotonic()
        try:
            urllib.request.urlopen(f"{server}/sparql?query={runaway}", timeout=120)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read()), time.monotonic() - start
        raise AssertionError("the runaway query was answered")

    with ThreadPoolExecutor(max_workers=2) as pool:
        stopped = pool.submit(run_away)
        (busy,) = _until(lambda: _running(workers), workers)  # a worker runs the runaway
        # another client (one client runs at most query_workers - 1 queries at once)
        other = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(server).port, timeout=120, source_address=("127.0.0.2", 0)
        )
        other.request("GET", "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D")
        resp = other.getresponse()
        assert resp.status == 200 and not stopped.done()  # served while the runaway runs
        other.close()
        status, body, elapsed = stopped.result()
    assert status == 503 and body["error"] == "query-timeout"
    assert elapsed >= 3  # not before ALLIANCELD_QUERY_TIMEOUT
    assert busy not in _query_workers(SERVERS[kind].pid)  # its worker was killed
