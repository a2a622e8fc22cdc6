"""The roll-forward journal of writes on a store that does not apply an update all or nothing (Virtuoso):
a write cut short after its guard is finished by the next service that reads the store's version, once
its time limit has passed, and the store then holds what the whole write gives.

A write cut short is built by hand, as Virtuoso leaves one whose client went away: the guard with the
journal, then only the first ``k`` of the write's operations. The write's operations are those a real
write sent (recorded by the backend); its time limit is put in the past (or the future) by the test,
so nothing depends on the clock or on the machine's speed."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyoxigraph as ox
import pytest

from allianceld.errors import BadRequest, WriteConflict
from allianceld.store import KnowledgeBase, knowledgebase, write_journal, write_lease, write_version
from allianceld.store.backends import SparqlBackend
from allianceld.vocab import INFERRED_GRAPH, write_version_graph_iri
from conftest import empty_remote
from store.recording import Recording

EX = "http://example.org/"
KEPT, GONE, REPLACED, RULE, EMPTY = (EX + name for name in ("kept", "gone", "replaced", "rule", "empty"))
PAST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE = datetime.now(UTC) + timedelta(days=1)


_USED: list[SparqlBackend] = []


def _fresh(request, engine: str) -> KnowledgeBase:
    """The session's ``engine`` emptied, its write versions too: a write cut short by a test is not
    left for the next (the tests of other modules keep the versions, and no journal)."""
    kb = empty_remote(request, engine)
    assert isinstance(kb.backend, SparqlBackend)
    _forget_versions(kb.backend)
    _USED.append(kb.backend)
    return kb


def _forget_versions(backend: SparqlBackend) -> None:
    rows = backend.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?g {write_version.VERSION} ?v }} }}")
    drops = [f"DROP SILENT GRAPH {row['g']}" for row in rows]  # type: ignore[union-attr]
    if drops:
        backend.update(" ;\n".join(drops))


@pytest.fixture(autouse=True)
def _no_journal_left() -> Iterator[None]:
    yield
    while _USED:
        _forget_versions(_USED.pop())


def _t(s: str, o: str | ox.BlankNode) -> ox.Triple:
    obj = o if isinstance(o, ox.BlankNode) else ox.Literal(o)
    return ox.Triple(ox.NamedNode(EX + s), ox.NamedNode(EX + "p"), obj)


def _service(kb: KnowledgeBase, backend: type[SparqlBackend] = SparqlBackend) -> KnowledgeBase:
    """Another service (a new process) over the store of ``kb``."""
    assert isinstance(kb.backend, SparqlBackend)
    return KnowledgeBase(backend=backend(kb.backend.query_url, kb.backend.update_url))


def _start(request) -> KnowledgeBase:
    """Virtuoso, emptied, then holding the graphs the write below changes."""
    kb = _fresh(request, "virtuoso")
    kb.write(
        {
            KEPT: [_t("a", "1"), _t("b", "2")],
            GONE: [_t("g", "gone")],
            REPLACED: [_t("x", "old")],
            INFERRED_GRAPH: [_t("i", "old")],
        }
    )
    return kb


def _write(kb: KnowledgeBase) -> None:
    """A write of every kind of operation a write sends: graphs replaced, triples removed and added,
    operations after them (a rule's change, a graph dropped) and a graph kept empty."""
    rule_change = knowledgebase.data_operation("INSERT", RULE, [_t("r", "derived")])
    kb.write(
        {REPLACED: [_t("x", f"x{i}") for i in range(40)], GONE: []},
        remove={KEPT: [_t("a", "1")], INFERRED_GRAPH: [_t("i", "old")]},
        add={KEPT: [_t("c", '3 "quoted" ;\n} } DROP ALL')], INFERRED_GRAPH: [_t("i", "new")]},
        then=[rule_change, f"DROP SILENT GRAPH <{GONE}>"],
        keep=[EMPTY],
    )


def _quads(kb: KnowledgeBase) -> set[ox.Quad]:
    return set(kb.quads(kb.graphs()))


def _operations(request: str) -> list[str]:
    """The write's own operations in a recorded request: after the guard's three, before the journal's end
    (and the end of the write lease)."""
    operations = request.split(" ;\n")
    assert write_journal.PART.value in operations[2] and operations[-2].startswith("DELETE {")
    return operations[3:-2]


def _whole(request, write=_write) -> tuple[set[ox.Quad], list[str]]:
    """The store after ``write`` made whole from the start state, and the operations it sent."""
    kb = _service(_start(request), Recording)
    write(kb)
    assert isinstance(kb.backend, Recording)
    return _quads(kb), _operations(kb.backend.sent[-1])


def _cut(kb: KnowledgeBase, operations: list[str], k: int, until: datetime) -> write_version.Version:
    """The store of ``kb`` left as by a write of ``operations`` cut after its ``k`` first operations,
    journaled to end by ``until``; the version it was made from."""
    backend = kb.backend
    assert isinstance(backend, SparqlBackend)
    found = write_version.current(backend)
    journal = write_journal.Journal(" ;\n".join(operations), until - timedelta(seconds=90), until)
    backend.update(" ;\n".join([*write_version.guard(found, "cut", journal), *operations[:k]]))
    return found


def _canonical(triples: list[ox.Triple]) -> set[ox.Quad]:
    """``triples`` with their blank nodes named by their place: equal for isomorphic graphs."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def _version(kb: KnowledgeBase) -> write_version.Version:
    assert isinstance(kb.backend, SparqlBackend)
    found = write_version.read(kb.backend)
    assert found is not None
    return found


@pytest.mark.parametrize("engine", ["virtuoso", "remote"])
def test_a_write_journals_its_operations_only_where_updates_are_not_all_or_nothing(request, engine: str) -> None:
    kb = _service(_fresh(request, engine), Recording)
    kb.write({KEPT: [_t("a", "1")]})
    assert isinstance(kb.backend, Recording)
    sent = kb.backend.sent[-1].split(" ;\n")
    assert sent[-1].startswith(f"DELETE {{ GRAPH {write_lease.GRAPH}")  # the write lease, ended by the write
    if engine == "remote":  # oxigraph serve applies an update all or nothing: sent as before, no journal
        assert write_journal.PART.value not in kb.backend.sent[-1] and sent[-2].startswith("INSERT DATA")
    else:  # the version and the journal in one operation, the journal removed by the write's last one
        assert sent[2].startswith("INSERT DATA") and write_journal.PART.value in sent[2]
        assert write_journal.UNTIL.value in sent[2] and "writeVersion" in sent[2]
        assert sent[-2] == write_journal.clear(ox.NamedNode(write_version_graph_iri(_version(kb).number)))
    found = _version(kb)
    assert found.until is None  # nothing pending after the write
    graph = ox.NamedNode(write_version_graph_iri(found.number))
    held = kb.backend.select(f"SELECT * WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    assert len(list(held)) == 2  # the version and the token
    assert kb.triples(KEPT) == [_t("a", "1")]


@pytest.mark.parametrize("finish", ["refresh", "exclusive"])
def test_a_write_cut_short_is_finished_by_the_next_service_once_its_time_has_passed(request, finish: str) -> None:
    whole, operations = _whole(request)
    assert len(operations) >= 8
    for k in (0, 1, len(operations) // 2, len(operations)):  # cut before, after or in the middle of its operations
        kb = _start(request)
        before = _quads(kb)
        start = _cut(kb, operations, k, PAST)
        assert _version(kb).until == PAST  # the store says the write may be unfinished
        if 0 < k < len(operations):
            assert before != _quads(kb) != whole
        other = _service(kb)
        if finish == "refresh":
            other.refresh()
        else:
            other.exclusive(lambda kb=other: kb.write({EX + "after": [_t("z", "after")]}))
        assert _quads(other) - {q for q in _quads(other) if q.graph_name.value == EX + "after"} == whole, k
        assert _version(other).until is None
        assert _version(other).number == start.number + (2 if finish == "refresh" else 3)


def test_a_write_that_may_still_be_running_is_not_written_over_nor_finished(request) -> None:
    whole, operations = _whole(request)
    kb = _start(request)
    _cut(kb, operations, 2, FUTURE)
    partial = _quads(kb)
    other = _service(kb)
    other.refresh()
    with pytest.raises(WriteConflict) as refused:
        other.exclusive(lambda: other.write({EX + "after": [_t("z", "after")]}))
    assert refused.value.status == 409 and "still writing" in refused.value.message
    assert _quads(other) == partial and _version(other).until == FUTURE  # neither written over nor finished
    assert isinstance(other.backend, SparqlBackend)
    write_version.settled(other.backend, now=FUTURE + timedelta(seconds=1))  # once its time has passed
    assert _quads(other) == whole


def _replacing_with_blank_nodes(kb: KnowledgeBase) -> None:
    node = ox.BlankNode()
    kb.write({REPLACED: [_t("x", node), ox.Triple(node, ox.NamedNode(EX + "q"), ox.Literal("inner")), _t("y", "1")]})


def _adding_blank_nodes(kb: KnowledgeBase) -> None:
    kb.write({}, remove={REPLACED: [_t("x", "old")]}, add={REPLACED: [_t("x", ox.BlankNode()), _t("y", "1")]})
    kb.write({}, add={REPLACED: [_t("z", ox.BlankNode())]})  # a graph that holds blank nodes already


@pytest.mark.parametrize("write", [_replacing_with_blank_nodes, _adding_blank_nodes])
def test_a_write_of_blank_nodes_rewrites_their_graph_and_is_finished_whole(request, write) -> None:
    whole, operations = _whole(request, write)  # the operations of its last write
    assert f"DROP SILENT GRAPH <{REPLACED}>" in operations  # the graph is dropped, then written whole
    assert any(op.startswith("INSERT {") for op in operations)  # the blank nodes' own operation
    kb = _start(request)
    if write is _adding_blank_nodes:
        kb.write({}, remove={REPLACED: [_t("x", "old")]}, add={REPLACED: [_t("x", ox.BlankNode()), _t("y", "1")]})
    _cut(kb, operations, len(operations), PAST)  # their graph written, the journal left
    _service(kb).refresh()
    assert _version(kb).until is None  # finished: its operations were run again
    finished = kb.triples(REPLACED)
    assert len(finished) == len([q for q in whole if q.graph_name.value == REPLACED])  # no second blank node
    assert _canonical(finished) == _canonical([q.triple for q in whole if q.graph_name.value == REPLACED])


@pytest.mark.parametrize("engine", ["virtuoso", "remote"])
def test_an_operation_that_could_not_be_run_again_is_refused_on_virtuoso(request, engine: str) -> None:
    kb = _fresh(request, engine)
    kb.write({KEPT: [_t("a", "1")]})
    version = _version(kb).number
    copy = f"INSERT {{ GRAPH <{KEPT}> {{ ?s ?p 'copy' }} }} WHERE {{ GRAPH <{KEPT}> {{ ?s ?p ?o }} }}"
    if engine == "virtuoso":  # run again after a part of the write, it could read another store
        with pytest.raises(BadRequest, match="could not be run again"):
            kb.write({}, then=[copy])
        assert kb.triples(KEPT) == [_t("a", "1")] and _version(kb).number == version
    else:  # oxigraph serve applies it all or nothing: taken as before
        kb.write({}, then=[copy])
        assert len(kb.triples(KEPT)) == 2


def test_finishing_a_write_twice_is_harmless(request) -> None:
    whole, operations = _whole(request)
    kb = _start(request)
    _cut(kb, operations, 3, PAST)
    first, second = _service(kb), _service(kb)
    assert isinstance(first.backend, SparqlBackend) and isinstance(second.backend, SparqlBackend)
    seen = write_version.read(second.backend)  # both services find the write cut short
    assert seen is not None and seen.until == PAST
    done = write_version.roll_forward(first.backend, seen, datetime.now(UTC))
    again = write_version.roll_forward(second.backend, seen, datetime.now(UTC))  # overtaken: takes the first's
    assert again == done and done.until is None and done.number == seen.number + 1
    assert _quads(kb) == whole
    second.refresh()  # nothing left to finish
    assert _version(kb) == done and _quads(kb) == whole


def test_a_write_too_large_for_virtuoso_with_its_journal_is_refused_before_it_is_sent(request) -> None:
    kb = _fresh(request, "virtuoso")
    kb.write({KEPT: [_t("a", "1")]})
    version = _version(kb)
    # 5.5 MB that does not compress (random bytes in base64): over 10 MB with its journal
    large = [_t(f"l{i}", base64.b64encode(os.urandom(75_000)).decode("ascii")) for i in range(55)]
    with pytest.raises(BadRequest, match="at most 10 MB"):
        kb.write({REPLACED: large})
    assert _version(kb) == version and not kb.triples(REPLACED)


def test_the_journal_keeps_a_write_compressed_and_reads_it_back_whole() -> None:
    """A write's journal is a fraction of its operations (they travel in one request, which Virtuoso
    limits to 10 MB: the ATOP import onto Virtuoso, tests/store/test_large_remote_writes.py, fits so)."""
    many = [_t(f"s{i}", f"the value of statement {i}") for i in range(80_000)]  # 5.8 MB: 11.6 MB unpacked
    journal = write_journal.Journal.of("INSERT DATA { " + " ".join(f"{t} ." for t in many) + " }", 60.0)
    parts = write_journal.triples(ox.NamedNode(EX + "v"), journal)
    assert sum(len(t.object.value) for t in parts) < len(journal.update) / 5
    assert write_journal.text((t.subject, t.object.value) for t in parts if t.predicate == write_journal.PART) == (
        journal.update
    )
    assert write_journal.text([(ox.NamedNode(EX + "v#part-0"), "DROP SILENT GRAPH <x>")]) == "DROP SILENT GRAPH <x>"
