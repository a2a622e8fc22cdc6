"""Writes larger than one SPARQL DATA operation a store takes: Virtuoso refuses an ``INSERT DATA`` or
``DELETE DATA`` of more than about 4,990 triples ("SPARQL compiler: memory exhausted"), so allianceld
sends them there in parts (``Dialect.max_data_triples``), each a DATA operation of the same request;
other stores get one operation, as before. And each remote test starts with no write version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.errors import BadRequest, WriteConflict
from allianceld.store import KnowledgeBase, write_journal, write_version
from allianceld.store.backends import SparqlBackend
from allianceld.store.dialects import VIRTUOSO
from allianceld.store.knowledgebase import data_operation
from allianceld.vocab import data_graph_iri
from conftest import empty_remote
from store.recording import Recording

EX = "http://example.org/"
LARGE, RULE = EX + "large", EX + "rule"
N = 12_000  # above two of Virtuoso's parts, and well above what it takes in one operation
PAST = datetime(2000, 1, 1, tzinfo=UTC)
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _recording(request, engine: str) -> KnowledgeBase:
    """The session's ``engine`` emptied, over a backend that records what it sends."""
    backend = empty_remote(request, engine).backend
    assert isinstance(backend, SparqlBackend)
    return KnowledgeBase(backend=Recording(backend.query_url, backend.update_url))


def _triples(n: int, name: str = "s") -> list[ox.Triple]:
    p = ox.NamedNode(EX + "p")
    return [ox.Triple(ox.NamedNode(f"{EX}{name}{i}"), p, ox.Literal(f"value {i}", language="en")) for i in range(n)]


def _operations(kb: KnowledgeBase, keyword: str, graph: str) -> list[str]:
    """The ``keyword`` DATA operations on ``graph`` of the last request ``kb`` sent."""
    assert isinstance(kb.backend, Recording)
    start = f"{keyword} DATA {{ GRAPH <{graph}> {{"
    return [op for op in kb.backend.sent[-1].split(" ;\n") if op.startswith(start)]


def _own(request: str) -> list[str]:
    """The write's own operations in a journaled request: after the guard's, which stores the journal,
    and before the operation that removes it."""
    operations = request.split(" ;\n")
    journaled = [i for i, op in enumerate(operations) if write_journal.PART.value in op]
    assert len(journaled) == 2 and operations[journaled[1]].startswith("DELETE {")
    return operations[journaled[0] + 1 : journaled[1]]


def test_a_write_of_12000_triples_is_sent_to_virtuoso_in_parts_it_takes(request) -> None:
    """A graph written whole, a rule's change after it (a ``then`` operation) and the same triples
    removed: each in DATA operations of at most 4,000 triples, all in one request each time."""
    kb = _recording(request, "virtuoso")
    triples, derived = _triples(N), _triples(N, "derived")
    kb.write({LARGE: triples}, then=[data_operation("INSERT", RULE, derived)])
    assert kb.count(LARGE) == N and set(kb.triples(LARGE)) == set(triples)
    assert kb.count(RULE) == N and set(kb.triples(RULE)) == set(derived)
    for graph in (LARGE, RULE):
        parts = _operations(kb, "INSERT", graph)
        assert [op.count("\n") - 1 for op in parts] == [4_000, 4_000, 4_000]
    kb.write({}, remove={LARGE: triples[: N - 1]})
    assert kb.triples(LARGE) == [triples[-1]]
    assert [op.count("\n") - 1 for op in _operations(kb, "DELETE", LARGE)] == [4_000, 4_000, 3_999]


def test_allianceld_load_of_12000_triples_onto_virtuoso(request, virtuoso_server: str, tmp_path: Path) -> None:
    """`allianceld load` through the write gate (validated and reasoned over) onto Virtuoso: all of it stored."""
    kb = empty_remote(request, "virtuoso")
    concepts = [
        f'ex:thing-{i} a skos:Concept ; skos:prefLabel "Thing {i}"@en ; skos:notation "{i}" .' for i in range(N // 3)
    ]
    big = tmp_path / "big.ttl"
    prefixes = "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n@prefix ex: <http://example.org/load/> .\n"
    big.write_text(prefixes + "\n".join(concepts) + "\n")
    env = {"ALLIANCELD_SPARQL_QUERY_URL": virtuoso_server, "ALLIANCELD_SPARQL_UPDATE_URL": virtuoso_server}
    for args in (["init"], ["load", str(big)]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    assert f"loaded {N} triples" in result.output
    graph = data_graph_iri("big")
    assert kb.count(graph) == N and set(kb.triples(graph)) == {q.triple for q in ox.parse(path=str(big))}


def test_a_large_write_is_sent_as_before_to_other_stores(request) -> None:
    """`oxigraph serve` takes the whole write in one DATA operation, as before."""
    kb = _recording(request, "remote")
    triples = _triples(N)
    kb.write({LARGE: triples}, then=[data_operation("INSERT", RULE, _triples(N, "derived"))])
    assert kb.count(LARGE) == N and kb.count(RULE) == N
    assert [op.count("\n") - 1 for op in _operations(kb, "INSERT", LARGE)] == [N]
    assert [op.count("\n") - 1 for op in _operations(kb, "INSERT", RULE)] == [N]


def test_a_write_in_parts_cut_short_is_finished_whole_from_its_journal(request) -> None:
    """A write in parts is still one that can be finished by running it again: cut after its first
    part (as Virtuoso keeps a request whose client went away), the next service finishes it."""
    kb = _recording(request, "virtuoso")
    triples = _triples(N)
    kb.write({LARGE: triples})
    operations = _own(kb.backend.sent[-1])  # type: ignore[attr-defined]
    assert len(operations) == 4 and operations[0].startswith("DROP SILENT GRAPH")  # the graph, then 3 parts
    kb.write({LARGE: []})
    backend = kb.backend
    assert isinstance(backend, SparqlBackend)
    found = write_version.current(backend)
    journal = write_journal.Journal(" ;\n".join(operations), PAST - timedelta(seconds=90), PAST)
    backend.update(" ;\n".join([*write_version.guard(found, "cut", journal), *operations[:2]]))
    assert kb.count(LARGE) == VIRTUOSO.max_data_triples
    other = KnowledgeBase(backend=SparqlBackend(backend.query_url, backend.update_url))
    other.refresh()  # the journal's time has passed: its operations are sent again
    assert kb.count(LARGE) == N and set(kb.triples(LARGE)) == set(triples)
    finished = write_version.read(backend)
    assert finished is not None and finished.number == found.number + 2 and finished.until is None


@pytest.mark.parametrize("engine", ["virtuoso", "remote"])
def test_each_remote_test_starts_with_no_write_version(request, engine: str) -> None:
    """A journal left by a test (here: of a write that may still be running) is gone for the next,
    whose writes are then no conflict."""
    kb = empty_remote(request, engine)
    kb.write({LARGE: _triples(1)})
    backend = kb.backend
    assert isinstance(backend, SparqlBackend)
    running = write_journal.Journal("", datetime.now(UTC), datetime.now(UTC) + timedelta(days=1))
    backend.update(" ;\n".join(write_version.guard(write_version.current(backend), "left", running)))
    with pytest.raises(WriteConflict):
        kb.write({LARGE: _triples(2)})
    fresh = empty_remote(request, engine)
    assert isinstance(fresh.backend, SparqlBackend)
    assert write_version.read(fresh.backend) is None
    fresh.write({LARGE: _triples(2)})
    assert fresh.count(LARGE) == 2


def _linked(n: int) -> list[ox.Triple]:
    """``n`` things each with a blank node of its own, of two triples: 2 ``n`` triples with a blank node."""
    p, q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")
    nodes = [ox.BlankNode() for _ in range(n)]
    return [
        t
        for i, b in enumerate(nodes)
        for t in (ox.Triple(ox.NamedNode(f"{EX}t{i}"), p, b), ox.Triple(b, q, ox.Literal(i)))
    ]


def test_triples_with_blank_nodes_are_sent_to_virtuoso_in_parts_that_keep_each_node_whole(request) -> None:
    """Virtuoso takes at most 1,425 triples in one ``INSERT { … } WHERE {}``: 3,000 are sent in parts,
    and the triples that share a blank node go in the same part (each node is still one node)."""
    kb = _recording(request, "virtuoso")
    triples = _linked(1_500)
    kb.write({LARGE: [*triples, *_triples(10)]})
    assert isinstance(kb.backend, Recording)
    templates = [op for op in kb.backend.sent[-1].split(" ;\n") if op.startswith(f"INSERT {{ GRAPH <{LARGE}>")]
    assert [op.count("\n") - 1 for op in templates] == [1_400, 1_400, 200]
    assert kb.count(LARGE) == 3_010
    rows = kb.select(
        f"SELECT (COUNT(DISTINCT ?b) AS ?nodes) (COUNT(*) AS ?pairs) WHERE {{ GRAPH <{LARGE}> {{ "
        f"?t <{EX}p> ?b . ?b <{EX}q> ?i FILTER(isBlank(?b) && STR(?t) = CONCAT('{EX}t', STR(?i))) }} }}"
    )
    assert rows == [{"nodes": "1500", "pairs": "1500"}]


def test_more_triples_linked_by_blank_nodes_than_virtuoso_takes_are_refused_before_anything_is_sent(request) -> None:
    """An RDF list of 750 items (1,500 triples, all linked by their blank nodes) cannot be parted:
    400, and the store is left as it was (Virtuoso would have failed after the write's first operations)."""
    kb = _recording(request, "virtuoso")
    kb.write({LARGE: _triples(1)})
    version = write_version.read(kb.backend)  # type: ignore[arg-type]
    first, rest, nil = (ox.NamedNode(RDF + name) for name in ("first", "rest", "nil"))
    cells = [ox.BlankNode() for _ in range(750)]
    items = [ox.Triple(ox.NamedNode(EX + "list"), ox.NamedNode(EX + "items"), cells[0])]
    for i, cell in enumerate(cells):
        items += [ox.Triple(cell, first, ox.Literal(i)), ox.Triple(cell, rest, cells[i + 1] if i + 1 < 750 else nil)]
    with pytest.raises(BadRequest, match=f"1501 triples of <{LARGE}> are linked by blank nodes.*at most 1400"):
        kb.write({LARGE: items})
    assert write_version.read(kb.backend) == version  # type: ignore[arg-type]
    assert kb.triples(LARGE) == _triples(1)


ATOP = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"


@pytest.mark.skipif(
    not (ATOP / "atop" / "atop5_0a.csv").exists(), reason="the ATOP 5.0 files are not beside the project"
)
def test_the_atop_import_onto_virtuoso_is_stored_whole(request, virtuoso_server: str, tmp_path: Path) -> None:
    """The ATOP 5.0 import (28,151 triples with its inferences and rules: 7.8 MB of operations) fits
    Virtuoso's 10 MB request with its compressed journal, and is stored whole."""
    kb = empty_remote(request, "virtuoso")
    env = {
        "ALLIANCELD_SPARQL_QUERY_URL": virtuoso_server,
        "ALLIANCELD_SPARQL_UPDATE_URL": virtuoso_server,
        "ALLIANCELD_DL_CHECKS": "off",
    }
    files = [ATOP / "atop" / "atop5_0a.csv", ATOP / "atop" / "atop5_0m.csv"]
    files.append(ATOP / "cow-crosswalk" / "cow_iso_wikidata_geonames_crosswalk.csv")
    report = tmp_path / "report.csv"
    for args in (["init"], ["import", "atop", "--partial", "--report", str(report), *map(str, files)]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    assert "28151 triples" in result.output
    assert kb.count("https://w3id.org/allianceld/graph/import/atop-5.0") == 28151
