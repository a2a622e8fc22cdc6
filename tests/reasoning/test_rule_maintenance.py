"""The domain rules' graphs are kept current by every write through the gate: recomputed for the
focus nodes a write affects, and equal to a full recomputation afterwards."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.reasoning import domain_rules
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import load_shipped

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"


@pytest.fixture(scope="module")
def kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    return load_shipped(KnowledgeBase(), settings, write_policy)


def rule_graphs(kb: KnowledgeBase, write_policy: WritePolicy) -> dict[str, set[ox.Triple]]:
    return {r.name: set(kb.triples(r.graph)) for r in write_policy.rules}


def recomputed(kb: KnowledgeBase, write_policy: WritePolicy) -> dict[str, set[ox.Triple]]:
    """The rule graphs of a full recomputation, run on a copy of the store."""
    copy = KnowledgeBase()
    copy.load_dataset(kb.dump())
    using = [*copy.knowledge_graphs(), INFERRED_GRAPH]
    ops = []
    for rule in write_policy.rules:
        ops.append(domain_rules.full_update(rule, using))
        using.append(rule.graph)
    copy.write({}, then=ops)
    return rule_graphs(copy, write_policy)


def test_every_rule_derives_something_from_the_shipped_data_but_dissolution(
    kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    counts = {name: len(ts) for name, ts in rule_graphs(kb, write_policy).items()}
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
    kb: KnowledgeBase, write_policy: WritePolicy, name: str
) -> None:
    graph = data_graph_iri(name)
    before = rule_graphs(kb, write_policy)
    content = kb.triples(graph)
    result = gate.commit(kb, write_policy, [gate.Source(graph, [], "test")], force=True)
    assert result.reasoning is not None and result.reasoning.reasoner == "incremental"
    removed = rule_graphs(kb, write_policy)
    assert removed != before
    assert removed == recomputed(kb, write_policy)
    gate.commit(kb, write_policy, [gate.Source(graph, content, "test")], force=True)
    assert rule_graphs(kb, write_policy) == before


def test_a_dissolution_date_is_followed_by_the_dissolved_rule(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    triple = ox.Triple(
        ox.NamedNode(ID + "alliance/quad"),
        ox.NamedNode(ALD + "dissolutionDate"),
        ox.Literal("2030-01-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
    )
    gate.commit(kb, write_policy, [gate.Source("urn:test:dissolution", [triple], "test")], force=True)
    dissolved = ox.Triple(
        triple.subject,
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode(ALD + "DissolvedAlliance"),
    )
    graphs = rule_graphs(kb, write_policy)
    assert graphs["dissolved-alliance"] == {dissolved}
    assert graphs == recomputed(kb, write_policy)
    gate.commit(kb, write_policy, [gate.Source("urn:test:dissolution", [], "test")], force=True)
    assert rule_graphs(kb, write_policy)["dissolved-alliance"] == set()


def test_random_membership_changes_keep_the_rules_equal_to_a_full_recomputation(
    settings: Settings, write_policy: WritePolicy
) -> None:
    """Memberships removed, shortened to a day and restored at random, in several graphs at once:
    after each write, the rule graphs (allied-states recomputed by (state, state) pairs, the
    others by focus node) equal a full recomputation."""
    import random

    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    member, start, end = (
        ox.NamedNode(u) for u in ("http://www.w3.org/ns/org#member", ALD + "startDate", ALD + "endDate")
    )
    graphs = [data_graph_iri(n) for n in ("nato", "csto", "gcc", "quad", "us-japan", "admm-plus")]
    original = {g: kb.triples(g) for g in graphs}
    rng = random.Random(11)
    for _ in range(4):
        sources = []
        for graph in rng.sample(graphs, 2):
            triples = original[graph]
            memberships = sorted({t.subject for t in triples if t.predicate == member}, key=str)
            assert len(memberships) >= 2, graph
            gone = set(rng.sample(memberships, max(1, len(memberships) // 5)))
            short = set(rng.sample(memberships, max(1, len(memberships) // 5))) - gone
            starts = {t.subject: t.object for t in triples if t.predicate == start}
            new = [t for t in triples if t.subject not in gone and not (t.subject in short and t.predicate == end)]
            new += [ox.Triple(m, end, starts[m]) for m in short if m in starts]
            sources.append(gate.Source(graph, new, "test"))
        gate.commit(kb, write_policy, sources, force=True)
        assert rule_graphs(kb, write_policy) == recomputed(kb, write_policy)
    gate.commit(kb, write_policy, [gate.Source(g, ts, "test") for g, ts in original.items()], force=True)
    assert rule_graphs(kb, write_policy) == recomputed(kb, write_policy)


def test_a_write_touching_many_subjects_recomputes_the_rules_in_full(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``FOCUSED_RULE_LIMIT`` changed subjects a rule is recomputed in full (focused updates
    listing thousands of subjects cost more than the whole rule), with the same result."""
    from allianceld.reasoning import materialise

    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    graph = data_graph_iri("nato")
    content = kb.triples(graph)
    full = []
    real = domain_rules.full_query
    monkeypatch.setattr(domain_rules, "full_query", lambda rule: full.append(rule.name) or real(rule))
    gate.commit(kb, write_policy, [gate.Source(graph, [], "test")], force=True)
    assert "allied-states" not in full  # a few dozen memberships: focused
    assert rule_graphs(kb, write_policy) == recomputed(kb, write_policy)
    full.clear()
    monkeypatch.setattr(materialise, "FOCUSED_RULE_LIMIT", 3)
    gate.commit(kb, write_policy, [gate.Source(graph, content, "test")], force=True)
    assert "allied-states" in full
    assert rule_graphs(kb, write_policy) == recomputed(kb, write_policy)


def test_a_suspension_keeps_the_focused_rules_equal_to_a_full_recomputation(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """China joins the CSTO in 2015 (a test), while Uzbekistan is suspended: allied with Russia, not with
    Uzbekistan; the suspension lifted, allied with both. Each write's focused recomputation
    (on the triples reachable from its focus nodes) equals a full recomputation."""
    from allianceld.reasoning import domain_rule_scope

    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    focused: list[str] = []
    real = domain_rule_scope.focused_update
    monkeypatch.setattr(
        domain_rule_scope,
        "focused_update",
        lambda overlay, rule, *a: focused.append(rule.name) or real(overlay, rule, *a),
    )
    graph = data_graph_iri("csto")
    content = kb.triples(graph)
    chn, uzb, rus = (ox.NamedNode(ID + "state/" + c) for c in ("chn", "uzb", "rus"))
    joined = ox.NamedNode(ID + "membership/csto-chn-test")
    org, date = "http://www.w3.org/ns/org#", ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    china = [
        ox.Triple(joined, ox.NamedNode(org + "member"), chn),
        ox.Triple(joined, ox.NamedNode(org + "organization"), ox.NamedNode(ID + "alliance/csto")),
        ox.Triple(joined, ox.NamedNode(org + "role"), ox.NamedNode(ALD + "Member")),
        ox.Triple(joined, ox.NamedNode(ALD + "startDate"), ox.Literal("2015-01-01", datatype=date)),
    ]
    allied = ox.NamedNode(ALD + "alliedWith")
    gate.commit(kb, write_policy, [gate.Source(graph, [*content, *china], "test")], force=True)
    derived = rule_graphs(kb, write_policy)
    assert "allied-states" in focused and derived == recomputed(kb, write_policy)
    assert ox.Triple(chn, allied, rus) in derived["allied-states"]
    assert ox.Triple(chn, allied, uzb) not in derived["allied-states"]

    suspended = ox.NamedNode(ID + "membership/csto-uzb-suspended")
    role = ox.NamedNode(org + "role")
    lifted = [
        ox.Triple(t.subject, role, ox.NamedNode(ALD + "Member")) if (t.subject, t.predicate) == (suspended, role) else t
        for t in [*content, *china]
    ]
    focused.clear()
    gate.commit(kb, write_policy, [gate.Source(graph, lifted, "test")], force=True)
    derived = rule_graphs(kb, write_policy)
    assert "allied-states" in focused and derived == recomputed(kb, write_policy)
    assert {ox.Triple(chn, allied, uzb), ox.Triple(uzb, allied, chn)} <= derived["allied-states"]


def test_rules_recomputed_in_memory_join_a_blank_node_across_the_written_graphs(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A membership that is a blank node, its member in one written graph and its start date in
    another: the rules recomputed on the in-memory copy see one membership (its label kept in
    both), so Japan is allied with NATO's members, Iceland among them."""
    from allianceld.reasoning import materialise

    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    monkeypatch.setattr(materialise, "FOCUSED_RULE_LIMIT", 0)  # every rule recomputed in memory
    org, membership = "http://www.w3.org/ns/org#", ox.BlankNode("shared-membership")
    date = ox.Literal("2001-01-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    who = [
        ox.Triple(membership, ox.NamedNode(org + "member"), ox.NamedNode(ID + "state/jpn")),
        ox.Triple(membership, ox.NamedNode(org + "organization"), ox.NamedNode(ID + "alliance/nato")),
    ]
    when = [ox.Triple(membership, ox.NamedNode(ALD + "startDate"), date)]
    sources = [
        gate.Source(data_graph_iri("who"), who, "test"),
        gate.Source(data_graph_iri("when"), when, "test"),
    ]
    gate.commit(kb, write_policy, sources, force=True)
    allied = {
        t.object.value for t in rule_graphs(kb, write_policy)["allied-states"] if t.subject.value == ID + "state/jpn"
    }
    assert ID + "state/isl" in allied  # through NATO alone
