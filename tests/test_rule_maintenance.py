"""The domain rules' graphs are kept current by every write through the gate: recomputed for the
focus nodes a write affects, and equal to a full recomputation afterwards."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld import gate, rules
from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.validation import Validator
from allianceld.vocab import INFERRED_GRAPH, data_graph_iri
from conftest import load_shipped

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"


@pytest.fixture(scope="module")
def kb(settings: Settings, validator: Validator) -> KnowledgeBase:
    return load_shipped(KnowledgeBase(), settings, validator)


def rule_graphs(kb: KnowledgeBase, validator: Validator) -> dict[str, set[ox.Triple]]:
    return {r.name: set(kb.triples(r.graph)) for r in validator.rules}


def recomputed(kb: KnowledgeBase, validator: Validator) -> dict[str, set[ox.Triple]]:
    """The rule graphs of a full recomputation, run on a copy of the store."""
    copy = KnowledgeBase()
    copy.load_dataset(kb.dump())
    using = [*copy.knowledge_graphs(), INFERRED_GRAPH]
    ops = []
    for rule in validator.rules:
        ops.append(rules.full_update(rule, using))
        using.append(rule.graph)
    copy.write({}, then=ops)
    return rule_graphs(copy, validator)


def test_every_rule_derives_something_from_the_shipped_data_but_dissolution(
    kb: KnowledgeBase, validator: Validator
) -> None:
    counts = {name: len(ts) for name, ts in rule_graphs(kb, validator).items()}
    assert set(counts) == {
        "allied-states",
        "alliance-type-by-founding-members",
        "regional-partnership",
        "dissolved-alliance",
        "emerging-established-partnership",
    }
    assert all(n > 0 for name, n in counts.items() if name != "dissolved-alliance"), counts


@pytest.mark.parametrize("name", ["nato", "states", "gcc", "us-japan"])
def test_removing_and_restoring_a_graph_keeps_the_rules_current(
    kb: KnowledgeBase, validator: Validator, name: str
) -> None:
    graph = data_graph_iri(name)
    before = rule_graphs(kb, validator)
    content = kb.triples(graph)
    result = gate.commit(kb, validator, [gate.Source(graph, [], "test")], force=True)
    assert result.reasoning is not None and result.reasoning.reasoner == "incremental"
    removed = rule_graphs(kb, validator)
    assert removed != before
    assert removed == recomputed(kb, validator)
    gate.commit(kb, validator, [gate.Source(graph, content, "test")], force=True)
    assert rule_graphs(kb, validator) == before


def test_a_dissolution_date_is_followed_by_the_dissolved_rule(kb: KnowledgeBase, validator: Validator) -> None:
    triple = ox.Triple(
        ox.NamedNode(ID + "alliance/quad"),
        ox.NamedNode(ALD + "dissolutionDate"),
        ox.Literal("2030-01-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
    )
    gate.commit(kb, validator, [gate.Source("urn:test:dissolution", [triple], "test")], force=True)
    dissolved = ox.Triple(
        triple.subject,
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode(ALD + "DissolvedAlliance"),
    )
    graphs = rule_graphs(kb, validator)
    assert graphs["dissolved-alliance"] == {dissolved}
    assert graphs == recomputed(kb, validator)
    gate.commit(kb, validator, [gate.Source("urn:test:dissolution", [], "test")], force=True)
    assert rule_graphs(kb, validator)["dissolved-alliance"] == set()
