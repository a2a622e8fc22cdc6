"""A crash of the allianceld process in the middle of a write on a remote store (`oxigraph serve`,
Virtuoso): `allianceld load`, a process of its own, is killed while a proxy holds its update before the
store, then the proxy lets the update go on to the store ("go") or never sends it ("withhold"); or it is
killed once the store has answered the update, before the answer reaches it ("answered"). The store then
holds all of the write or none of it, and a new process finds it so (and can write again, once the time
of the dead process's claim of the write lease has passed when its update never came)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.parse
from typing import Any

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase, write_lease
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import PROVENANCE_GRAPH_BASE
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, SMALL_WORLD, TEST_DATA, empty_remote
from store import lease_clock
from web.stalling_proxy import StallingProxy

RECORD = TEST_DATA / "valid" / "alliance-with-treaty-and-members.ttl"
LOAD = "import sys; from allianceld.cli import main; sys.argv[0] = 'allianceld'; main()"
WAIT_S = 120  # a deadline for what must happen, not a guess at how long it takes


def state(kb: KnowledgeBase) -> dict[str, Any]:
    """What a write changes, comparable between two runs of it: each graph's size and its triples
    without blank nodes (the store names blank nodes afresh); of the provenance graphs (the write's
    record and the change record, each with its own key and time) their number and size only."""
    graphs: dict[str, Any] = {}
    provenance = [0, 0]
    for graph in kb.graphs():
        triples = kb.triples(graph)
        if graph.startswith(PROVENANCE_GRAPH_BASE):
            provenance[0] += 1
            provenance[1] += len(triples)
            continue
        ground = {t for t in triples if not any(isinstance(n, ox.BlankNode) for n in (t.subject, t.object))}
        graphs[graph] = (len(triples), ground)
    return {"graphs": graphs, "provenance": tuple(provenance)}


def opened(query_url: str, update_url: str) -> KnowledgeBase:
    """The remote store as a new allianceld process opens it (nothing cached from earlier reads)."""
    return KnowledgeBase(backend=SparqlBackend(query_url, update_url))


def load(query_url: str, update_url: str) -> subprocess.Popen:
    """`allianceld load` of the test record, in a process of its own, over the remote store."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ALLIANCELD_")},
        "ALLIANCELD_DL_CHECKS": "off",
        "ALLIANCELD_SPARQL_QUERY_URL": query_url,
        "ALLIANCELD_SPARQL_UPDATE_URL": update_url,
    }
    return subprocess.Popen(
        [sys.executable, "-c", LOAD, "load", str(RECORD)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def small_world(request, engine: str, settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    """The remote store emptied, then the ontology and the small world (NATO's records) loaded."""
    kb = empty_remote(request, engine)
    files = [settings.data_dir / f"{name}.ttl" for name in SMALL_WORLD]
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, files))
    return kb


@pytest.mark.parametrize("then", ["go", "withhold", "answered"])
@pytest.mark.parametrize("engine", ["remote", "virtuoso"])
def test_a_load_killed_in_the_middle_of_its_write_leaves_all_or_none(
    request, engine: str, then: str, settings: Settings, write_policy: WritePolicy
) -> None:
    kb = small_world(request, engine, settings, write_policy)
    query_url, update_url = kb.backend.query_url, kb.backend.update_url  # type: ignore[attr-defined]
    before = state(opened(query_url, update_url))
    whole = load(query_url, update_url)  # the same write, not interrupted, from the same state
    assert whole.wait(WAIT_S) == 0, whole.stdout.read()  # type: ignore[union-attr]
    done = state(opened(query_url, update_url))
    assert done != before
    assert state(small_world(request, engine, settings, write_policy)) == before

    url = urllib.parse.urlsplit(update_url)
    proxy = StallingProxy((url.hostname or "127.0.0.1", url.port or 80))
    try:
        held = proxy.hold({"go": "request", "withhold": "withhold", "answered": "answer"}[then])
        proc = load(query_url, proxy.url + url.path)
        assert held.arrived.wait(WAIT_S), "no update came to the proxy"
        if then == "answered":
            assert held.reached.wait(WAIT_S)  # the store has answered: the answer is held
        proc.send_signal(signal.SIGKILL)  # allianceld dies with its update sent whole, its answer not come
        assert proc.wait(WAIT_S) == -signal.SIGKILL
        held.release.set()
        if then == "go":  # the update reaches the store after all: the store answers the proxy
            assert held.reached.wait(WAIT_S)
    finally:
        proxy.close()

    assert state(opened(query_url, update_url)) == (before if then == "withhold" else done)
    backend = opened(query_url, update_url).backend
    assert isinstance(backend, SparqlBackend)
    standing = [c for c in write_lease.claims(backend) if not c.expired()]
    if then == "withhold":  # the dead process's claim of the lease holds up writes until its time has passed
        assert len(standing) == 1
        lease_clock.run_out(backend)  # (made to pass)
    else:  # ended by its update
        assert not standing
    again = load(query_url, update_url)  # and the write can be made (again)
    assert again.wait(WAIT_S) == 0, again.stdout.read()  # type: ignore[union-attr]
    assert state(opened(query_url, update_url))["graphs"] == done["graphs"]
