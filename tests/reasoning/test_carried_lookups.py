"""The store look-ups of one write's domain rule upkeep, carried to the next write through the gate
(:meth:`domain_rule_scope.Overlay.carried`): they equal the store's own answers once the write is
made, and the rules' graphs stay those of a full recomputation and of the same writes without them."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.errors import ValidationFailed, WriteOutcomeUnknown
from allianceld.rdf import formats
from allianceld.reasoning import domain_rule_scope, materialise
from allianceld.reasoning.domain_rule_scope import Overlay
from allianceld.store import KnowledgeBase
from allianceld.vocab import data_graph_iri
from allianceld.write import contributions, gate
from allianceld.write.write_policy import WritePolicy
from conftest import load_shipped
from reasoning.test_rule_maintenance import recomputed, rule_graphs

ID = "https://w3id.org/allianceld/id/"
ALD = "https://w3id.org/allianceld/ontology#"
ORG = "http://www.w3.org/ns/org#"
XSD = "http://www.w3.org/2001/XMLSchema#"

# -- the overlay's carried look-ups, on a small random store ---------------------------------------

N = [ox.NamedNode(f"urn:n{i}") for i in range(6)]
P = [ox.NamedNode(f"urn:p{i}") for i in range(3)]
G = [f"urn:g{i}" for i in range(5)]


def _random_triple(rng: random.Random) -> ox.Triple:
    o = rng.choice([*N, ox.Literal(str(rng.randrange(3)), datatype=ox.NamedNode(XSD + "integer"))])
    return ox.Triple(rng.choice(N), rng.choice(P), o)


def _patterns() -> Iterator[tuple[Any, Any, Any]]:
    for s in [None, *N[:3]]:
        for p in [None, *P[:2]]:
            for o in [None, *N[:3]]:
                yield s, p, o


@pytest.mark.parametrize("seed", range(12))
def test_carried_look_ups_are_the_stores_answers_after_the_write(seed: int) -> None:
    """A random store and write (a graph replaced, triples removed from and added to two others,
    a graph changed outside the overlay): every carried look-up equals the store's after the write,
    in the covered graphs; an overlay started from them matches as one reading the store."""
    rng = random.Random(seed)
    store = ox.Store()
    for g in G:
        store.extend(ox.Quad(*_random_triple(rng), ox.NamedNode(g)) for _ in range(25))
    covered, replaced, changed, outside = G[:4], G[1], G[2:4], G[4]
    new = {_random_triple(rng) for _ in range(15)}
    overlay = Overlay(store, covered[:3], {replaced: new})
    for pattern in rng.sample(list(_patterns()), 30):
        overlay.match(*pattern)
    overlay.add_graph(covered[3])
    edits = {}
    for g in changed:
        stored = [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))]
        gone, added = set(rng.sample(stored, 5)), {_random_triple(rng) for _ in range(5)}
        overlay.change(g, gone, added)
        edits[g] = (gone, added)
    for pattern in rng.sample(list(_patterns()), 30):
        overlay.match(*pattern)
    carried = overlay.carried(elsewhere=[G[0]])
    assert carried is not None and carried.graphs == frozenset(G[1:4]) and carried.read

    store.remove_graph(ox.NamedNode(replaced))
    store.extend(ox.Quad(*t, ox.NamedNode(replaced)) for t in new)
    for g, (gone, added) in edits.items():  # as the write's DELETE DATA, then INSERT DATA
        for t in gone:
            store.remove(ox.Quad(*t, ox.NamedNode(g)))
        store.extend(ox.Quad(*t, ox.NamedNode(g)) for t in added)
    store.extend(ox.Quad(*_random_triple(rng), ox.NamedNode(g)) for g in (G[0], outside) for _ in range(10))
    for key, quads in carried.read.items():
        wanted = {(q.graph_name, q.triple) for q in store.quads_for_pattern(*key, None) if q.graph_name.value in G[1:4]}
        assert sorted(map(str, quads)) == sorted(map(str, wanted)), key

    read: list[tuple[Any, ...]] = []
    following = Overlay(_Counted(store, read), G[1:4], {}, carried)
    fresh = Overlay(store, G[1:4], {})
    for pattern in _patterns():
        assert sorted(map(str, following.match(*pattern))) == sorted(map(str, fresh.match(*pattern)))
    assert sorted(map(str, read)) == sorted(str((*p, None)) for p in _patterns() if p not in carried.read)


class _Counted:
    """A store whose look-ups of every graph (those an overlay caches) are listed in ``read``."""

    def __init__(self, store: Any, read: list[tuple[Any, ...]]) -> None:
        self.store, self.read = store, read

    def quads_for_pattern(self, *pattern: Any) -> Any:
        if pattern[3] is None:
            self.read.append(pattern)
        return self.store.quads_for_pattern(*pattern)


def test_carried_look_ups_are_dropped_for_a_graph_they_do_not_cover() -> None:
    """An overlay reading a graph the carried look-ups do not cover reads the store afresh."""
    store = ox.Store()
    t = ox.Triple(N[0], P[0], N[1])
    store.add(ox.Quad(*t, ox.NamedNode(G[1])))
    first = Overlay(store, G[:1], {})
    first.match(N[0], P[0], None)
    carried = first.carried()
    assert carried is not None and carried.read == {(N[0], P[0], None): []}
    assert Overlay(store, G[:2], {}, carried).match(N[0], P[0], None) == [t]
    later = Overlay(store, G[:1], {}, carried)
    assert later.match(N[0], P[0], None) == []
    later.add_graph(G[1])
    assert later.match(N[0], P[0], None) == [t]
    assert Overlay(store, G[:2], {G[1]: []}, carried).match(N[0], P[0], None) == []  # replaced: not read


@pytest.mark.parametrize(
    "term",
    [
        ox.BlankNode("b"),
        ox.Literal("01", datatype=ox.NamedNode(XSD + "integer")),
        ox.Literal("1.50", datatype=ox.NamedNode(XSD + "decimal")),
        ox.Literal("1", datatype=ox.NamedNode(XSD + "boolean")),
    ],
)
def test_no_look_ups_are_carried_past_a_triple_the_store_would_change(term: Any) -> None:
    """A blank node (made a new one by the write) or a literal pyoxigraph stores in another
    lexical form, among the triples a write adds or removes: nothing is carried."""
    for replaced, removed in (([ox.Triple(N[0], P[0], term)], []), ([], [ox.Triple(N[0], P[0], term)])):
        overlay = Overlay(ox.Store(), G[:2], {G[0]: replaced})
        overlay.change(G[1], removed, [])
        overlay.match(N[0], None, None)
        assert overlay.carried() is None
    kept = Overlay(ox.Store(), G[:1], {G[0]: [ox.Triple(N[0], P[0], ox.Literal("1", datatype=P[1]))]})
    assert kept.carried() is not None


# -- through the gate ----------------------------------------------------------------------------


class _Spied:
    """The overlays made while installed: what each was carried and how many patterns it read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.carried: list[domain_rule_scope.Carried | None] = []
        self.reads: list[list[tuple[Any, ...]]] = []
        spied = self

        class SpiedOverlay(Overlay):
            def __init__(self, store: Any, graphs: Any, replaced: Any, carried: Any = None) -> None:
                spied.carried.append(carried)
                spied.reads.append([])
                super().__init__(_Counted(store, spied.reads[-1]), graphs, replaced, carried)

        monkeypatch.setattr(domain_rule_scope, "Overlay", SpiedOverlay)

    def clear(self) -> None:
        self.carried.clear()
        self.reads.clear()


def _membership(number: int, state: str, alliance: str = "nato", role: str = "Partner") -> list[ox.Triple]:
    text = f"""
        @prefix ald: <{ALD}> . @prefix org: <{ORG}> . @prefix xsd: <{XSD}> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        <{ID}membership/carried-{number}> a org:Membership ; org:member <{ID}state/{state}> ;
            org:organization <{ID}alliance/{alliance}> ; org:role ald:{role} ; ald:startDate "2020-01-01"^^xsd:date ;
            prov:wasDerivedFrom <https://www.nato.int/cps/en/natohq/topics_52044.htm> ."""
    return formats.parse(text, ox.RdfFormat.TURTLE, source="test")


MEMBERS = {  # some members of four alliances
    "nato": ["usa", "gbr", "tur", "fin", "swe", "pol"],
    "csto": ["arm", "aze", "kaz", "rus", "uzb", "geo"],
    "gcc": ["are", "bhr", "kwt", "sau"],
    "quad": ["aus", "ind", "jpn"],
}


def _twins(settings: Settings, write_policy: WritePolicy) -> tuple[KnowledgeBase, KnowledgeBase]:
    first = load_shipped(KnowledgeBase(), settings, write_policy)
    second = KnowledgeBase()
    second.load_dataset(first.dump())
    return first, second


def test_random_writes_with_carried_look_ups_keep_the_rules_equal_to_a_full_recomputation(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contributions, retractions, a suspension, data graphs with memberships removed or shortened,
    a SPARQL update, a bulk write, a full recomputation and a refused write, at random: after each,
    the rule graphs of the store whose writes carried their look-ups equal those of the same
    writes without them, and a full recomputation; the look-ups were used by most writes."""
    on, off = _twins(settings, write_policy)
    original = {g: on.triples(g) for g in map(data_graph_iri, MEMBERS)}
    spied = _Spied(monkeypatch)
    member, role, end = (ox.NamedNode(u) for u in (ORG + "member", ORG + "role", ALD + "endDate"))
    rng = random.Random(7)
    made: dict[str, list[str]] = {"on": [], "off": []}
    used = 0

    def contribute(kb: KnowledgeBase, name: str, step: int) -> None:
        pick = random.Random(step)  # the same for both stores
        alliance, other = pick.sample(sorted(MEMBERS), 2)  # partners of one, from another's members
        states = pick.sample(MEMBERS[other], 2)
        triples = [t for k, st in enumerate(states) for t in _membership(step * 10 + k, st, alliance)]
        cid = f"{step:06x}{name == 'on':06x}"
        contributions.contribute(kb, write_policy, triples, agent="test", contribution_id=cid)
        made[name].append(cid)

    def retract(kb: KnowledgeBase, name: str, step: int) -> None:
        if made[name]:
            contributions.retract(kb, write_policy, made[name].pop(0), agent="root")

    def shorten(kb: KnowledgeBase, name: str, step: int) -> None:
        pick = random.Random(step)
        graph = data_graph_iri(pick.choice(sorted(MEMBERS)))
        triples = kb.triples(graph)
        memberships = sorted({t.subject for t in triples if t.predicate == member}, key=str)
        gone = set(pick.sample(memberships, 1))
        short = [m for m in memberships if m not in gone][:1]
        new = [t for t in triples if t.subject not in gone and not (t.subject in short and t.predicate == end)]
        new += [ox.Triple(m, end, ox.Literal("2002-01-01", datatype=ox.NamedNode(XSD + "date"))) for m in short]
        gate.commit(kb, write_policy, [gate.Source(graph, new, "test")], force=True)

    def restore(kb: KnowledgeBase, name: str, step: int) -> None:
        gate.commit(kb, write_policy, [gate.Source(g, ts, "test") for g, ts in original.items()], force=True)

    def suspend(kb: KnowledgeBase, name: str, step: int) -> None:
        graph = data_graph_iri("csto")
        triples = kb.triples(graph)
        one = sorted({t.subject for t in triples if t.predicate == role}, key=str)[step % 3]
        changed = [
            ox.Triple(t.subject, role, ox.NamedNode(ALD + "Suspended"))
            if (t.subject, t.predicate) == (one, role)
            else t
            for t in triples
        ]
        gate.commit(kb, write_policy, [gate.Source(graph, changed, "test")], force=True)

    def update(kb: KnowledgeBase, name: str, step: int) -> None:
        gate.apply_update(
            kb,
            write_policy,
            f"DELETE WHERE {{ GRAPH <{data_graph_iri('gcc')}> {{ ?m <{ALD}endDate> ?e }} }}",
        )

    def bulk(kb: KnowledgeBase, name: str, step: int) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(gate, "is_large_write", lambda kb, size: True)
            source = gate.Source(data_graph_iri(f"carried-bulk-{step}"), _membership(step * 10, "kaz"), "test")
            gate.commit(kb, write_policy, [source], force=True)

    def recompute(kb: KnowledgeBase, name: str, step: int) -> None:
        materialise.materialise(kb, write_policy.rules)

    def refused(kb: KnowledgeBase, name: str, step: int) -> None:
        with pytest.raises(ValidationFailed):
            gate.commit(kb, write_policy, [gate.Source(data_graph_iri("carried-bad"), _bad(), "test")])

    kinds: list[Callable[[KnowledgeBase, str, int], None]] = [contribute] * 5 + [retract] * 2 + [shorten] * 2
    kinds += [suspend, update, bulk, recompute, refused, restore]
    plan = [contribute, contribute]
    for _ in range(2):  # each write but a contribution followed by one (reading what it changed)
        plan += [step for write in rng.sample(kinds, len(kinds)) for step in (write, contribute)]
    for step, write in enumerate(plan):
        spied.clear()
        off.carried_lookups = None  # the same writes, never carried
        write(off, "off", step)
        assert all(c is None for c in spied.carried)
        spied.clear()
        write(on, "on", step)
        used += any(c is not None for c in spied.carried)
        assert rule_graphs(on, write_policy) == rule_graphs(off, write_policy), write.__name__
        assert rule_graphs(on, write_policy) == recomputed(on, write_policy), write.__name__
    assert used >= len(plan) * 2 // 3, (used, len(plan))


def _bad() -> list[ox.Triple]:
    """A membership without its member (refused by the shapes)."""
    return [t for t in _membership(999, "aus") if t.predicate.value != ORG + "member"]


def test_carried_look_ups_are_used_by_the_next_contribution_only(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-ups of a contribution serve the next one (fewer patterns read from the store than
    without them, the same rule graphs); not after another path wrote to the store, nor after a
    write whose outcome is unknown."""
    kb, cold = _twins(settings, write_policy)
    spied = _Spied(monkeypatch)
    contributions.contribute(kb, write_policy, _membership(1, "aus"), agent="test", contribution_id="c00000000001")
    assert kb.carried_lookups is not None and kb.carried_lookups[0] == kb.version

    def second(store: KnowledgeBase, cid: str, number: int) -> tuple[domain_rule_scope.Carried | None, int]:
        spied.clear()
        contributions.contribute(store, write_policy, _membership(number, "jpn"), agent="test", contribution_id=cid)
        assert len(spied.carried) == 1
        return spied.carried[0], len(spied.reads[0])

    contributions.contribute(cold, write_policy, _membership(1, "aus"), agent="test", contribution_id="c00000000001")
    cold.carried_lookups = None
    carried, warm_reads = second(kb, "c00000000002", 2)
    assert carried is not None
    _, cold_reads = second(cold, "c00000000002", 2)
    assert warm_reads < cold_reads / 2, (warm_reads, cold_reads)
    assert rule_graphs(kb, write_policy) == rule_graphs(cold, write_policy)

    kb.write({data_graph_iri("carried-other"): [ox.Triple(N[0], P[0], N[1])]})  # another path
    carried, _ = second(kb, "c00000000003", 3)
    assert carried is None
    assert kb.carried_lookups is not None

    real = kb.backend.update

    def landed_unanswered(sparql: str) -> None:
        real(sparql)
        raise WriteOutcomeUnknown("no answer")

    monkeypatch.setattr(kb.backend, "update", landed_unanswered)
    with pytest.raises(WriteOutcomeUnknown):
        contributions.contribute(kb, write_policy, _membership(4, "kor"), agent="test", contribution_id="c00000000004")
    monkeypatch.setattr(kb.backend, "update", real)
    carried, _ = second(kb, "c00000000005", 5)
    assert carried is None
    assert rule_graphs(kb, write_policy) == recomputed(kb, write_policy)


def test_a_type_one_write_removes_is_gone_from_the_look_ups_the_next_write_is_carried(
    settings: Settings, write_policy: WritePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new state typed an emerging power (so a state, by OWL 2 RL) joins NATO; the next write
    takes its type away (its inferred type and its alliances go), the one after gives its
    membership an end date: the state is read from the carried look-ups, and is still no state."""
    kb = load_shipped(KnowledgeBase(), settings, write_policy)
    spied = _Spied(monkeypatch)
    graph = data_graph_iri("carried-power")
    state = ox.NamedNode(ID + "state/carried-power")
    typed = ox.Triple(
        state, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(ALD + "EmergingPower")
    )
    joined = [t for t in _membership(1, "aus") if t.predicate.value != ORG + "member"]
    joined.append(ox.Triple(joined[0].subject, ox.NamedNode(ORG + "member"), state))
    ended = ox.Triple(
        joined[0].subject, ox.NamedNode(ALD + "endDate"), ox.Literal("2030-01-01", datatype=ox.NamedNode(XSD + "date"))
    )
    allied = ox.Triple(state, ox.NamedNode(ALD + "alliedWith"), ox.NamedNode(ID + "state/usa"))
    for step, (content, allies) in enumerate((([typed, *joined], True), (joined, False), ([*joined, ended], False))):
        spied.clear()
        gate.commit(kb, write_policy, [gate.Source(graph, content, "test")], force=True)
        assert (spied.carried[0] is not None) is (step > 0)  # the first follows the full load
        derived = rule_graphs(kb, write_policy)
        assert (allied in derived["allied-states"]) is allies
        assert derived == recomputed(kb, write_policy)
