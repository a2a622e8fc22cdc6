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


def test_the_overlay_follows_every_change_of_a_graph_before_and_after_it_is_read() -> None:
    """A rule's graph is changed before it joins the overlay (the rule's own change), and a graph
    may change twice: what a look-up answers, kept between look-ups, follows each change."""
    a, b, c = (ox.NamedNode(f"http://example.org/{n}") for n in "abc")
    p = ox.NamedNode("http://example.org/p")
    store = ox.Store()
    store.extend([ox.Quad(a, p, b, ox.NamedNode("urn:g:rule")), ox.Quad(a, p, c, ox.NamedNode("urn:g:data"))])
    overlay = Overlay(store, ["urn:g:data"], {})
    assert overlay.match(a, p, None) == [ox.Triple(a, p, c)]
    overlay.change("urn:g:rule", [ox.Triple(a, p, b)], [ox.Triple(b, p, c)])
    assert overlay.match(a, p, None) == [ox.Triple(a, p, c)] and overlay.match(b, None, None) == []
    overlay.add_graph("urn:g:rule")
    assert overlay.match(a, p, None) == [ox.Triple(a, p, c)] and overlay.match(b, None, None) == [ox.Triple(b, p, c)]
    overlay.change("urn:g:rule", [ox.Triple(b, p, c)], [ox.Triple(c, p, a)])
    assert overlay.match(b, None, None) == [] and set(overlay.match(None, None, a)) == {ox.Triple(c, p, a)}
    overlay.change("urn:g:data", [ox.Triple(a, p, c)], [])
    assert overlay.match(a, p, None) == [] and set(overlay.match(None, p, None)) == {ox.Triple(c, p, a)}


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


def test_the_units_query_derives_what_the_focused_update_derives(kb: KnowledgeBase, write_policy: WritePolicy) -> None:
    """On one store, a rule's CONSTRUCT for some units (:func:`domain_rules.units_query`, what the
    gathered triples are given) derives exactly what its focused SPARQL update writes for them."""
    rng = random.Random(11)
    store = ox.Store()
    context = ox.NamedNode("urn:x-test:context")
    for graph in [*kb.knowledge_graphs(), INFERRED_GRAPH, *(r.graph for r in write_policy.rules)]:
        store.extend(ox.Quad(t.subject, t.predicate, t.object, context) for t in kb.triples(graph))
    states = instances(kb, ALD + "State")
    for rule in write_policy.rules:
        foci = instances(kb, rule.focus_class)
        derived_any = False
        for size in (1, 5, 40):
            nodes = rng.sample(foci, min(size, len(foci)))
            units = [(node, other) for node in nodes for other in rng.sample(states, 30)] if rule.pairs else nodes
            updated = ox.Store()
            updated.extend(store)
            updated.update(domain_rules.focus_update(rule, [context.value], units, []))
            expected = {q.triple for q in updated.quads_for_pattern(None, None, None, ox.NamedNode(rule.graph))}
            got = set(store.query(domain_rules.units_query(rule, units), default_graph=context))
            assert got == expected, rule.name
            derived_any |= bool(got)
        assert derived_any or rule.name == "dissolved-alliance", f"{rule.name} derived nothing: a weak test"


def _gathered_and_answers(triples: list[ox.Triple], query: str, known: dict[str, set]) -> tuple[set, set, set]:
    """The triples gathered from ``known``, and the query's answer on them and on all of ``triples``."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("urn:g")) for t in triples)
    found = gather(Overlay(store, ["urn:g"], {}), shape_of(query), known)
    answers = []
    for content in (found, triples):
        memory = ox.Store()
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in content)
        answers.append(answer(memory.query(bound(query, known))))
    return found, answers[0], answers[1]


def test_a_known_variable_keeps_its_known_values() -> None:
    """``?object`` is known: the triples a pattern from ``?y`` reaches it by are gathered, but its
    other values lead nowhere (no solution wanted takes them)."""
    ex = "http://example.org/"
    a, y, o1, o2, x1, x2 = (ox.NamedNode(ex + n) for n in ("a", "y", "o1", "o2", "x1", "x2"))
    p, q, label = (ox.NamedNode(ex + n) for n in ("p", "q", "label"))
    triples = [ox.Triple(a, p, y), ox.Triple(y, q, o1), ox.Triple(y, q, o2), ox.Triple(o1, label, x1)]
    triples.append(ox.Triple(o2, label, x2))
    query = f"SELECT ?this ?object ?x WHERE {{ ?this <{ex}p> ?y . ?y <{ex}q> ?object . ?object <{ex}label> ?x }}"
    found, on_found, on_all = _gathered_and_answers(triples, query, {"this": {a}, "object": {o1}})
    assert ox.Triple(y, q, o2) in found and ox.Triple(o2, label, x2) not in found
    assert on_found == on_all == {(a, o1, x1)}


def test_a_pattern_is_followed_from_a_known_variable_rather_than_a_reached_one() -> None:
    """The other memberships are found from the known ``?object`` (its memberships), not from the
    organisation reached from ``?this`` (every membership of it)."""
    ex = "http://example.org/"
    a, o1, o2, m, m1, m2, org = (ox.NamedNode(ex + n) for n in ("a", "o1", "o2", "m", "m1", "m2", "org"))
    member, within = ox.NamedNode(ex + "member"), ox.NamedNode(ex + "within")
    triples = [ox.Triple(m, member, a), ox.Triple(m, within, org), ox.Triple(m1, within, org)]
    triples += [ox.Triple(m2, within, org), ox.Triple(m1, member, o1), ox.Triple(m2, member, o2)]
    query = f"""SELECT ?this ?object WHERE {{
      ?m <{ex}member> ?this ; <{ex}within> ?org . ?other <{ex}within> ?org ; <{ex}member> ?object
    }}"""
    found, on_found, on_all = _gathered_and_answers(triples, query, {"this": {a}, "object": {o1}})
    assert ox.Triple(m2, within, org) not in found
    assert on_found == on_all == {(a, o1)}


def test_a_rule_graph_is_read_for_many_units_at_once_with_the_same_triples() -> None:
    """The old triples of the units (:meth:`Overlay.graph_triples`): a node that is the subject, or
    the object, of many units is read whole, unless it has many more triples there than units;
    the triples are those of one look-up per unit."""
    ex = "http://example.org/"
    graph = "urn:g:rule"
    p, q = ox.NamedNode(ex + "p"), ox.NamedNode(ex + "q")
    hub, sink, alone = ox.NamedNode(ex + "hub"), ox.NamedNode(ex + "sink"), ox.NamedNode(ex + "alone")
    nodes = [ox.NamedNode(f"{ex}n{i}") for i in range(60)]
    quads = [ox.Quad(hub, p, n, ox.NamedNode(graph)) for n in nodes]  # 60 triples, 10 units of them asked
    quads += [ox.Quad(n, q, sink, ox.NamedNode(graph)) for n in nodes[:12]]  # 12 triples, 12 units
    quads += [ox.Quad(alone, p, nodes[0], ox.NamedNode(graph)), ox.Quad(hub, p, sink, ox.NamedNode("urn:g:other"))]
    store = _CountingStore(ox.Store())
    store.store.extend(quads)
    units = [(hub, n) for n in nodes[::6]] + [(n, sink) for n in nodes[:12] + nodes[40:]] + [(alone, None)]
    expected = {q.triple for s, o in units for q in store.store.quads_for_pattern(s, None, o, ox.NamedNode(graph))}
    assert len(expected) == 10 + 12 + 1
    assert Overlay(store, [], {}).graph_triples(graph, units) == expected
    assert store.reads == 1 + 10 + 1 + 1  # the hub tried whole (60 triples), then by unit; the sink whole; alone
