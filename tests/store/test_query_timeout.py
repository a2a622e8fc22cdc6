"""The query time limit: a runaway query is stopped (its worker process killed) and answered 503,
while other queries go on being answered; queries see every acknowledged write."""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from allianceld.config import Settings
from allianceld.errors import RemoteQueryTimeout
from allianceld.store import KnowledgeBase
from allianceld.store.backends import SparqlBackend
from allianceld.web import create_app
from allianceld.write import gate
from conftest import ROOT, load_shipped, oxigraph_serve, until_in_memory

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FINLAND = "ASK { <https://w3id.org/allianceld/id/state/fin> ?p ?o }"
LIMIT_S = 4.0  # far above what answering FINLAND takes, even on a busy machine


@pytest.fixture(scope="module", params=["off", "on"], ids=["snapshots", "in-memory"])
def pooled(request, tmp_path_factory, write_policy):
    """An app over an on-disk store whose queries run in two worker processes, LIMIT_S limit; the
    workers answer from snapshots on disk, or from in-memory copies once loaded."""
    path = tmp_path_factory.mktemp("pooled") / "store"
    settings = Settings(store_path=path, home=ROOT, query_timeout=LIMIT_S, query_workers=2, query_memory=request.param)
    kb = load_shipped(KnowledgeBase(path), settings, write_policy)
    app = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})
    svc = app.extensions["allianceld"]
    if request.param == "on":
        client = app.test_client()
        clients = itertools.count()  # one client runs at most one query at once on two workers
        until_in_memory(svc.pool, lambda: _ask(client, remote=f"10.0.0.{next(clients) % 200}"), workers=2)
    yield app.test_client(), kb, svc
    svc.close()
    kb.close()


def _ask(client, query: str = FINLAND, remote: str = "127.0.0.1"):
    return client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        environ_base={"REMOTE_ADDR": remote},
    )


def test_queries_run_in_worker_processes_on_a_snapshot(pooled) -> None:
    client, _, svc = pooled
    resp = _ask(client)
    assert resp.status_code == 200 and resp.get_json()["boolean"] is True
    assert svc.pool is not None and svc.pool._live >= 1
    snapshots = [p.name for p in svc.pool.snapshot_dir.iterdir() if not p.name.startswith("copy-")]
    assert len(snapshots) == 1


def test_a_runaway_query_is_stopped_while_others_are_served(pooled) -> None:
    client, _, svc = pooled
    pool = svc.pool
    _both_workers_ready(pool)
    outcome: dict = {}

    def runaway() -> None:
        start = time.monotonic()
        outcome["resp"] = client.get(  # from another client than the queries served meanwhile
            "/sparql", query_string={"query": RUNAWAY}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        outcome["elapsed"] = time.monotonic() - start

    workers = list(pool._idle)
    thread = threading.Thread(target=runaway)
    thread.start()
    _until(lambda: len(pool._idle) < len(workers), pool.status())  # the runaway has taken its worker
    (taken,) = [w for w in workers if w not in pool._idle]
    idle = [w.process for w in workers if w is not taken]
    first = _ask(client)  # another query is answered while the runaway runs
    assert first.status_code == 200 and thread.is_alive() and taken.process.is_alive(), first.get_data(as_text=True)
    served = [first.status_code]
    while thread.is_alive():  # and others go on being answered until it is stopped
        served.append(_ask(client).status_code)
        thread.join(0.2)
    resp = outcome["resp"]
    assert resp.status_code == 503, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == "query-timeout" and "ALLIANCELD_QUERY_TIMEOUT" in body["message"]
    assert outcome["elapsed"] >= LIMIT_S  # not before the limit
    assert set(served) == {200}, served
    assert all(p.is_alive() for p in idle)  # the idle workers were untouched...
    assert not taken.process.is_alive() and svc.pool._live <= 2  # ...and the runaway's worker was killed
    assert _ask(client).status_code == 200  # a replacement worker starts on demand


def _until(condition, about: object, seconds: float = 60) -> None:
    """Wait until ``condition()`` holds (``seconds`` only guard against a hang)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, about
        time.sleep(0.01)


def _both_workers_ready(pool) -> None:
    """Start the pool's two workers (if they do not run yet) and wait until both are idle and ready,
    so that a query answered beside the runaway waits for no worker's start-up."""
    if pool._live < 2:
        pool.warm()
    _until(lambda: len(pool._idle) == 2 and all(w.ready for w in list(pool._idle)), pool.status())


def test_queries_see_every_acknowledged_write(pooled, write_policy) -> None:
    client, kb, svc = pooled
    query = "ASK { <https://example.org/probe> <https://example.org/p> 'x' }"
    assert _ask(client, query).get_json()["boolean"] is False
    data = '<https://example.org/probe> <https://example.org/p> "x" .'
    source = gate.Source("https://example.org/graph/probe", _triples(data), "probe")
    gate.commit(kb, write_policy, [source], reason=False)
    assert _ask(client, query).get_json()["boolean"] is True
    if svc.pool.memory:  # the write was replayed on the copy: no snapshot of it was needed
        assert svc.pool.status()["in_memory"] >= 1
        assert not any(p.name.startswith(f"v{kb.version}-") for p in svc.pool.snapshot_dir.iterdir())
    else:
        assert len(list(svc.pool.snapshot_dir.iterdir())) == 1  # the superseded snapshot is gone


def test_errors_cross_from_the_worker_intact(pooled) -> None:
    client, _, _ = pooled
    resp = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "query-syntax-error"
    resp = client.get("/sparql", query_string={"query": FINLAND}, headers={"Accept": "text/turtle"})
    assert resp.status_code == 406 and "boolean" in resp.get_json()["message"]


def test_closing_stops_the_workers_and_removes_the_snapshots(tmp_path: Path, write_policy) -> None:
    settings = Settings(store_path=tmp_path / "store", home=ROOT, query_timeout=5, query_workers=1)
    kb = KnowledgeBase(settings.store_path)
    app = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})
    svc = app.extensions["allianceld"]
    assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    process = svc.pool._idle[0].process
    svc.close()
    assert not process.is_alive() and not svc.pool.snapshot_dir.exists()
    kb.close()


def test_the_remote_backend_gives_up_after_the_limit(tmp_path: Path) -> None:
    """Against a real `oxigraph serve`, which would stop the query itself only after its own
    --timeout-s: the 504 (not the endpoint's error) shows the backend gave up at its own limit."""
    with oxigraph_serve("--timeout-s", "60") as base:
        kb = KnowledgeBase(backend=SparqlBackend(base + "/query", base + "/update", timeout_s=1.0))
        rows = " ".join(f"<https://example.org/{i}> <https://example.org/p> {i} ." for i in range(2000))
        kb.backend.update(f"INSERT DATA {{ GRAPH <https://example.org/g> {{ {rows} }} }}")  # 8e9 rows to count
        start = time.monotonic()
        with pytest.raises(RemoteQueryTimeout) as caught:
            kb.query(RUNAWAY)
        assert caught.value.status == 504 and time.monotonic() - start >= 1.0
        assert bool(kb.query("ASK { ?s ?p 2000 }")) is False  # the endpoint still answers


def _triples(nt: str):
    from allianceld.rdf import formats

    return formats.parse(nt.encode(), formats.MEDIA_TYPES["application/n-triples"], source="probe")


def _held_worker_main(started, go, conn) -> None:
    """A query worker that signals ``started``, then waits for ``go`` before it starts as usual."""
    from allianceld.store import query_pool

    started.set()
    go.wait(120)
    query_pool._worker_main(conn)


def test_a_new_workers_start_up_does_not_count_against_the_limit(tmp_path: Path, write_policy, monkeypatch) -> None:
    """A fresh worker (a new interpreter importing pyoxigraph) may take longer to start than the
    limit; the query's clock starts when a ready worker gets it, so a quick query is answered. The
    worker here is held at its start until the limit has passed since the query was sent."""
    from allianceld.store import query_pool

    spawn = multiprocessing.get_context("spawn")
    started, go = spawn.Event(), spawn.Event()
    monkeypatch.setattr(query_pool, "_worker_main", functools.partial(_held_worker_main, started, go))
    path = tmp_path / "store"
    settings = Settings(store_path=path, home=ROOT, query_timeout=LIMIT_S, query_workers=1)
    kb = load_shipped(KnowledgeBase(path), settings, write_policy)
    app = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})
    svc = app.extensions["allianceld"]
    try:
        assert isinstance(svc.pool, query_pool.QueryPool)
        with ThreadPoolExecutor(max_workers=1) as executor:
            sent = time.monotonic()
            answer = executor.submit(_ask, app.test_client())
            assert started.wait(120)  # the query's worker runs, held before it is ready
            time.sleep(max(0.0, sent + LIMIT_S - time.monotonic()))  # until the limit has passed since sending
            assert not answer.done()  # the query still waits for its worker...
            go.set()
            resp = answer.result(timeout=120)
        assert resp.status_code == 200, resp.get_json()  # ...and is answered, not stopped
        assert resp.get_json()["boolean"] is True
    finally:
        go.set()
        svc.close()
        kb.close()
