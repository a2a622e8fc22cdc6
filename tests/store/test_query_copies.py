"""Query workers answering from in-memory copies of the store: the copies follow every write (its
updates replayed), a write that cannot be replayed or updates that were dropped make a worker load
a new copy, and a query is answered correctly meanwhile, from a snapshot on disk."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.store.replica import Replica, Stale
from allianceld.vocab import data_graph_iri
from allianceld.web import create_app
from allianceld.web.services import query_copies_fit
from allianceld.write import gate
from conftest import ROOT, load_shipped, until_in_memory
from reasoning.test_rule_context import ID, contribution

QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER (!isBlank(?s) && !isBlank(?o)) }"
COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
PROBE = "https://example.org/graph/probe"


@pytest.fixture
def pooled(tmp_path: Path, write_policy):
    """An app over the shipped data on disk with one query worker holding an in-memory copy."""
    path = tmp_path / "store"
    settings = Settings(store_path=path, home=ROOT, query_timeout=30, query_workers=1, query_memory="on")
    kb = load_shipped(KnowledgeBase(path), settings, write_policy)
    app = create_app({"SETTINGS": settings, "KB": kb, "TESTING": True})
    svc = app.extensions["allianceld"]
    client = app.test_client()
    until_in_memory(svc.pool, lambda: _rows(client, "ASK {}"))
    yield client, kb, svc
    svc.close()
    kb.close()


def _rows(client, query: str) -> list[tuple[str, ...]] | bool:
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = resp.get_json()
    if "boolean" in doc:
        return doc["boolean"]
    names = doc["head"]["vars"]
    return sorted(tuple(b[n]["value"] for n in names if n in b) for b in doc["results"]["bindings"])


def _direct(kb: KnowledgeBase, query: str) -> list[tuple[str, ...]]:
    result = kb.query(query)
    names = [v.value for v in result.variables]
    return sorted(tuple(row[n].value for n in names if row[n] is not None) for row in result)


def _new_snapshots(svc, kb) -> list[str]:
    return [p.name for p in svc.pool.snapshot_dir.iterdir() if p.name.startswith(f"v{kb.version}-")]


def test_the_copy_follows_every_write_without_a_snapshot(pooled, write_policy) -> None:
    """A contribution (with its inferences and domain rules), a retraction and a raw write: after
    each, the worker answers from its copy, brought up to date by replaying the write, and sees
    exactly the store's quads."""
    client, kb, svc = pooled
    graph = data_graph_iri("test-pact")
    writes = [
        lambda: gate.commit(
            kb, write_policy, [gate.Source(graph, contribution(), "test")], force=True
        ),  # not a full record
        lambda: gate.commit(kb, write_policy, [gate.Source(graph, [], "retraction")]),
        lambda: kb.write({PROBE: [ox.Triple(ox.NamedNode(ID + "x"), ox.NamedNode(ID + "p"), ox.Literal("y"))]}),
    ]
    for write in writes:
        before = kb.version
        write()
        assert kb.version > before
        assert _rows(client, COUNTS) == _direct(kb, COUNTS)
        assert _rows(client, QUADS) == _direct(kb, QUADS)
        assert svc.pool.status()["in_memory"] == 1  # answered from the copy...
        assert not _new_snapshots(svc, kb)  # ...so no snapshot of the new version was taken
    allied = f"ASK {{ <{ID}state/jpn> <https://w3id.org/allianceld/ontology#alliedWith> <{ID}state/ind> }}"
    assert _rows(client, allied) is False  # the rule's derivation went with the retracted alliance


def test_a_write_that_cannot_be_replayed_makes_the_worker_load_a_new_copy(pooled) -> None:
    """STRUUID() gives another value each time: run again on the copy, the write would differ
    from the store's. The worker answers from a snapshot, then from a copy loaded anew."""
    client, kb, svc = pooled
    kb.write(
        {},
        then=[f"INSERT {{ GRAPH <{PROBE}> {{ <{ID}x> <{ID}p> ?id }} }} WHERE {{ BIND (STRUUID() AS ?id) }}"],
    )
    query = f"SELECT ?id WHERE {{ <{ID}x> <{ID}p> ?id }}"
    expected = _direct(kb, query)
    assert len(expected) == 1
    assert _rows(client, query) == expected
    assert _new_snapshots(svc, kb)  # answered from a snapshot of the store
    until_in_memory(svc.pool, lambda: _rows(client, "ASK {}"))
    assert _rows(client, query) == expected  # the new copy holds the store's value


def test_a_copy_whose_updates_were_dropped_is_loaded_anew(pooled) -> None:
    client, kb, svc = pooled
    kb.write({PROBE: [ox.Triple(ox.NamedNode(ID + "x"), ox.NamedNode(ID + "p"), ox.Literal("kept"))]})
    svc.pool._log.clear()  # as when the updates kept passed LOG_MAX_BYTES
    query = f"ASK {{ <{ID}x> <{ID}p> 'kept' }}"
    assert _rows(client, query) is True
    until_in_memory(svc.pool, lambda: _rows(client, "ASK {}"))
    assert _rows(client, query) is True


def test_healthz_reports_the_query_workers(pooled) -> None:
    client, _, _ = pooled
    body = client.get("/healthz").get_json()
    assert body["query_workers"]["workers"] == 1 and body["query_workers"]["in_memory"] == 1


def test_a_replica_replays_updates_in_order_and_refuses_a_gap(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    kb.write({PROBE: [ox.Triple(ox.NamedNode(ID + "a"), ox.NamedNode(ID + "p"), ox.Literal("1"))]})
    version = kb.snapshot(tmp_path / "snap")
    replica = Replica()
    replica.load(tmp_path / "snap", version)
    deadline = time.monotonic() + 30
    while replica.state()[1] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert replica.state() == (version, False, False)
    assert not (tmp_path / "snap").exists()  # read, then deleted
    insert = f"INSERT DATA {{ GRAPH <{PROBE}> {{ <{ID}b> <{ID}p> '2' }} }}"
    copy = replica.at(version + 1, [(version + 1, insert)])
    assert bool(copy.query(f"ASK {{ <{ID}b> <{ID}p> '2' }}"))
    assert replica.at(version + 1, [(version + 1, insert)]) is copy  # an update it holds is skipped
    with pytest.raises(Stale):
        replica.at(version + 3, [(version + 3, insert)])  # write version + 2 is missing
    with pytest.raises(Stale):
        replica.at(version + 1, [])  # the gap dropped the copy
    kb.close()


def test_the_copies_are_kept_in_memory_when_they_fit(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "store"
    KnowledgeBase(path).close()
    settings = Settings(store_path=path, query_workers=2, query_memory="auto")
    assert query_copies_fit(settings, path) is True
    monkeypatch.setattr("os.sysconf", lambda name: 1)  # a machine with no memory to spare
    assert query_copies_fit(settings, path) is False
    assert query_copies_fit(Settings(store_path=path, query_memory="on"), path) is True
    assert query_copies_fit(Settings(store_path=path, query_memory="off"), path) is False
    with pytest.raises(ValueError, match="ALLIANCELD_QUERY_MEMORY"):
        query_copies_fit(Settings(store_path=path, query_memory="maybe"), path)


def test_a_worker_killed_before_it_read_its_snapshot_leaves_none_behind(pooled) -> None:
    _, _, svc = pooled
    worker = svc.pool._take_worker(time.monotonic() + 30)
    path, _ = svc.pool._new_copy(worker)  # as for a new copy, but the worker never gets the message
    assert Path(path).is_dir()
    svc.pool._discard(worker)  # as when a query runs past the limit
    assert not Path(path).exists()


def test_serve_refuses_an_unknown_query_memory_setting(tmp_path: Path, runner) -> None:
    from allianceld.cli import main

    result = runner.invoke(
        main, ["--store", str(tmp_path / "store"), "serve"], env={"ALLIANCELD_QUERY_MEMORY": "maybe"}
    )
    assert result.exit_code != 0
    assert "ALLIANCELD_QUERY_MEMORY must be on, off or auto, not 'maybe'" in result.output
    assert not (tmp_path / "store").exists()  # refused before the store was opened
