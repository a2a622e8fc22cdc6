"""The write version of a remote store (`oxigraph serve` and Virtuoso): a write made from a version another
service moved is refused by the store and keeps nothing, and is made again from the start; the version's
graph is the services' own. Two KnowledgeBases over one endpoint stand for two services; the other
service's write is made inside the first one's, so the order of events is explicit. The first one's write
lease (:mod:`allianceld.store.write_lease`) would make the other wait until it landed: the tests make
it run out first (as when a write takes longer than its time limit), which leaves the write version alone
to keep the writes apart."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld.errors import Forbidden, WriteConflict
from allianceld.store import KnowledgeBase, knowledgebase, write_version
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import WRITE_VERSION_GRAPH_BASE, Kind, kind_of, write_version_graph_iri
from allianceld.write import graph_policy
from allianceld.write.graph_policy import LOCAL
from store import lease_clock

MINE, THEIRS = "http://example.org/mine", "http://example.org/theirs"


def _triple(value: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal(value))


def _other(kb: KnowledgeBase) -> KnowledgeBase:
    """Another service over the same store."""
    backend = kb.backend
    assert isinstance(backend, SparqlBackend)
    return KnowledgeBase(backend=SparqlBackend(backend.query_url, backend.update_url))


def _lease_runs_out(kb: KnowledgeBase) -> None:
    assert isinstance(kb.backend, SparqlBackend)
    lease_clock.run_out(kb.backend)


def _version(kb: KnowledgeBase) -> int:
    assert isinstance(kb.backend, SparqlBackend)
    found = write_version.read(kb.backend)
    assert found is not None
    return found.number


def test_a_write_another_service_overtook_is_made_again_from_the_store(remote_kb: KnowledgeBase) -> None:
    other = _other(remote_kb)
    remote_kb.replace_graphs({MINE: [_triple("start")]})
    start = _version(remote_kb)
    seen: list[list[ox.Triple]] = []

    def write() -> None:
        seen.append(remote_kb.triples(MINE))  # what this write reads, then writes from
        if len(seen) == 1:
            _lease_runs_out(remote_kb)
            other.replace_graphs({MINE: [_triple("theirs")], THEIRS: [_triple("theirs")]})
        remote_kb.write({MINE: [*seen[-1], _triple("mine")]})

    remote_kb.exclusive(write)
    assert seen == [[_triple("start")], [_triple("theirs")]]  # made again from the other service's state
    assert set(remote_kb.triples(MINE)) == {_triple("theirs"), _triple("mine")}
    assert remote_kb.triples(THEIRS) == [_triple("theirs")]
    assert _version(remote_kb) == start + 2


def test_a_write_overtaken_every_time_is_refused_and_keeps_nothing(remote_kb: KnowledgeBase) -> None:
    other = _other(remote_kb)
    remote_kb.replace_graphs({MINE: [_triple("start")]})
    attempts = []

    def write() -> None:
        attempts.append(1)
        _lease_runs_out(remote_kb)
        other.replace_graphs({THEIRS: [_triple(f"theirs {len(attempts)}")]})
        remote_kb.write({MINE: [_triple("mine")]})

    with pytest.raises(WriteConflict) as refused:
        remote_kb.exclusive(write)
    assert refused.value.status == 409 and "nothing of it was stored" in refused.value.message
    assert len(attempts) == knowledgebase.WRITE_ATTEMPTS
    assert remote_kb.triples(MINE) == [_triple("start")]


def test_the_write_version_is_the_services_own(remote_kb: KnowledgeBase) -> None:
    remote_kb.replace_graphs({MINE: [_triple("x")]})
    assert remote_kb.graphs() == [MINE]  # not listed, so neither exported, validated nor reasoned over
    assert remote_kb.count() == 1
    assert b"write-version" not in remote_kb.dump()
    assert not remote_kb.select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), 'write-version')) }")
    graph = write_version_graph_iri(_version(remote_kb))
    assert graph.startswith(WRITE_VERSION_GRAPH_BASE) and kind_of(graph) is Kind.SERVICE
    with pytest.raises(Forbidden):
        graph_policy.check_write(graph, LOCAL)


def test_another_service_s_write_is_noticed_by_refresh(remote_kb: KnowledgeBase) -> None:
    """What is cached by ``kb.version`` is read again after another service's write, not before."""
    other = _other(remote_kb)
    remote_kb.refresh()
    version = remote_kb.version
    remote_kb.refresh()
    assert remote_kb.version == version  # nothing written: caches kept
    other.replace_graphs({THEIRS: [_triple("theirs")]})
    remote_kb.refresh()
    assert remote_kb.version > version
