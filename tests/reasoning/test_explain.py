"""Explanations of derived triples: the OWL axiom or rule, and the triples it rests on, down to
asserted data with the graph (and contribution) each comes from."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.rdf import formats
from allianceld.reasoning import explain
from allianceld.store import KnowledgeBase
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import load_shipped

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def triple(s: str, p: str, o: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o))


@pytest.fixture(scope="module")
def kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    return load_shipped(KnowledgeBase(), settings, write_policy)


def leaves(e: explain.Explanation) -> set[ox.Triple]:
    return {leaf.triple for leaf in e.asserted_leaves()}


def test_property_chain_rests_on_the_membership(kb: KnowledgeBase) -> None:
    e = explain.explain(kb, triple(ID + "state/usa", ORG + "memberOf", ID + "alliance/nato"))
    assert e.status == "inferred" and e.rule == "prp-spo2"
    assert e.axiom == "org:memberOf owl:propertyChainAxiom (org:hasMembership org:organization)"
    membership = ID + "membership/nato-usa"
    assert leaves(e) == {
        triple(membership, ORG + "member", ID + "state/usa"),
        triple(membership, ORG + "organization", ID + "alliance/nato"),
    }
    first = e.premises[0]
    assert first.rule == "prp-inv2" and first.axiom == "org:hasMembership owl:inverseOf org:member"
    source = next(iter(e.asserted_leaves())).sources[0]
    assert source == {"graph": "https://w3id.org/allianceld/graph/data/nato", "file": "nato.ttl"}


def test_inverse_property_goes_through_the_chain(kb: KnowledgeBase) -> None:
    e = explain.explain(kb, triple(ID + "alliance/nato", ORG + "hasMember", ID + "state/usa"))
    assert e.rule == "prp-inv2" and e.axiom == "org:hasMember owl:inverseOf org:memberOf"
    assert e.premises[0].triple == triple(ID + "state/usa", ORG + "memberOf", ID + "alliance/nato")
    assert e.premises[0].rule == "prp-spo2"


def test_defined_class_rests_on_treaty_and_defence_provision(kb: KnowledgeBase) -> None:
    e = explain.explain(kb, triple(ID + "alliance/nato", TYPE, ALD + "CollectiveDefenceAlliance"))
    assert e.status == "inferred" and e.rule == "cax-eqc2"
    assert "owl:equivalentClass" in (e.axiom or "") and "ald:DefenceProvision" in (e.axiom or "")
    found = leaves(e)
    assert triple(ID + "alliance/nato", ALD + "foundingTreaty", ID + "treaty/north-atlantic-treaty") in found
    provision_types = [t for t in found if t.predicate.value == TYPE and t.object.value == ALD + "DefenceProvision"]
    assert provision_types, found


def test_asserted_and_unknown_triples(kb: KnowledgeBase) -> None:
    asserted = triple(ID + "membership/nato-usa", ORG + "member", ID + "state/usa")
    e = explain.explain(kb, asserted)
    assert e.status == "asserted" and not e.premises
    assert explain.explain(kb, triple(ID + "state/usa", ORG + "memberOf", ID + "alliance/csto")).status == "unknown"


def test_a_contributed_triple_names_its_contribution(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    from allianceld.vocab import contribution_graph_iri, provenance_graph_iri

    graph = contribution_graph_iri("test-explain")
    data = formats.parse(
        f"<{ID}membership/test-explain> <{ORG}member> <{ID}state/jpn> ; <{ORG}organization> <{ID}alliance/quad> .",
        ox.RdfFormat.TURTLE,
        source="test",
    )
    record = provenance_graph_iri("test-explain")
    gate.commit(kb, write_policy, [gate.Source(graph, data, "test")], force=True, provenance={record: []})
    e = explain.explain(kb, triple(ID + "state/jpn", ORG + "memberOf", ID + "alliance/quad"))
    sources = [s for leaf in e.asserted_leaves() for s in leaf.sources]
    assert {"graph": graph, "contribution": "test-explain", "provenance": record} in sources


def test_each_domain_rule_explains_what_it_derived(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    """One derived (not also asserted) triple of every rule of ontology/rules/, about an alliance
    of Japan and South Korea written for the test where the shipped data gives none: the rule, and
    premises that end in asserted triples about the triple's subject."""
    duo = f"<{ID}alliance/test-duo>"
    turtle = f"""
    @prefix ald: <{ALD}> . @prefix org: <{ORG}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    {duo} a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date ; ald:dissolutionDate "2010-01-01"^^xsd:date .
    <{ID}membership/test-duo-jpn> org:member <{ID}state/jpn> ; org:organization {duo} ;
        ald:startDate "2000-01-01"^^xsd:date .
    <{ID}membership/test-duo-kor> org:member <{ID}state/kor> ; org:organization {duo} ;
        ald:startDate "2000-01-01"^^xsd:date .
    """
    data = formats.parse(turtle, ox.RdfFormat.TURTLE, source="test")
    gate.commit(kb, write_policy, [gate.Source("urn:test:duo", data, "test")], force=True)
    asserted = {t for g in kb.knowledge_graphs() for t in kb.triples(g)}
    assert len(write_policy.rules) == 5
    for rule in write_policy.rules:
        derived = sorted(
            (t for t in kb.triples(rule.graph) if t not in asserted), key=lambda t: (duo not in str(t), str(t))
        )
        assert derived, rule.name
        e = explain.explain(kb, derived[0], write_policy.rules)
        assert e.status == "derived" and e.rule == rule.iri, rule.name
        assert e.rule_label == rule.label and e.axiom == rule.comment
        found = leaves(e)
        assert found and all(leaf.status == "asserted" for leaf in e.asserted_leaves()), rule.name
        assert any(derived[0].subject in (t.subject, t.object) for t in found), (rule.name, found)
    gate.commit(kb, write_policy, [gate.Source("urn:test:duo", [], "test")], force=True)


def test_allies_rest_on_both_memberships_and_the_defence_provision(
    kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    e = explain.explain(kb, triple(ID + "state/jpn", ALD + "alliedWith", ID + "state/usa"), write_policy.rules)
    assert e.status == "derived" and e.rule and e.rule.endswith("#allied-states")
    found = leaves(e)
    members = {t.object.value for t in found if t.predicate.value == ORG + "member"}
    assert members == {ID + "state/jpn", ID + "state/usa"}
    assert any(t.object.value == ALD + "DefenceProvision" for t in found)
