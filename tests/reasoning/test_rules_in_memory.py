"""The domain rules recomputed in full on an in-memory copy of only the triples their patterns
can match (materialise._in_memory with _rules_read) derive what they derive over every triple."""

from __future__ import annotations

import sys

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.reasoning import materialise
from allianceld.reasoning.domain_rules import DomainRule
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, data_graph_iri
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT, load_shipped

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

ALD = "https://w3id.org/allianceld/ontology#"
SYN = "https://w3id.org/allianceld/id/state/syn-"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module")
def kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    return load_shipped(KnowledgeBase(), settings, write_policy)


def in_memory(kb: KnowledgeBase, write_policy: WritePolicy, written: dict[str, list[ox.Triple]]) -> dict:
    knowledge = [*kb.knowledge_graphs(), *(g for g in written if g not in kb.knowledge_graphs())]
    inferred = list(kb.triples(INFERRED_GRAPH))
    graphs = materialise._in_memory(kb, write_policy.rules, knowledge, written, None, inferred)
    return {graph: set(triples) for graph, triples in graphs.items()}


# a defence alliance whose end dates and suspension decide who is allied: a with d, b with d
DATES = """
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix st: <https://w3id.org/allianceld/id/state/> .
@prefix al: <https://w3id.org/allianceld/id/alliance/> .
@prefix tr: <https://w3id.org/allianceld/id/treaty/> .
@prefix pr: <https://w3id.org/allianceld/id/provision/> .
al:syn-dates a ald:Alliance ; ald:foundingTreaty tr:syn-dates .
tr:syn-dates ald:hasProvision pr:syn-dates .
pr:syn-dates a ald:DefenceProvision .
st:syn-a a ald:State . st:syn-b a ald:State . st:syn-c a ald:State . st:syn-d a ald:State .
[] org:organization al:syn-dates ; org:member st:syn-a ;
   ald:startDate "2000-01-01"^^xsd:date ; ald:endDate "2001-01-01"^^xsd:date .
[] org:organization al:syn-dates ; org:member st:syn-b ; ald:startDate "2005-01-01"^^xsd:date .
[] org:organization al:syn-dates ; org:member st:syn-c ; ald:startDate "2000-01-01"^^xsd:date ;
   org:role ald:Suspended .
[] org:organization al:syn-dates ; org:member st:syn-d ; ald:startDate "2000-01-01"^^xsd:date .
"""


@pytest.mark.parametrize("generated", [0, 20_000])
def test_the_rules_derive_the_same_from_the_triples_they_read_as_from_every_triple(
    kb: KnowledgeBase, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch, generated: int
) -> None:
    """On the shipped data, alone and with generated data written, every rule's graph is the same
    when only the triples its patterns can match are copied as when every triple is."""
    written = {data_graph_iri("dates"): [q.triple for q in ox.parse(DATES, format=ox.RdfFormat.TURTLE)]}
    if generated:
        written[data_graph_iri("generated")] = generate(generated, seed=5)
    assert materialise._rules_read(write_policy.rules) is not None  # the copy is narrowed
    narrowed = in_memory(kb, write_policy, written)
    monkeypatch.setattr(materialise, "_rules_read", lambda rules: None)
    everything = in_memory(kb, write_policy, written)
    assert narrowed == everything
    allied = {(t.subject.value, t.object.value) for t in everything[write_policy.rules[-1].graph]}
    assert {(s, o) for s, o in allied if s.startswith(SYN)} == {(SYN + x, SYN + y) for x, y in ("ad", "da", "bd", "db")}
    assert len(everything[write_policy.rules[-1].graph]) > (1000 if generated else 100)


def rule(where: str) -> DomainRule:
    construct = f"PREFIX ald: <{ALD}>\nCONSTRUCT {{ $this ald:p ?x }}\nWHERE {{ {where} }}"
    return DomainRule(
        iri="r", name="r", label="", comment="", focus_class=ALD + "Focus", construct=construct,
        template="", where="", premises="", affected_by="", order=0, graph="g",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("where", "predicates", "classes"),
    [
        ("$this ald:a ?x . ?x a ald:C", {ALD + "a"}, {ALD + "Focus", ALD + "C"}),
        ("$this (ald:a|^ald:b)/ald:c/a ald:C . OPTIONAL { ?x ald:d* ?y }", {ALD + f for f in "abcd"}, {ALD + "Focus", ALD + "C"}),  # noqa: E501
        ("$this ald:a ?x FILTER NOT EXISTS { ?x ald:b ald:C }", {ALD + "a", ALD + "b"}, {ALD + "Focus"}),
        ("{ SELECT $this (COUNT(?y) AS ?x) WHERE { $this ald:a ?y } GROUP BY $this }", {ALD + "a"}, {ALD + "Focus"}),
        ("$this a ?x", set(), None),
        ("$this a/ald:a ?x", {ALD + "a"}, None),
        ("$this ald:a/a ?x", {ALD + "a"}, None),
        ("$this ^a ald:C", set(), None),
        ("$this a* ald:C", set(), None),
        ("$this ald:a/(a|ald:b) ald:C", {ALD + "a", ALD + "b"}, None),
        ("$this ald:a/^a ald:C", {ALD + "a"}, None),
    ],
)  # fmt: skip
def test_what_a_rule_reads(where: str, predicates: set[str], classes: set[str] | None) -> None:
    read = materialise._rule_reads(rule(where))
    assert read is not None
    assert (set(read.predicates), None if read.classes is None else set(read.classes)) == (predicates, classes)


@pytest.mark.parametrize("where", ["$this ?p ?x", "$this !ald:a ?x", "$this ald:a/!(ald:b|ald:c) ?x"])
def test_a_rule_that_can_read_any_predicate_reads_every_triple(where: str) -> None:
    assert materialise._rule_reads(rule(where)) is None
    assert materialise._rules_read([rule("$this ald:a ?x"), rule(where)]) is None


def test_the_triples_kept_are_those_of_the_predicates_and_classes_read() -> None:
    def triple(p: str, o: str) -> ox.Triple:
        return ox.Triple(ox.NamedNode(ALD + "s"), ox.NamedNode(p), ox.NamedNode(o))

    triples = [
        triple(ALD + "a", ALD + "o"),
        triple(ALD + "b", ALD + "o"),
        triple(TYPE, ALD + "C"),
        triple(TYPE, ALD + "D"),
    ]
    read = materialise._Read(frozenset({ALD + "a"}), frozenset({ALD + "C"}))
    assert read.kept(triples) == [triples[0], triples[2]]
    assert materialise._Read(frozenset({ALD + "a"}), None).kept(triples) == [triples[0], *triples[2:]]
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(ALD + "g")) for t in triples)
    constructed = set(store.query(read.construct([ALD + "g"])))
    assert constructed == {triples[0], triples[2]}
