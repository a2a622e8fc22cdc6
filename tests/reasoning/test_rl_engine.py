"""Incremental OWL 2 RL: after every write the inferred graph equals a full recomputation by
``reasonable``, whether triples are added, removed or moved between graphs."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import materialise, rl_engine
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate

ALD = "https://w3id.org/allianceld/ontology#"
ID = "https://w3id.org/allianceld/id/"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def full_inferred(kb: KnowledgeBase) -> set[ox.Triple]:
    """What a full recomputation with ``reasonable`` gives for the store as it is."""
    inferred, name = materialise.inferred_graph(kb.rdflib_graph(kb.knowledge_graphs()))
    assert name == "reasonable"
    return set(formats.from_rdflib(inferred))


def write(kb: KnowledgeBase, graphs: dict[str, list[ox.Triple]]) -> rl_engine.InferenceChange:
    change = materialise.maintain(kb, graphs)
    kb.write(graphs, remove={INFERRED_GRAPH: change.removed}, add={INFERRED_GRAPH: change.added})
    return change


def test_removing_and_restoring_each_shipped_graph_matches_a_full_recomputation(loaded_kb: KnowledgeBase) -> None:
    original = set(loaded_kb.triples(INFERRED_GRAPH))
    assert len(original) > 400
    for graph in loaded_kb.data_graphs():
        content = loaded_kb.triples(graph)
        change = write(loaded_kb, {graph: []})
        assert set(loaded_kb.triples(INFERRED_GRAPH)) == full_inferred(loaded_kb), graph
        if graph.endswith(("/nato", "/states")):
            assert change.removed, graph
        write(loaded_kb, {graph: content})
        assert set(loaded_kb.triples(INFERRED_GRAPH)) == original, graph


def test_random_writes_on_generated_data_match_a_full_recomputation(settings: Settings) -> None:
    """Random halves of generated records are moved out of and back into their graphs, and some
    triples are asserted that were inferred before (they must leave the inferred graph)."""
    kb = KnowledgeBase()
    data = generate(3000, seed=3)
    rng = random.Random(7)
    graphs: dict[str, list[ox.Triple]] = {"urn:g:a": data[: len(data) // 2], "urn:g:b": data[len(data) // 2 :]}
    kb.replace_graphs({ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file), **graphs})
    kb.replace_graphs({INFERRED_GRAPH: list(full_inferred(kb))})
    for step in range(6):
        name = rng.choice(sorted(graphs))
        current = graphs[name]
        if step % 3 == 2:  # assert some inferred triples
            extra = rng.sample(sorted(kb.triples(INFERRED_GRAPH), key=str), 20)
            new = current + extra
        else:
            new = [t for t in current if rng.random() < 0.6]
            dropped = [t for t in current if t not in set(new)]
            other = "urn:g:b" if name == "urn:g:a" else "urn:g:a"
            graphs[other] = graphs[other] + dropped[: len(dropped) // 3]
            write(kb, {other: graphs[other]})
        graphs[name] = new
        change = write(kb, {name: new})
        assert set(kb.triples(INFERRED_GRAPH)) == full_inferred(kb), f"step {step}"
        assert change.added or change.removed


def test_a_contribution_is_reasoned_over_incrementally(loaded_kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    turtle = f"""
    @prefix ald: <{ALD}> . @prefix org: <http://www.w3.org/ns/org#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    @prefix prov: <http://www.w3.org/ns/prov#> .
    <{ID}membership/nato-test> a org:Membership ; org:member <{ID}state/jpn> ;
        org:organization <{ID}alliance/nato> ; org:role ald:Member ;
        ald:startDate "2030-01-01"^^xsd:date ; prov:wasDerivedFrom <{ID}source/nato-members> .
    """
    triples = formats.parse(turtle, ox.RdfFormat.TURTLE, source="test")
    result = gate.commit(loaded_kb, write_policy, [gate.Source("urn:test:g", triples, "test")], force=True)
    assert result.reasoning is not None and result.reasoning.reasoner == "incremental"
    member_of = ox.Triple(
        ox.NamedNode(ID + "state/jpn"),
        ox.NamedNode("http://www.w3.org/ns/org#memberOf"),
        ox.NamedNode(ID + "alliance/nato"),
    )
    assert member_of in set(loaded_kb.triples(INFERRED_GRAPH))
    assert set(loaded_kb.triples(INFERRED_GRAPH)) == full_inferred(loaded_kb)


def test_a_state_typed_as_an_alliance_is_a_clash_naming_the_axiom(loaded_kb: KnowledgeBase) -> None:
    usa = ox.NamedNode(ID + "state/usa")
    change = materialise.maintain(
        loaded_kb, {"urn:test:g": [ox.Triple(usa, TYPE, ox.NamedNode(ALD + "BilateralAlliance"))]}
    )
    assert change.clashes
    clash = change.clashes[0]
    assert clash.individual == usa
    assert "disjoint" in clash.axiom.lower() and "ald:State" in clash.axiom


def test_the_clashes_among_a_whole_closure_are_those_the_engine_finds_for_each_new_type(
    loaded_kb: KnowledgeBase,
) -> None:
    """clashes_among (a bulk write's check, on its whole closure) finds each (individual, pair of
    disjoint classes) that the engine's check of new type triples finds, and no other."""
    rules = materialise.ruleset(loaded_kb)
    assert len(rules.disjoint) >= 3
    typed = [
        ox.Triple(ox.NamedNode(f"{ID}x/{i}"), TYPE, cls)
        for i, d in enumerate(rules.disjoint)
        for cls in (d.first, d.second)  # each individual in one pair of disjoint classes
    ]
    typed += [ox.Triple(ox.NamedNode(ID + "x/0"), TYPE, d.second) for d in rules.disjoint]  # more pairs for one
    typed += [ox.Triple(ox.NamedNode(ID + "x/ok"), TYPE, rules.disjoint[0].first)]
    closure = set(typed) | set(loaded_kb.triples(INFERRED_GRAPH))
    index = rl_engine.TripleIndex(closure)
    expected = rl_engine._clashes(rules, typed, index.match)
    found = rl_engine.clashes_among(rules, closure)
    assert found and {(c.individual, frozenset((c.first, c.second))) for c in found} == {
        (c.individual, frozenset((c.first, c.second))) for c in expected
    }
    assert all(
        c.axiom == next(d.axiom for d in rules.disjoint if {d.first, d.second} == {c.first, c.second}) for c in found
    )


@pytest.mark.parametrize(
    "triple, reason",
    [
        (
            ox.Triple(
                ox.NamedNode(ALD + "Club"),
                ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                ox.NamedNode(ALD + "Alliance"),
            ),
            "vocabulary",
        ),
        (ox.Triple(ox.BlankNode("b1"), TYPE, ox.NamedNode(ALD + "State")), "blank nodes"),
    ],
)
def test_writes_the_rules_cannot_follow_ask_for_a_full_recomputation(
    loaded_kb: KnowledgeBase, triple: ox.Triple, reason: str
) -> None:
    with pytest.raises(rl_engine.NeedsFullRecompute, match=reason):
        materialise.maintain(loaded_kb, {"urn:test:g": [triple]})


def test_a_write_large_for_the_store_is_reasoned_over_in_full(
    loaded_kb: KnowledgeBase, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``LARGE_WRITE_TRIPLES`` (and a tenth of the store) the closure is recomputed, which
    is faster for a bulk load than following every new triple; the result is the same."""
    small_graphs = [g for g in loaded_kb.data_graphs() if len(loaded_kb.triples(g)) < gate.LARGE_WRITE_TRIPLES]
    graph = max(small_graphs, key=lambda g: len(loaded_kb.triples(g)))  # the states
    content = loaded_kb.triples(graph)
    assert len(content) * 10 >= loaded_kb.count()
    small = gate.commit(loaded_kb, write_policy, [gate.Source(graph, content[:-1], "test")], force=True)
    assert small.reasoning is not None and small.reasoning.reasoner == "incremental"
    monkeypatch.setattr(gate, "LARGE_WRITE_TRIPLES", 10)
    assert gate.is_large_write(loaded_kb, len(content))
    with pytest.raises(rl_engine.NeedsFullRecompute, match="large write"):
        materialise.maintain(loaded_kb, {graph: content}, large=True)
    large = gate.commit(loaded_kb, write_policy, [gate.Source(graph, content, "test")], force=True)
    assert large.reasoning is not None and large.reasoning.reasoner != "incremental"
    assert set(loaded_kb.triples(INFERRED_GRAPH)) == full_inferred(loaded_kb)


def _kept_as_first_written(t: ox.Triple) -> bool:
    """worth_keeping as it was first written, branch by branch (the reference)."""
    schema = ("http://www.w3.org/2002/07/owl#", "http://www.w3.org/2000/01/rdf-schema#")
    schema += ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2001/XMLSchema#")
    same_as = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
    s, p, o = t.subject, t.predicate, t.object
    if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode):
        return False
    if s.value.startswith(schema) or s.value.startswith(ALD.removesuffix("#")):
        return False
    if p.value.startswith(schema) and p not in (TYPE, same_as):
        return False
    if p == same_as and s == o:
        return False
    uninformative = {schema[0] + "Thing", schema[1] + "Resource", schema[0] + "NamedIndividual"}
    return not (p == TYPE and isinstance(o, ox.NamedNode) and o.value in uninformative)


def test_worth_keeping_keeps_what_its_first_version_kept(loaded_kb: KnowledgeBase) -> None:
    owl, fra = "http://www.w3.org/2002/07/owl#", ox.NamedNode(ID + "state/fra")
    odd = [
        ox.Triple(fra, ox.NamedNode(owl + "sameAs"), fra),
        ox.Triple(fra, ox.NamedNode(owl + "sameAs"), ox.NamedNode(ID + "state/deu")),
        ox.Triple(fra, TYPE, ox.NamedNode(owl + "Thing")),
        ox.Triple(fra, TYPE, ox.NamedNode(owl + "NamedIndividual")),
        ox.Triple(fra, TYPE, ox.Literal("x")),
        ox.Triple(fra, ox.NamedNode(owl + "differentFrom"), ox.NamedNode(ID + "state/deu")),
        ox.Triple(fra, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("France")),
        ox.Triple(ox.BlankNode(), TYPE, ox.NamedNode(ALD + "State")),
        ox.Triple(fra, ox.NamedNode(ALD + "memberOf"), ox.BlankNode()),
        ox.Triple(ox.NamedNode(ALD + "State"), TYPE, ox.NamedNode(owl + "Class")),
        ox.Triple(ox.NamedNode(owl + "Thing"), TYPE, ox.NamedNode(owl + "Class")),
    ]
    triples = odd + [t for g in loaded_kb.graphs() for t in loaded_kb.triples(g)]
    assert [rl_engine.worth_keeping(t) for t in triples] == [_kept_as_first_written(t) for t in triples]
    assert any(map(rl_engine.worth_keeping, triples)) and not all(map(rl_engine.worth_keeping, triples))
