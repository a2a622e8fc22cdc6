"""The KnowledgeBase: named graphs, atomic writes, union queries, persistence on disk."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.errors import QuerySyntaxError, RdfSyntaxError, ValidationFailed
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase, backends
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, data_graph_iri
from allianceld.write import gate
from conftest import TEST_DATA

T = b'<http://example.org/a> <http://example.org/p> "1" .\n<http://example.org/a> <http://example.org/q> "2" .\n'


def _triples(data: bytes = T) -> list[ox.Triple]:
    return formats.parse(data, ox.RdfFormat.N_TRIPLES, source="test")


def test_replace_graphs_writes_each_graph_and_replaces_old_content(kb: KnowledgeBase) -> None:
    kb.replace_graphs({"http://g/1": _triples(), "http://g/2": _triples()[:1]})
    assert kb.count("http://g/1") == 2 and kb.count("http://g/2") == 1
    kb.replace_graphs({"http://g/1": _triples()[:1]})
    assert kb.count("http://g/1") == 1
    assert kb.graphs() == ["http://g/1", "http://g/2"]


def test_a_failing_write_changes_nothing(kb: KnowledgeBase) -> None:
    kb.replace_graphs({"http://g/1": _triples()})
    before = kb.dump()
    bad = ox.Triple(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("x"))
    with pytest.raises(Exception):  # noqa: B017 - any failure inside the transaction
        kb.replace_graphs({"http://g/1": [], "http://g/3": [bad, "not a triple"]})  # type: ignore[list-item]
    assert kb.dump() == before


def test_queries_see_the_union_and_inference_false_hides_the_inferred_graph(kb: KnowledgeBase) -> None:
    kb.replace_graphs({"http://g/1": _triples()[:1], INFERRED_GRAPH: _triples()[1:]})
    assert bool(kb.query('ASK { ?s ?p "2" }'))
    assert not bool(kb.query('ASK { ?s ?p "2" }', inference=False))
    assert bool(kb.query('ASK { ?s ?p "1" }', inference=False))


def test_substitutions_bind_values_without_pasting_text(kb: KnowledgeBase) -> None:
    kb.replace_graphs({"http://g/1": _triples()})
    rows = kb.select(
        "SELECT ?o ?s WHERE { ?s <http://example.org/p> ?o }", substitutions={"s": ox.NamedNode("http://example.org/a")}
    )
    assert rows == [{"o": "1", "s": "http://example.org/a"}]


def test_query_syntax_error_is_reported(kb: KnowledgeBase) -> None:
    with pytest.raises(QuerySyntaxError, match="SPARQL syntax error"):
        kb.query("SELECT WHERE")


def test_store_on_disk_persists_across_reopen(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    kb.replace_graphs({"http://g/1": _triples()})
    kb.close()
    again = KnowledgeBase(tmp_path / "store")
    assert again.count("http://g/1") == 2
    again.close()


def test_shipped_data_loads_into_graphs_of_their_own(shared_kb: KnowledgeBase, settings) -> None:
    graphs = shared_kb.graphs()
    assert ONTOLOGY_GRAPH in graphs and INFERRED_GRAPH in graphs
    for f in settings.data_files():
        assert data_graph_iri(f.stem) in graphs
        assert shared_kb.count(data_graph_iri(f.stem)) > 0


def test_gate_refuses_invalid_data_and_writes_nothing(loaded_kb: KnowledgeBase, write_policy) -> None:
    before = loaded_kb.dump()
    bad = gate.read_file(TEST_DATA / "invalid" / "membership-start-before-founding.ttl")
    with pytest.raises(ValidationFailed) as err:
        gate.commit(loaded_kb, write_policy, [bad])
    assert err.value.status == 422
    assert loaded_kb.dump() == before


def test_gate_commits_valid_data_with_inferences(loaded_kb: KnowledgeBase, write_policy) -> None:
    valid = sorted((TEST_DATA / "valid").glob("*.ttl"))
    result = gate.commit(loaded_kb, write_policy, [gate.read_file(f) for f in valid])
    assert result.report.accepted
    assert result.reasoning is not None and result.reasoning.inferred > 0
    for f in valid:
        assert loaded_kb.count(data_graph_iri(f.stem)) > 0


def test_parse_error_names_source_line_and_column() -> None:
    with pytest.raises(RdfSyntaxError) as err:
        formats.parse(b"@prefix a: <http://x/> .\na:b a:c a:d ;;\n ] .", ox.RdfFormat.TURTLE, source="bad.ttl")
    assert err.value.details["line"] == 3
    assert err.value.message.startswith("bad.ttl:3:")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "data.docx"
    f.write_text("x")
    with pytest.raises(RdfSyntaxError, match="unknown RDF file extension"):
        formats.parse_file(f)


@pytest.mark.parametrize("fmt", [ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG])
def test_export_round_trips_every_graph(kb: KnowledgeBase, fmt: ox.RdfFormat) -> None:
    kb.replace_graphs({"http://g/1": _triples(), "http://g/2": _triples()[:1]})
    copy = KnowledgeBase()
    assert copy.load_dataset(kb.dump(fmt), fmt) == ["http://g/1", "http://g/2"]
    assert copy.dump() == kb.dump()


def test_the_write_gate_and_queries_work_on_both_backends(kb: KnowledgeBase, settings, write_policy) -> None:
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    query = (Path(__file__).resolve().parents[2] / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()
    result = kb.query(query)
    assert len(list(result)) == 16
    assert bool(kb.query("ASK { ?s <http://www.w3.org/ns/org#memberOf> ?o }"))  # inferred graph written
    before = kb.dump()
    with pytest.raises(ValidationFailed):
        gate.commit(kb, write_policy, [gate.read_file(TEST_DATA / "invalid" / "membership-start-before-founding.ttl")])
    assert kb.dump() == before


def test_the_graph_list_follows_a_write_without_listing_the_store_again(tmp_path, monkeypatch) -> None:
    """After a write through KnowledgeBase.write, the graphs it names are looked up one by one
    (listing every graph scans RocksDB: 0.45-0.6 s at 2M triples); an operation that may name a
    graph otherwise (a variable, ALL) makes the next call list them all again. Either way the
    list is the store's."""
    from allianceld.store.backends import EmbeddedBackend
    from allianceld.vocab import rule_graph_iri

    kb = KnowledgeBase(tmp_path / "store")
    backend = kb.backend
    assert isinstance(backend, EmbeddedBackend)
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    t = ox.Triple(s, p, ox.Literal("o"))
    kb.write({"urn:g:a": [t], "urn:g:b": [t]})
    assert kb.graphs() == ["urn:g:a", "urn:g:b"]
    listings = []
    real = backend.named_graphs
    monkeypatch.setattr(backend, "named_graphs", lambda: listings.append(1) or real())
    rule = rule_graph_iri("example")
    steps = [
        ({"urn:g:a": []}, {}, [], False),  # a graph dropped
        ({}, {"urn:g:c": [t]}, [], False),  # one added by INSERT DATA
        ({}, {}, [f"CREATE SILENT GRAPH <{rule}>"], False),  # an empty rule graph: not listed
        ({}, {}, [f"INSERT DATA {{ GRAPH <{rule}> {{ {t} }} }}"], False),  # now it is
        ({}, {}, [f"DELETE DATA {{ GRAPH <{rule}> {{ {t} }} }}"], False),  # empty again
        (
            {},
            {},
            [
                "INSERT { GRAPH ?g { ?s ?p ?o } } "
                "WHERE { GRAPH ?x { ?s ?p ?o } BIND (IRI(CONCAT(STR(?x), '-copy')) AS ?g) }"
            ],
            True,
        ),
        ({}, {}, ["DROP SILENT ALL"], True),
    ]
    for replace, add, then, rescan in steps:
        listings.clear()
        kb.write(replace, add=add, then=then)
        assert kb.graphs() == sorted(real()), then
        assert bool(listings) == rescan, then


def test_a_stored_graph_is_replaced_by_its_difference_without_a_drop(tmp_path: Path) -> None:
    """Replacing a stored graph deletes and inserts only what changes, and drops no graph (a DROP
    made the rest of pyoxigraph's update twice as slow); a graph replaced by nothing is gone."""
    kb = KnowledgeBase(tmp_path / "store")
    updates: list[str | None] = []
    kb.add_write_listener(lambda version, update: updates.append(update))
    a, b = _triples()
    kb.replace_graphs({"http://g/1": [a, b]})
    kb.replace_graphs({"http://g/1": [a], "http://g/2": [b]})
    assert "DROP" not in (updates[-1] or "")
    assert str(a) not in (updates[-1] or "")  # kept, not written again
    assert kb.triples("http://g/1") == [a] and kb.triples("http://g/2") == [b]
    written = len(updates)
    kb.replace_graphs({"http://g/1": [a]})
    assert len(updates) == written  # nothing changes: no update at all
    kb.replace_graphs({"http://g/1": []})
    assert kb.graphs() == ["http://g/2"]
    kb.close()


def test_a_graph_with_blank_nodes_is_replaced_whole(tmp_path: Path) -> None:
    """INSERT DATA gives blank nodes new identities: a graph whose old or new content has one is
    written whole, so the kept and the added triples of a blank node stay about one node."""
    kb = KnowledgeBase(tmp_path / "store")
    kb.replace_graphs({"http://g/1": _triples(b'_:x <http://example.org/p> "1" .\n')})
    (old,) = kb.triples("http://g/1")
    extra = ox.Triple(old.subject, ox.NamedNode("http://example.org/q"), ox.Literal("2"))
    kb.replace_graphs({"http://g/1": [old, extra]})
    subjects = {t.subject for t in kb.triples("http://g/1")}
    assert len(subjects) == 1 and len(kb.triples("http://g/1")) == 2
    kb.close()


@pytest.mark.parametrize("scan", [0, 1, 64])
@pytest.mark.parametrize("incoming", [True, False])
def test_a_limited_match_per_predicate_finds_each_predicate_of_a_hub(
    kb: KnowledgeBase, incoming: bool, scan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``match`` with a limit per predicate reads a node's quads once when it has few (up to
    ``scan`` of them); a hub with more than that still has each predicate's quads found, up to the
    limit, in the graphs asked for only, as when each predicate is looked up alone."""
    monkeypatch.setattr(backends, "_SCAN", scan)
    hub, quiet = ox.NamedNode("http://example.org/hub"), ox.NamedNode("http://example.org/quiet")
    a, b, c, d = (ox.NamedNode(f"http://example.org/{x}") for x in "abcd")

    def t(node: ox.NamedNode, p: ox.NamedNode, i: int) -> ox.Triple:
        other = ox.NamedNode(f"http://example.org/other/{p.value[-1]}{i}")
        return ox.Triple(other, p, node) if incoming else ox.Triple(node, p, other)

    kb.write(
        {
            "http://g/kept": [
                *(t(hub, a, i) for i in range(1000)),
                *(t(hub, p, 0) for p in (b, d)),
                *(t(quiet, b, i) for i in range(2)),
            ],
            "http://g/other": [*(t(hub, c, i) for i in range(5)), t(quiet, c, 0)],
        }
    )
    for limit in (1, 2):
        found = kb.match([hub, quiet], [a, b, c, d], incoming=incoming, graphs=["http://g/kept"], limit=limit)
        assert len(found) == len(set(found))
        counts = {(q.object if incoming else q.subject, q.predicate): 0 for q in found}
        for q in found:
            counts[q.object if incoming else q.subject, q.predicate] += 1
        assert counts == {(hub, a): limit, (hub, b): 1, (hub, d): 1, (quiet, b): limit}
        assert {q.graph_name.value for q in found} == {"http://g/kept"}
