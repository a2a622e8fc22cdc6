"""Recomputing the domain rules on the triples reachable from their focus nodes (domain_rule_scope):
the gathered triples give every rule and every ald:affectedBy query the same answer as the whole
store, for random focus nodes; a query that cannot be followed is refused and the write falls
back to the SPARQL update; and a write's rule operations are then only data."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.reasoning import domain_rule_scope, domain_rules, materialise
from allianceld.reasoning.domain_rule_scope import Overlay, Unsupported, gather, shape_of
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH, data_graph_iri
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import load_shipped

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture(scope="module")
def kb(settings: Settings, write_policy: WritePolicy) -> KnowledgeBase:
    return load_shipped(KnowledgeBase(), settings, write_policy)


def graphs_read_by(kb: KnowledgeBase, write_policy: WritePolicy, rule: domain_rules.DomainRule) -> list[str]:
    """What ``rule`` reads: the asserted graphs, the OWL 2 RL graph and the rules before it."""
    before = [r.graph for r in write_policy.rules[: write_policy.rules.index(rule)]]
    return [*kb.knowledge_graphs(), INFERRED_GRAPH, *before]


def on_gathered(kb: KnowledgeBase, using: list[str], query: str, known: dict[str, set]) -> set:
    """``query``'s answer on the triples gathered from ``known`` (the store as it is)."""
    context = gather(Overlay(kb.backend.store, using, {}), shape_of(query), known)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in context)
    return answer(store.query(bound(query, known)))


def bound(query: str, known: dict[str, set]) -> str:
    for name, values in known.items():
        query = domain_rules._bind(query, name, sorted(values, key=str))
    return query


def answer(result) -> set:
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return {tuple(row[n] for n in names) for row in result}
    return set(result)


def instances(kb: KnowledgeBase, cls: str) -> list[ox.NamedNode]:
    return sorted(
        {q.subject for q in kb.backend.store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(cls), None)}, key=str
    )


def test_every_rule_gives_the_same_answer_on_the_gathered_triples(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    """For random focus nodes (and, for allied-states, random objects), each rule's CONSTRUCT gives
    the same triples on what is gathered from them as on the whole store."""
    rng = random.Random(5)
    for rule in write_policy.rules:
        using = graphs_read_by(kb, write_policy, rule)
        foci = instances(kb, rule.focus_class)
        assert foci, rule.name
        for size in (1, 3, 12):
            known = {"this": set(rng.sample(foci, min(size, len(foci))))}
            if rule.pairs:
                known["object"] = set(rng.sample(instances(kb, ALD + "State"), 25)) | known["this"]
            whole = answer(kb.query(bound(rule.construct, known), default_graph_uris=using))
            assert on_gathered(kb, using, rule.construct, known) == whole, rule.name
        assert whole or rule.name == "dissolved-alliance" or size < 12, f"{rule.name} derived nothing: a weak test"


def test_every_affected_by_query_gives_the_same_units_on_the_gathered_triples(
    kb: KnowledgeBase, write_policy: WritePolicy
) -> None:
    rng = random.Random(8)
    nodes = sorted(
        {
            q.subject
            for q in kb.backend.store.quads_for_pattern(None, None, None, None)
            if q.subject.value.startswith(ID)
        },
        key=str,
    )
    for rule in write_policy.rules:
        using = graphs_read_by(kb, write_policy, rule)
        found_any = False
        for _ in range(6):
            known = {"changed": set(rng.sample(nodes, 15))}
            whole = answer(kb.query(bound(rule.affected_by, known), default_graph_uris=using))
            assert on_gathered(kb, using, rule.affected_by, known) == whole, rule.name
            found_any |= bool(whole)
        assert found_any, f"{rule.name}: no random change affected anything, a weak test"


def test_a_variable_bound_in_one_union_branch_is_not_followed_in_the_other(kb: KnowledgeBase) -> None:
    """``BIND (?changed AS ?this)`` in one branch does not make ?this known in the other, where
    it is the alliance a changed membership belongs to (the first version followed org:organization
    backwards from the memberships there and found no alliance)."""
    query = f"""SELECT DISTINCT ?this WHERE {{
      {{ ?changed a <{ALD}Alliance> . BIND (?changed AS ?this) }}
      UNION {{ ?changed <{ORG}organization> ?this }}
    }}"""
    using = [*kb.knowledge_graphs(), INFERRED_GRAPH]
    known = {"changed": {ox.NamedNode(ID + "membership/us-japan-alliance-jpn")}}
    assert on_gathered(kb, using, query, known) == {(ox.NamedNode(ID + "alliance/us-japan-alliance"),)}


def test_a_variable_bound_only_in_an_optional_part_is_not_followed_outside_it() -> None:
    shape = shape_of(f"SELECT * WHERE {{ ?this <{ALD}p> ?a OPTIONAL {{ ?this <{ALD}q> ?b }} ?c <{ALD}r> ?b }}")
    with pytest.raises(Unsupported, match="no variable with known values"):
        gather(Overlay(ox.Store(), [], {}), shape, {"this": set()})


@pytest.mark.parametrize(
    "where",
    [
        "GRAPH ?g { ?this ?p ?o }",
        f"?x a <{ALD}State>",  # reachable only from a constant object: every state of the store
    ],
)
def test_what_cannot_be_followed_from_the_focus_nodes_is_refused(where: str) -> None:
    with pytest.raises(Unsupported):
        gather(
            Overlay(ox.Store(), [], {}), shape_of(f"SELECT * WHERE {{ ?this <{ALD}p> ?y . {where} }}"), {"this": set()}
        )


def test_the_overlay_shows_the_graphs_as_the_write_leaves_them() -> None:
    a, b, c = (ox.NamedNode(f"http://example.org/{n}") for n in "abc")
    p = ox.NamedNode("http://example.org/p")
    store = ox.Store()
    store.extend(
        [
            ox.Quad(a, p, b, ox.NamedNode("urn:g:kept")),
            ox.Quad(a, p, c, ox.NamedNode("urn:g:replaced")),
            ox.Quad(b, p, c, ox.NamedNode("urn:g:changed")),
            ox.Quad(c, p, a, ox.NamedNode("urn:g:unread")),
        ]
    )
    overlay = Overlay(
        store, ["urn:g:kept", "urn:g:replaced", "urn:g:changed"], {"urn:g:replaced": [ox.Triple(c, p, b)]}
    )
    overlay.change("urn:g:changed", [ox.Triple(b, p, c)], [ox.Triple(b, p, a)])
    assert set(overlay.match(None, p, None)) == {ox.Triple(a, p, b), ox.Triple(c, p, b), ox.Triple(b, p, a)}
    assert set(overlay.match(None, None, b)) == {ox.Triple(a, p, b), ox.Triple(c, p, b)}
    assert set(overlay.match(c, None, None)) == {ox.Triple(c, p, b)}
    overlay.add_graph("urn:g:unread")
    assert set(overlay.match(c, None, None)) == {ox.Triple(c, p, b), ox.Triple(c, p, a)}


def contribution() -> list[ox.Triple]:
    """A new alliance with a defence treaty and three members (Japan, Australia, India)."""
    alliance, treaty = ox.NamedNode(ID + "alliance/test-pact"), ox.NamedNode(ID + "treaty/test-pact")
    provision = ox.NamedNode(ID + "provision/test-pact-article-1")
    date = ox.Literal("2020-01-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    triples = [
        ox.Triple(alliance, RDF_TYPE, ox.NamedNode(ALD + "MultilateralAlliance")),
        ox.Triple(alliance, ox.NamedNode(ALD + "foundingDate"), date),
        ox.Triple(alliance, ox.NamedNode(ALD + "foundingTreaty"), treaty),
        ox.Triple(treaty, RDF_TYPE, ox.NamedNode(ALD + "Treaty")),
        ox.Triple(treaty, ox.NamedNode(ALD + "hasProvision"), provision),
        ox.Triple(provision, RDF_TYPE, ox.NamedNode(ALD + "DefenceProvision")),
    ]
    for code in ("jpn", "aus", "ind"):
        m = ox.NamedNode(ID + f"membership/test-pact-{code}")
        triples += [
            ox.Triple(m, RDF_TYPE, ox.NamedNode(ORG + "Membership")),
            ox.Triple(m, ox.NamedNode(ORG + "member"), ox.NamedNode(ID + f"state/{code}")),
            ox.Triple(m, ox.NamedNode(ORG + "organization"), alliance),
            ox.Triple(m, ox.NamedNode(ALD + "startDate"), date),
        ]
    return triples


def test_a_write_updates_the_rule_graphs_with_data_operations_only(
    settings: Settings, write_policy: WritePolicy
) -> None:
    """The rules' part of a write is DELETE DATA / INSERT DATA computed by look-ups (no rule
    query runs in the update), and leaves the same rule graphs as the SPARQL update would."""
    graph = data_graph_iri("test-pact")
    written = {graph: contribution()}
    results = {}
    for name, given in (("looked up", written), ("in the update", None)):
        kb = load_shipped(KnowledgeBase(), settings, write_policy)
        change = materialise.maintain(kb, written)
        knowledge = sorted({*kb.knowledge_graphs(), graph})
        ops = materialise.rule_updates(kb, write_policy.rules, knowledge, change, given).ops
        assert ops
        looked_up = all(op.startswith(("DELETE DATA", "INSERT DATA")) for op in ops)
        assert looked_up == (given is not None), ops
        kb.write(written, remove={INFERRED_GRAPH: change.removed}, add={INFERRED_GRAPH: change.added}, then=ops)
        results[name] = {r.name: set(kb.triples(r.graph)) for r in write_policy.rules}
    assert results["looked up"] == results["in the update"]
    allied = results["looked up"]["allied-states"]
    jpn, ind = ox.NamedNode(ID + "state/jpn"), ox.NamedNode(ID + "state/ind")
    assert ox.Triple(jpn, ox.NamedNode(ALD + "alliedWith"), ind) in allied


def test_a_rule_that_cannot_be_followed_falls_back_to_the_sparql_update(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    graph = data_graph_iri("test-pact")
    written = {graph: contribution()}
    change = materialise.maintain(kb, written)
    monkeypatch.setattr(domain_rule_scope, "shape_of", lambda query: (_ for _ in ()).throw(Unsupported("test")))
    ops = materialise.rule_updates(kb, write_policy.rules, sorted({*kb.knowledge_graphs(), graph}), change, written).ops
    assert any("WHERE" in op for op in ops)
    kb.write(written, remove={INFERRED_GRAPH: change.removed}, add={INFERRED_GRAPH: change.added}, then=ops)
    jpn, ind = ox.NamedNode(ID + "state/jpn"), ox.NamedNode(ID + "state/ind")
    assert ox.Triple(jpn, ox.NamedNode(ALD + "alliedWith"), ind) in set(kb.triples(write_policy.rules[-1].graph))


def test_a_rule_that_derives_nothing_keeps_its_graph_and_is_then_followed(
    settings: Settings, write_policy: WritePolicy
) -> None:
    """A full recomputation creates the rule's graph even when empty, so the next write follows
    the rule for the nodes it touches instead of recomputing it in full every time (at 20k
    generated triples, where no state is an emerging power, that full recomputation was 0.16 s
    of every write)."""
    kb = KnowledgeBase()  # the shipped data has no dissolved alliance
    gate.commit(kb, write_policy, gate.shipped_sources(settings.ontology_file, settings.data_files()))
    dissolved = next(r for r in write_policy.rules if r.name == "dissolved-alliance")
    assert kb.has_graph(dissolved.graph) and kb.triples(dissolved.graph) == []
    assert dissolved.graph not in kb.graphs()  # not listed (exports, /data, VoID): it holds no triple
    graph = data_graph_iri("test-pact")
    written = {graph: contribution()[:3]}
    change = materialise.maintain(kb, written)
    ops = materialise.rule_updates(kb, write_policy.rules, sorted({*kb.knowledge_graphs(), graph}), change, written).ops
    assert not any(f"DROP SILENT GRAPH <{dissolved.graph}>" in op for op in ops)


def test_a_variable_bound_in_one_union_branch_is_not_known_after_the_union() -> None:
    """After the UNION, ?this has values only from the first branch; the second leaves it unbound
    and the pattern after the union then binds it to any alliance, so it cannot be followed."""
    shape = shape_of(
        f"""SELECT * WHERE {{
          {{ ?changed a <{ALD}Alliance> . BIND (?changed AS ?this) }} UNION {{ ?changed <{ORG}organization> ?x }}
          ?this <{ALD}foundingDate> ?date
        }}"""
    )
    with pytest.raises(Unsupported, match="no variable with known values"):
        gather(Overlay(ox.Store(), [], {}), shape, {"changed": set()})


class _CountingStore:
    """A store's look-ups, counted by pattern."""

    def __init__(self, store: ox.Store) -> None:
        self.store, self.reads = store, 0

    def quads_for_pattern(self, s: object, p: object, o: object, g: object = None) -> object:
        self.reads += 1
        return self.store.quads_for_pattern(s, p, o, g)


def test_every_rule_of_a_write_reads_a_pattern_of_the_store_once(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    """The rules of one write follow many of the same nodes (each of an alliance's memberships, for
    every rule that reads memberships); the store is read once per pattern, and a rule added to the
    overlay afterwards, or a change the write makes, still shows in what a look-up answers."""
    counting = _CountingStore(kb.backend.store)
    using = [*kb.knowledge_graphs(), INFERRED_GRAPH]
    overlay = Overlay(counting, using, {})
    nato = ox.NamedNode(ID + "alliance/nato")
    organization = ox.NamedNode(ORG + "organization")
    first = set(overlay.match(None, organization, nato))
    assert first and counting.reads == 1
    for rule in write_policy.rules:
        gather(overlay, shape_of(rule.construct), {"this": {nato}})
    reads = counting.reads
    for rule in write_policy.rules:
        gather(overlay, shape_of(rule.construct), {"this": {nato}})
    assert counting.reads == reads  # the second round is answered from what was read
    gone = next(iter(first))
    for quad in kb.backend.store.quads_for_pattern(gone.subject, gone.predicate, gone.object, None):
        overlay.change(quad.graph_name.value, [gone], [])
    assert set(overlay.match(None, organization, nato)) == first - {gone}
    assert counting.reads == reads
