"""Large writes that only add are bulk-loaded, and stay all or nothing through a rollback journal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase, bulk_write
from allianceld.vocab import INFERRED_GRAPH
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

GRAPH = "http://example.org/graph/bulk"
T = TypeVar("T")


def triples(n: int, tag: str = "x") -> list[ox.Triple]:
    p = ox.NamedNode("http://example.org/p")
    return [ox.Triple(ox.NamedNode(f"http://example.org/{tag}/{i}"), p, ox.Literal(str(i))) for i in range(n)]


def test_a_large_write_that_only_adds_is_bulk_loaded_and_equals_a_transaction(
    tmp_path: Path, settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20k-triple load through the gate, with its inferences and rules, by the bulk path; the
    same load with its graph loaded early (on a store nothing else reads), and with the bulk path
    off, leave the same store."""
    data = generate(20_000, seed=0)
    dumps = {}
    parts: list[str] = []  # the graphs loaded early
    part = bulk_write.Early.add
    monkeypatch.setattr(bulk_write.Early, "add", lambda self, graphs: (parts.extend(graphs), part(self, graphs))[1])
    for way in ("early", "bulk", "transaction"):
        if way == "transaction":
            monkeypatch.setattr(bulk_write, "BULK_QUADS", 10**9)
        loaded: list[int] = []
        monkeypatch.setattr(bulk_write, "add", _counting(bulk_write.add, loaded))
        begun: list[int] = []
        monkeypatch.setattr(bulk_write, "begin", _counting(bulk_write.begin, begun))
        parts.clear()
        kb = KnowledgeBase(tmp_path / f"store-{way}")
        gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
        kb.unshared = way == "early"
        before = len(loaded)
        gate.commit(kb, write_policy, [gate.Source(GRAPH, data, "generated")])
        assert (len(loaded) - before == 1) is (way != "transaction")
        assert len(begun) == (way == "early")
        assert parts == ([GRAPH, INFERRED_GRAPH] if way == "early" else [])  # the inferences while rules run
        assert not bulk_write.journal_path(tmp_path / f"store-{way}").exists()
        quads = [q for q in ox.parse(kb.dump(), format=ox.RdfFormat.N_QUADS) if "/provenance/" not in str(q)]
        blank = [q for q in quads if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)]
        dumps[way] = (set(quads) - set(blank), len(blank))  # the ontology's blank nodes differ from load to load
        kb.close()
    assert dumps["early"] == dumps["bulk"] == dumps["transaction"]


def _counting(real: Callable[..., T], calls: list[int]) -> Callable[..., T]:
    def counted(*args: object, **kwargs: object) -> T:
        calls.append(1)
        return real(*args, **kwargs)

    return counted


def test_a_write_that_removes_anything_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    kb.replace_graphs({GRAPH: triples(25_000)})  # new: bulk-loaded
    monkeypatch.setattr(bulk_write, "add", lambda *a: pytest.fail("bulk-loaded a write that removes"))
    kb.replace_graphs({GRAPH: triples(25_000)[1:] + triples(25_000, "y")})  # one triple goes
    assert kb.count(GRAPH) == 49_999
    kb.close()


INTERRUPTED = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pyoxigraph as ox
    from allianceld.store import KnowledgeBase

    class HalfLoaded:
        # the store, except that the bulk loader loads half the quads, says so and waits for the kill
        def __init__(self, store):
            self.store = store
        def __getattr__(self, name):
            return getattr(self.store, name)
        def __contains__(self, quad):
            return quad in self.store
        def bulk_load(self, text, format, lenient):
            quads = list(ox.parse(text, format=format))
            self.store.bulk_extend(quads[: len(quads) // 2])
            self.store.flush()
            print("HALF", flush=True)
            sys.stdin.read()  # until killed

    kb = KnowledgeBase(Path(sys.argv[1]))
    kb.backend.store = HalfLoaded(kb.backend.store)
    p = ox.NamedNode("http://example.org/p")
    new = [ox.Triple(ox.NamedNode(f"http://example.org/x/{i}"), p, ox.Literal(str(i))) for i in range(25_000)]
    before = "http://example.org/graph/before"
    more = [ox.Triple(ox.NamedNode(f"http://example.org/more/{i}"), p, ox.Literal(str(i))) for i in range(5)]
    kb.write({"http://example.org/graph/bulk": new}, add={"http://example.org/graph/other": new[:5], before: more})
    """
)


def test_a_bulk_load_killed_half_way_leaves_nothing_once_the_store_is_opened(tmp_path: Path) -> None:
    """The kill lands after half the quads are in the store (the loader says so, then waits);
    opening the store again rolls the journal back, dropping the new graphs and removing what was
    added to a graph that was there: the store is as before the write."""
    _killed_half_way(tmp_path, INTERRUPTED)


def _killed_half_way(tmp_path: Path, script: str) -> None:
    """Run ``script`` on a store, kill it once it says HALF, and check that opening the store
    again leaves it as before."""
    path = tmp_path / "store"
    kb = KnowledgeBase(path)
    kb.replace_graphs({"http://example.org/graph/before": triples(10)})
    before = kb.dump()
    kb.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "HALF"
    proc.kill()
    proc.wait()
    assert bulk_write.journal_path(path).exists()
    store = ox.Store.read_only(str(path))
    assert 0 < len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH)))) < 25_000
    del store
    kb = KnowledgeBase(path)
    assert kb.dump() == before
    assert not bulk_write.journal_path(path).exists()
    kb.close()


def test_the_journal_holds_each_triple_in_its_graph_whatever_its_literals(tmp_path: Path) -> None:
    """The journal is written as N-Triples put into their graph: literals that hold what ends a
    line (" .", a line break, a carriage return, quotes, a language tag) come back the same, each
    in its own graph."""
    p = ox.NamedNode("http://example.org/p")
    odd = ["a .\nb", "ends with .", " .\r\n .", 'say "x" .', "\\ . \\n"]
    graphs = {
        "http://example.org/graph/a": [
            ox.Triple(ox.NamedNode(f"http://example.org/a/{i}"), p, ox.Literal(v)) for i, v in enumerate(odd)
        ],
        "http://example.org/graph/b": [
            ox.Triple(ox.NamedNode("http://example.org/b"), p, ox.Literal("x .\n", language="en")),
            ox.Triple(ox.NamedNode("http://example.org/b"), p, ox.NamedNode("http://example.org/o")),
        ],
    }
    store = ox.Store(str(tmp_path / "store"))
    bulk_write.add(store, tmp_path / "store", graphs)
    got = {(q.graph_name.value, q.triple) for q in store}
    assert got == {(g, t) for g, ts in graphs.items() for t in ts}
    assert not bulk_write.journal_path(tmp_path / "store").exists()


def test_a_line_too_long_to_read_back_is_loaded_from_its_triples_and_never_journaled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyoxigraph's parsers refuse a line over 16 MiB, such as a change record's literal listing a
    large load's triples. A new graph holding one is loaded from its triples, in a transaction (the
    bulk loader's table with such a value slowed every later read of the open store), and the
    journal only names it; a graph already there that would get one is written by a transaction."""
    monkeypatch.setattr(bulk_write, "_LINE_LIMIT", 1000)  # as a 17 MB literal, with 1,001 characters
    record_graph = "http://example.org/graph/record"
    p = ox.NamedNode("http://example.org/p")
    record = [ox.Triple(ox.NamedNode("http://example.org/record"), p, ox.Literal("x" * 1001))]
    journals: list[bytes] = []
    monkeypatch.setattr(bulk_write.os, "replace", _reading(os.replace, journals))
    kb = KnowledgeBase(tmp_path / "store")
    kb.backend.store = _Recording(kb.backend.store)
    kb.replace_graphs({record_graph: record, GRAPH: triples(25_000)})
    assert len(journals) == 1 and b"x" * 1001 not in journals[0] and record_graph.encode() in journals[0]
    assert kb.backend.store.calls == ["bulk_load", ("extend", record_graph)]
    assert kb.triples(record_graph) == record
    assert kb.count(GRAPH) == 25_000
    again = [ox.Triple(ox.NamedNode("http://example.org/record/2"), p, ox.Literal("y" * 1001))]
    kb.write({}, add={record_graph: again, GRAPH + "/2": triples(25_000, "y")})
    assert len(journals) == 1  # not bulk-loaded
    assert set(kb.triples(record_graph)) == {*record, *again}
    assert kb.count(GRAPH + "/2") == 25_000
    kb.close()


def test_blank_nodes_in_new_graphs_are_bulk_loaded_with_their_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blank node shared by two new graphs stays one node; a roll-back drops new graphs whole."""
    node, p = ox.BlankNode("shared"), ox.NamedNode("http://example.org/p")
    loaded: list[int] = []
    monkeypatch.setattr(bulk_write, "add", _counting(bulk_write.add, loaded))
    kb = KnowledgeBase(tmp_path / "store")
    kb.backend.store = _Recording(kb.backend.store)
    kb.replace_graphs(
        {
            GRAPH: [ox.Triple(node, p, ox.Literal("a")), *triples(25_000)],
            GRAPH + "/2": [ox.Triple(node, p, ox.Literal("b"))],
        }
    )
    assert loaded == [1]
    assert kb.backend.store.calls == [("bulk_extend", GRAPH), ("bulk_extend", GRAPH + "/2")]  # the bulk loader
    rows = kb.select(
        f"SELECT ?a ?b WHERE {{ GRAPH <{GRAPH}> {{ ?x <{p.value}> ?a }} GRAPH <{GRAPH}/2> {{ ?x <{p.value}> ?b }} }}"
    )
    assert rows == [{"a": "a", "b": "b"}]
    kb.close()


def test_an_iri_that_reads_like_a_blank_node_is_bulk_loaded_from_its_text(tmp_path: Path) -> None:
    """The text of the triples is looked at first: ``_:`` inside an IRI is no blank node, and a
    text without ``_:`` is not looked at triple by triple."""
    odd = ox.NamedNode("http://example.org/_:not-blank")
    kb = KnowledgeBase(tmp_path / "store")
    kb.backend.store = _Recording(kb.backend.store)
    kb.replace_graphs({GRAPH: [ox.Triple(odd, odd, odd), *triples(25_000)]})
    assert kb.backend.store.calls == ["bulk_load"]
    assert ox.Triple(odd, odd, odd) in kb.triples(GRAPH)
    kb.close()

    def unread() -> Iterator[ox.Triple]:
        raise AssertionError("the triples were read")
        yield  # pragma: no cover

    assert formats.any_blank_node(unread(), b"<http://example.org/a> <http://example.org/b> _x:c .\n") is False
    blank = ox.Triple(ox.BlankNode("b"), odd, odd)
    assert formats.any_blank_node([blank], ox.serialize([blank], format=ox.RdfFormat.N_TRIPLES)) is True


class _Recording:
    """A store that records which of its writing methods are called (for ``extend`` and
    ``bulk_extend``, with the graph of their quads)."""

    def __init__(self, store: ox.Store) -> None:
        self.store, self.calls = store, []  # type: list[object]

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def __contains__(self, quad: ox.Quad) -> bool:
        return quad in self.store

    def __iter__(self) -> Iterator[ox.Quad]:
        return iter(self.store)

    def bulk_load(self, *args: object, **kwargs: object) -> None:
        self.calls.append("bulk_load")
        self.store.bulk_load(*args, **kwargs)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        self.calls.append(("extend", quads[0].graph_name.value))
        self.store.extend(quads)

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        self.calls.append(("bulk_extend", quads[0].graph_name.value))
        self.store.bulk_extend(quads)


def _reading(real: Callable[..., None], seen: list[bytes]) -> Callable[..., None]:
    """``os.replace`` that keeps what it renames (the journal, as written)."""

    def replace(source: object, target: object) -> None:
        seen.append(Path(str(source)).read_bytes())
        real(source, target)

    return replace


# -- graphs loaded early: while the write is reasoned over, on a store nothing else reads --------


def test_graphs_loaded_early_then_the_rest_make_the_same_store_as_one_bulk_write(tmp_path: Path) -> None:
    """begin() loads new graphs in a thread; add(after=) adds the rest and ends the write: the store
    equals one bulk write of all of it, with no journal left."""
    dumps = []
    for early in (True, False):
        kb = KnowledgeBase(tmp_path / f"store-{early}")
        kb.replace_graphs({"http://example.org/graph/before": triples(10)})
        store, path = kb.backend.store, tmp_path / f"store-{early}"
        first = {GRAPH: triples(25_000)}
        rest = {"http://example.org/graph/before": triples(5, "y"), f"{GRAPH}/2": triples(3, "z")}
        if early:
            loading = bulk_write.begin(store, path, first)
            assert loading is not None and loading.graphs == [GRAPH]
            assert bulk_write.add(store, path, rest, after=loading)
        else:
            assert bulk_write.add(store, path, {**first, **rest})
        assert not bulk_write.journal_path(path).exists()
        dumps.append(kb.dump())
        kb.close()
    assert dumps[0] == dumps[1]


def test_graphs_loaded_early_and_aborted_leave_the_store_as_before(tmp_path: Path) -> None:
    path = tmp_path / "store"
    kb = KnowledgeBase(path)
    kb.replace_graphs({"http://example.org/graph/before": triples(10)})
    before = kb.dump()
    assert bulk_write.begin(kb.backend.store, path, {"http://example.org/graph/before": triples(5, "y")}) is None
    loading = bulk_write.begin(kb.backend.store, path, {GRAPH: triples(25_000)})
    assert loading is not None and bulk_write.journal_path(path).exists()
    loading.abort()
    assert kb.dump() == before
    assert not bulk_write.journal_path(path).exists()
    kb.close()


def test_when_the_rest_cannot_be_bulk_written_the_early_graphs_are_written_with_it_in_a_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write whose other part removes a triple: the early graphs are rolled back and the whole
    write made as one transaction, the same as without them."""
    kb = KnowledgeBase(tmp_path / "store")
    kb.unshared = True
    other = "http://example.org/graph/other"
    kb.replace_graphs({other: triples(10)})
    loading = kb.stage({GRAPH: triples(25_000), other: triples(3)})
    assert loading is not None and loading.graphs == [GRAPH]  # only the new graph
    updates: list[str] = []
    real = kb.backend.update
    monkeypatch.setattr(kb.backend, "update", lambda text: (updates.append(text), real(text))[1])
    kb.write({GRAPH: triples(25_000), other: triples(9)}, early=loading)
    assert any("INSERT DATA" in u for u in updates)  # the transaction
    assert kb.count(GRAPH) == 25_000 and kb.count(other) == 9
    assert not bulk_write.journal_path(tmp_path / "store").exists()
    kb.close()


def test_quads_added_early_to_a_graph_that_was_there_are_removed_again_on_abort(tmp_path: Path) -> None:
    path = tmp_path / "store"
    kb = KnowledgeBase(path)
    there = "http://example.org/graph/before"
    kb.replace_graphs({there: triples(10)})
    before = kb.dump()
    loading = bulk_write.begin(kb.backend.store, path, {GRAPH: triples(25_000)})
    assert loading is not None
    blank = ox.Triple(ox.BlankNode(), ox.NamedNode("http://example.org/p"), ox.Literal("b"))
    assert not loading.add({there: [blank]})  # a roll-back could not name it
    assert loading.add({there: triples(5_000, "y")})
    loading.wait()
    assert kb.count(there) == 5_010
    loading.abort()
    assert kb.dump() == before
    kb.close()


def test_only_a_store_nothing_else_reads_loads_a_write_early(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    assert not kb.unshared and kb.stage({GRAPH: triples(25_000)}) is None  # a server's readers would see it
    kb.unshared = True
    assert kb.stage({GRAPH: triples(10)}) is None  # small: one transaction
    loading = kb.stage({GRAPH: triples(25_000)})
    assert loading is not None
    loading.abort()
    kb.close()


EARLY_INTERRUPTED = INTERRUPTED.split("kb = KnowledgeBase")[0] + textwrap.dedent(
    """
    kb = KnowledgeBase(Path(sys.argv[1]))
    kb.unshared = True
    kb.backend.store = HalfLoaded(kb.backend.store)
    p = ox.NamedNode("http://example.org/p")
    new = [ox.Triple(ox.NamedNode(f"http://example.org/x/{i}"), p, ox.Literal(str(i))) for i in range(25_000)]
    loading = kb.stage({"http://example.org/graph/bulk": new})
    loading.wait()  # the loader said HALF and waits for the kill
    """
)


def test_a_write_killed_while_its_graphs_load_early_leaves_nothing_once_the_store_is_opened(tmp_path: Path) -> None:
    _killed_half_way(tmp_path, EARLY_INTERRUPTED)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority is Linux's")
def test_early_parts_load_at_a_lower_priority_than_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread loading a write's early parts (and the bulk loader's threads it starts) is
    lowered, so that the reasoning the write waits on keeps its core; the caller's is not."""
    seen: list[tuple[str, int]] = []
    real = bulk_write._load

    def load(*args: object) -> None:
        seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, 0)))
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk_write, "_load", load)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    path = tmp_path / "store"
    kb = KnowledgeBase(path)
    loading = bulk_write.begin(kb.backend.store, path, {GRAPH: triples(25_000)})
    assert loading is not None
    kb.write({GRAPH: triples(25_000), GRAPH + "/2": triples(25_000, "y")}, early=loading)
    assert seen == [("allianceld-bulk-write", min(19, mine + 10)), ("MainThread", mine)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine
    assert kb.count(GRAPH) == kb.count(GRAPH + "/2") == 25_000
    kb.close()
