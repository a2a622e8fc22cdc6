"""Writes to a remote store (`oxigraph serve`, Virtuoso) are reasoned over as on the embedded one:
OWL 2 RL incrementally, the domain rules for the nodes a write affects, and no update that names
every graph; the derived graphs stay equal to a full recomputation on the same data."""

from __future__ import annotations

import dataclasses

import pyoxigraph as ox
import pytest

from allianceld.config import Settings
from allianceld.rdf import sparql_text
from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase, write_lease
from allianceld.store.backends import SparqlBackend
from allianceld.store.remote_lookup import BlankNodeLookup, RemoteLookup
from allianceld.vocab import INFERRED_GRAPH
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy

ID = "https://w3id.org/allianceld/id/"
ORG = "http://www.w3.org/ns/org#"
ALD = "https://w3id.org/allianceld/ontology#"
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
GRAPH = "https://w3id.org/allianceld/graph/remote-test-"


def membership(name: str, state: str, alliance: str = "nato", start: str = "2001-02-03") -> list[ox.Triple]:
    """One partnership of ``state`` in ``alliance`` (as bench_load's writers post them)."""
    m = ox.NamedNode(f"{ID}membership/remote-test-{name}")
    return [
        ox.Triple(m, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(ORG + "Membership")),
        ox.Triple(m, ox.NamedNode(ORG + "member"), ox.NamedNode(f"{ID}state/{state}")),
        ox.Triple(m, ox.NamedNode(ORG + "organization"), ox.NamedNode(f"{ID}alliance/{alliance}")),
        ox.Triple(m, ox.NamedNode(ORG + "role"), ox.NamedNode(ALD + "Partner")),
        ox.Triple(m, ox.NamedNode(ALD + "startDate"), ox.Literal(start, datatype=XSD_DATE)),
        ox.Triple(
            m,
            ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom"),
            ox.NamedNode("https://www.nato.int/cps/en/natohq/topics_52044.htm"),
        ),
    ]


@pytest.fixture
def policy(write_policy: WritePolicy) -> WritePolicy:
    """The shipped shapes and rules, without HermiT (not what is tested here)."""
    return dataclasses.replace(write_policy, dl_checks=False)


@pytest.fixture
def sent(remote_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every update the remote backend sends, in order."""
    texts: list[str] = []
    backend = remote_kb.backend
    original = backend.update

    def update(sparql: str) -> None:
        texts.append(sparql)
        original(sparql)

    monkeypatch.setattr(backend, "update", update)
    return texts


def load(kb: KnowledgeBase, settings: Settings, policy: WritePolicy) -> None:
    """The ontology and the shipped data (forced: what is tested is the reasoning, not the data)."""
    gate.commit(kb, policy, gate.shipped_sources(settings.ontology_file, settings.data_files()), force=True)


def names_graphs(update: str) -> bool:
    """Whether an update names the graphs its WHERE clause reads (``USING``; the keyword, not a
    word in a literal)."""
    return any(t.keyword("USING") for t in sparql_text.tokens(update))


def derived(kb: KnowledgeBase, policy: WritePolicy) -> dict[str, set[ox.Triple]]:
    return {g: set(kb.triples(g)) for g in [INFERRED_GRAPH, *(r.graph for r in policy.rules)]}


def recomputed(kb: KnowledgeBase, policy: WritePolicy) -> dict[str, set[ox.Triple]]:
    """The derived graphs of a full recomputation on a copy of ``kb``'s data (embedded)."""
    copy = KnowledgeBase()
    copy.load_dataset(kb.dump())
    materialise.materialise(copy, policy.rules)
    return derived(copy, policy)


def test_a_contribution_to_a_remote_store_is_reasoned_incrementally_without_naming_every_graph(
    remote_kb: KnowledgeBase, policy: WritePolicy, sent: list[str], settings: Settings
) -> None:
    load(remote_kb, settings, policy)
    materialise.materialise(remote_kb, policy.rules)  # as `allianceld init` does
    sent.clear()
    triples = [t for n, s in enumerate(["aus", "jpn", "kor"]) for t in membership(f"a{n}", s)]
    result = gate.commit(remote_kb, policy, [gate.Source(GRAPH + "a", triples, "test")])
    assert result.reasoning is not None and result.reasoning.reasoner == "incremental", result.reasoning
    claims = [u for u in sent if u.startswith(f"INSERT DATA {{ GRAPH {write_lease.GRAPH} ")]
    writes = [u for u in sent if u not in claims]
    assert len(claims) == 1  # the write lease's claim (store/write_lease.py), before the write read anything
    assert len(writes) == 1  # one request: the write, its inferences and its rules together
    assert not names_graphs(writes[0])
    assert {ox.NamedNode(f"{ID}alliance/nato")} <= {
        t.object for t in remote_kb.triples(INFERRED_GRAPH) if t.subject == ox.NamedNode(f"{ID}state/aus")
    }


def test_remote_derived_graphs_equal_a_full_recomputation_after_a_series_of_writes(
    remote_kb: KnowledgeBase, policy: WritePolicy, sent: list[str], settings: Settings
) -> None:
    load(remote_kb, settings, policy)
    allied = next(r.graph for r in policy.rules if r.name == "allied-states")
    counts = [len(remote_kb.triples(allied))]
    steps = [
        ("add", GRAPH + "a", [*membership("a0", "aus"), *membership("a1", "jpn")]),
        ("add", GRAPH + "b", membership("b0", "swe", start="1999-05-06")),
        ("change", GRAPH + "a", membership("a0", "aus")),  # one membership of two retracted
        ("retract", GRAPH + "b", []),
        ("add", GRAPH + "c", membership("c0", "kor")),
    ]
    for what, graph, triples in steps:
        result = gate.commit(remote_kb, policy, [gate.Source(graph, triples, "test")])
        assert result.reasoning is not None and result.reasoning.reasoner == "incremental", (what, result.reasoning)
        assert derived(remote_kb, policy) == recomputed(remote_kb, policy), what
        counts.append(len(remote_kb.triples(allied)))
    assert max(counts) > counts[0], "new members make new allied pairs"
    assert sent and not any(names_graphs(text) for text in sent)


def test_a_remote_init_computes_the_rules_without_naming_every_graph(
    remote_kb: KnowledgeBase, policy: WritePolicy, sent: list[str], settings: Settings
) -> None:
    load(remote_kb, settings, policy)
    sent.clear()
    materialise.materialise(remote_kb, policy.rules)
    assert sent and not any(names_graphs(text) for text in sent)
    assert derived(remote_kb, policy) == recomputed(remote_kb, policy)


def test_remote_look_ups_are_memoised_and_batched(remote_kb: KnowledgeBase) -> None:
    """The pattern look-ups answer as pyoxigraph's quads_for_pattern does, each pattern once, many
    nodes of one shape in one query; a blank node cannot be looked up."""
    p, g = ox.NamedNode("urn:test:p"), ox.NamedNode("urn:test:g")
    nodes = [ox.NamedNode(f"urn:test:s{i}") for i in range(5)]
    quads = [ox.Quad(s, p, ox.Literal(str(i)), g) for i, s in enumerate(nodes)]
    remote_kb.write({g.value: [q.triple for q in quads]})
    assert isinstance(remote_kb.backend, SparqlBackend)
    lookup = RemoteLookup(remote_kb.backend)
    lookup.prefetch((s, p, None, None) for s in [*nodes, ox.NamedNode("urn:test:none")])
    assert lookup.queries == 1
    assert [list(lookup.quads_for_pattern(s, p, None)) for s in nodes] == [[q] for q in quads]
    assert list(lookup.quads_for_pattern(ox.NamedNode("urn:test:none"), p, None)) == []
    assert lookup.queries == 1
    assert set(lookup.quads_for_pattern(None, p, None, g)) == set(quads)
    assert lookup.queries == 2
    lookup.prefetch_subjects(nodes[:2])
    assert list(lookup.quads_for_pattern(nodes[0], None, ox.Literal("0"))) == [quads[0]]
    assert lookup.queries == 3
    lookup.prefetch((None, p, ox.Literal(str(i)), None) for i in range(2))  # a bound literal is asked alone
    assert lookup.queries == 5
    assert list(lookup.quads_for_pattern(None, p, ox.Literal("1"))) == [quads[1]]
    with pytest.raises(BlankNodeLookup):
        lookup.quads_for_pattern(ox.BlankNode(), p, None)


def test_a_computed_empty_rule_graph_is_told_from_a_missing_one(
    remote_kb: KnowledgeBase, policy: WritePolicy, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that keeps empty graphs (Oxigraph) shows that a rule whose graph is empty was
    computed, so a write follows the rules for the nodes it affects instead of recomputing them all."""
    load(remote_kb, settings, policy)
    materialise.materialise(remote_kb, policy.rules)
    dissolved = next(r for r in policy.rules if r.name == "dissolved-alliance")
    assert remote_kb.triples(dissolved.graph) == []
    assert not remote_kb.has_graph(GRAPH + "never-written")
    assert isinstance(remote_kb.backend, SparqlBackend)
    if not remote_kb.backend.dialect.empty_graphs:  # Virtuoso: every IRI names a graph to ASK
        assert not remote_kb.has_graph(dissolved.graph)
        return
    assert remote_kb.has_graph(dissolved.graph)

    def in_full(*args: object) -> None:
        raise AssertionError("every rule recomputed in full")

    monkeypatch.setattr(materialise, "_in_memory", in_full)
    result = gate.commit(remote_kb, policy, [gate.Source(GRAPH + "a", membership("a0", "kor"), "test")])
    assert result.reasoning is not None and result.reasoning.reasoner == "incremental"


def test_a_store_keeping_empty_graphs_lists_them_as_the_embedded_store_does(kb: KnowledgeBase) -> None:
    """Where the store keeps empty graphs, its list of graphs is read from them (not from every
    triple): an empty graph is listed, an empty rule graph is not, as on the embedded store."""
    if isinstance(kb.backend, SparqlBackend) and not kb.backend.dialect.empty_graphs:
        pytest.skip("Virtuoso keeps no empty graphs: a graph is listed by its triples")
    rule_graph = "https://w3id.org/allianceld/graph/inferred/rule/remote-test"
    kb.write({GRAPH + "full": [ox.Triple(ox.NamedNode("urn:test:s"), ox.NamedNode("urn:test:p"), ox.Literal("o"))]})
    kb.write({}, keep=[GRAPH + "empty", rule_graph])
    assert [g for g in kb.graphs() if g.startswith(GRAPH) or g == rule_graph] == [GRAPH + "empty", GRAPH + "full"]


def test_match_answers_alike_on_every_store(kb: KnowledgeBase) -> None:
    """Backend.match (the validation's look-ups) finds the quads of the given graphs only, by
    subject or by object, with or without predicates, on every store."""
    s1, s2, o = ox.NamedNode("urn:test:s1"), ox.NamedNode("urn:test:s2"), ox.NamedNode("urn:test:o")
    p, q = ox.NamedNode("urn:test:p"), ox.NamedNode("urn:test:q")
    kb.write(
        {
            GRAPH + "one": [ox.Triple(s1, p, o), ox.Triple(s2, q, o)],
            GRAPH + "two": [ox.Triple(s1, q, o), ox.Triple(s2, p, ox.Literal("x"))],
        }
    )

    def found(nodes: list[ox.NamedNode], preds: list[ox.NamedNode] | None, incoming: bool, graphs: list[str]) -> set:
        return set(kb.backend.match(nodes, preds, incoming=incoming, graphs=graphs))

    one, two = GRAPH + "one", GRAPH + "two"
    assert found([s1, s2], None, False, [one]) == {
        ox.Quad(s1, p, o, ox.NamedNode(one)),
        ox.Quad(s2, q, o, ox.NamedNode(one)),
    }
    assert found([s1], [q], False, [one, two]) == {ox.Quad(s1, q, o, ox.NamedNode(two))}
    assert found([o], [p], True, [one, two]) == {ox.Quad(s1, p, o, ox.NamedNode(one))}
    assert found([s1, s2], None, False, []) == set()
    kb.write({GRAPH + "three": [ox.Triple(s2, p, o), ox.Triple(s1, p, s2)]})
    three = GRAPH + "three"
    one_each = kb.backend.match([o, s2], [p, q], incoming=True, graphs=[one, two, three], limit=1)
    assert sorted((str(x.object), str(x.predicate)) for x in one_each) == [
        (str(o), str(p)),
        (str(o), str(q)),
        (str(s2), str(p)),
    ]  # one per node and predicate, each a stored quad
    every = found([o, s2], [p, q], True, [one, two, three])
    assert set(one_each) <= every and len(every) == 5
