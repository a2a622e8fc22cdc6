"""The per-write OWL 2 DL check (a module of the store, HermiT, explanations), the classification
of the ontology, and their answers without Java."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask

from allianceld.config import Settings
from allianceld.errors import AllianceldError, Inconsistent
from allianceld.rdf import formats
from allianceld.reasoning import dl_check, materialise
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD, ONTOLOGY_GRAPH, data_graph_iri
from allianceld.web import create_app
from allianceld.write import gate
from conftest import ROOT, requires_java

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

ID = "https://w3id.org/allianceld/id/"
PREFIXES = f"""@prefix ald: <{ALD}> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix state: <{ID}state/> . @prefix alliance: <{ID}alliance/> . @prefix treaty: <{ID}treaty/> .
@prefix provision: <{ID}provision/> . @prefix membership: <{ID}membership/> . @prefix thing: <{ID}thing/> .
"""
NEW_GRAPH = data_graph_iri("dl-check-test")
FRA, NATO, NAT = f"{ID}state/fra", f"{ID}alliance/nato", f"{ID}treaty/north-atlantic-treaty"


def turtle(text: str) -> list[ox.Triple]:
    return formats.parse(PREFIXES + text, ox.RdfFormat.TURTLE, source="test")


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


@pytest.fixture(scope="module")
def ontology(shared_kb: KnowledgeBase) -> rdflib.Graph:
    return shared_kb.rdflib_graph([ONTOLOGY_GRAPH])


A_MEMBERSHIP = """
membership:dl-test-fra a org:Membership ; org:member state:fra ; org:organization alliance:nato ;
    org:role ald:Member ; ald:startDate "1949-08-24"^^xsd:date ; prov:wasDerivedFrom <https://example.org/dl-src> .
"""


# -- the module -------------------------------------------------------------------------------


def test_touched_individuals_are_subjects_and_objects_not_terms(ontology: rdflib.Graph) -> None:
    written = turtle(
        A_MEMBERSHIP + "state:fra owl:sameAs <http://www.wikidata.org/entity/Q142> ."
        "ald:NewClass a owl:Class ; rdfs:subClassOf ald:Alliance ."
    )
    found = {n.value for n in dl_check.touched_individuals(written, ontology)}
    assert found == {f"{ID}membership/dl-test-fra", FRA, NATO, "https://example.org/dl-src"}


def test_the_module_holds_the_touched_individuals_and_their_neighbours_types_only(
    shared_kb: KnowledgeBase, ontology: rdflib.Graph
) -> None:
    mod = dl_check.gather(shared_kb, ontology, turtle(A_MEMBERSHIP), [NEW_GRAPH])
    g, rdf_type = mod.graph, rdflib.RDF.type
    fra, nato, nat = rdflib.URIRef(FRA), rdflib.URIRef(NATO), rdflib.URIRef(NAT)
    assert (fra, rdf_type, ALD.State) in g  # a touched individual's stored triples
    assert (fra, ALD.iso3166Alpha2, rdflib.Literal("FR")) in g
    assert (nato, ALD.foundingTreaty, nat) in g
    assert (nat, rdf_type, ALD.Treaty) in g  # a neighbour's type
    assert rdflib.URIRef(f"{ID}state/bel") not in set(g.subjects())  # another member of NATO: unrelated
    members = [m for m in g.subjects(rdflib.URIRef("http://www.w3.org/ns/org#organization"), nato)]
    # the written one, one stored membership typing NATO (a range) and France's own (a neighbour of
    # France): not NATO's other thirty
    assert len(members) <= 3
    assert not any(str(o).startswith("http://www.wikidata.org/") for o in g.objects(None, rdflib.OWL.sameAs))
    assert len(mod.origin) < 400 < shared_kb.count()
    assert mod.origin[(fra, rdf_type, ALD.State)] == data_graph_iri("states")
    assert dl_check.module(shared_kb, ontology, turtle(A_MEMBERSHIP), [NEW_GRAPH]).isomorphic(g)


def test_a_large_writes_new_individuals_are_looked_up_once_and_the_module_is_the_same(
    shared_kb: KnowledgeBase, ontology: rdflib.Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Individuals no kept graph holds are looked up once each way, not again for each predicate;
    the module is the one gathered with every look-up made."""
    written = generate(2_000, seed=3) + turtle(A_MEMBERSHIP)
    asked: list[tuple[ox.NamedNode | ox.BlankNode, object]] = []
    match = shared_kb.match

    def counted(nodes, predicates=None, **kwargs):  # type: ignore[no-untyped-def]
        nodes = list(nodes)
        asked.extend((n, None if predicates is None else tuple(predicates)) for n in nodes)
        return match(nodes, predicates, **kwargs)

    monkeypatch.setattr(shared_kb, "match", counted)
    mod = dl_check.gather(shared_kb, ontology, written, [NEW_GRAPH])
    new = {n for n in mod.touched if not shared_kb.match([n], None, graphs=shared_kb.graphs(), limit=1)}
    assert len(new) > 250 and iri(FRA) not in new
    with_predicates = [n for n, predicates in asked if predicates is not None and n in new]
    assert len(with_predicates) <= len(new)  # the inferred graph's types, once each
    monkeypatch.setattr(dl_check._View, "_stored", lambda self, nodes, incoming: list(nodes))
    every = dl_check.gather(shared_kb, ontology, written, [NEW_GRAPH])
    assert every.data == mod.data and every.touched == mod.touched and every.neighbours == mod.neighbours


def test_the_module_reads_the_data_after_the_write(shared_kb: KnowledgeBase, ontology) -> None:
    """The replaced graph's old content is not read: France's codes (only in data/states) are gone."""
    written = turtle('state:fra rdfs:label "France (test)"@en .')
    mod = dl_check.gather(shared_kb, ontology, written, [data_graph_iri("states")])
    assert {n.value for n in mod.touched} == {FRA}
    assert (rdflib.URIRef(FRA), ALD.iso3166Alpha2, None) not in mod.graph
    assert (rdflib.URIRef(f"{ID}membership/nato-fra"), None, None) in mod.graph  # in data/nato, kept


def test_only_what_a_write_adds_to_a_graph_it_replaces_is_touched(shared_kb: KnowledgeBase, ontology) -> None:
    """A graph rewritten with one more triple (as a SPARQL Update or a Graph Store PUT does): the
    module is about that triple's individuals, not the whole graph."""
    nato = shared_kb.triples(data_graph_iri("nato"))
    written = [*nato, *turtle('alliance:nato ald:headquarters "Mons" .')]
    mod = dl_check.gather(shared_kb, ontology, written, [data_graph_iri("nato")])
    assert {n.value for n in mod.touched} == {NATO}
    assert (rdflib.URIRef(NATO), ALD.foundingTreaty, rdflib.URIRef(NAT)) in mod.graph  # from the write
    assert mod.origin[(rdflib.URIRef(NATO), ALD.foundingTreaty, rdflib.URIRef(NAT))] == dl_check.THE_WRITE
    assert len(mod.origin) < len(nato) / 2


# -- the verdict --------------------------------------------------------------------------------


@requires_java
def test_a_state_typed_as_an_alliance_is_refused_with_the_disjointness_axiom(shared_kb: KnowledgeBase) -> None:
    verdict = dl_check.check_write(shared_kb, None, turtle("state:fra a ald:BilateralAlliance ."), [NEW_GRAPH])
    assert verdict.consistent is False
    assert verdict.explanation is not None
    assert verdict.explanation.individuals == [FRA]
    assert "ald:State owl:disjointWith ald:Alliance" in verdict.explanation.axioms
    assert "ald:BilateralAlliance rdfs:subClassOf ald:Alliance" in verdict.explanation.axioms
    assert "ald:State owl:disjointWith ald:Alliance" in verdict.message
    [clash] = verdict.explanation.clashes
    assert {w for *_, w in clash.triples} == {dl_check.THE_WRITE, data_graph_iri("states")}
    assert verdict.explanation.hermit_runs == 0  # found by look-up, no extra HermiT run


@requires_java
def test_a_consistent_write_passes(shared_kb: KnowledgeBase) -> None:
    verdict = dl_check.check_write(shared_kb, None, turtle(A_MEMBERSHIP), [NEW_GRAPH])
    assert verdict.consistent is True, verdict.message
    assert verdict.explanation is None
    assert verdict.module["touched"] == 4


@requires_java
@pytest.mark.parametrize(
    ("data", "kind", "individual", "axiom"),
    [
        (  # a range forces a disjoint type on a stored alliance
            "treaty:dl-test a ald:Treaty ; ald:signatory alliance:nato .",
            "disjoint-classes",
            NATO,
            "ald:signatory rdfs:range ald:State",
        ),
        (  # a second founding date for a stored alliance
            'alliance:nato ald:foundingDate "1950-01-01"^^xsd:date .',
            "functional-property",
            NATO,
            "ald:foundingDate a owl:FunctionalProperty",
        ),
        (  # a stored provision claimed by a new treaty: the two treaties become one, with two dates
            'treaty:dl-test a ald:Treaty ; ald:signingDate "1990-01-01"^^xsd:date ;'
            " ald:hasProvision provision:north-atlantic-treaty-article-5 .",
            "functional-property",
            f"{ID}treaty/dl-test",
            "ald:hasProvision a owl:InverseFunctionalProperty",
        ),
        (  # a value outside the datatype range
            'alliance:dl-test a ald:BilateralAlliance ; ald:foundingDate "soon" .',
            "datatype",
            f"{ID}alliance/dl-test",
            "ald:foundingDate rdfs:range xsd:date",
        ),
    ],
)
def test_clashes_are_explained_by_their_axioms(
    shared_kb: KnowledgeBase, data: str, kind: str, individual: str, axiom: str
) -> None:
    verdict = dl_check.check_write(shared_kb, None, turtle(data), [NEW_GRAPH])
    assert verdict.consistent is False
    assert verdict.explanation is not None
    clash = verdict.explanation.clashes[0]
    assert clash.kind == kind
    assert individual in clash.individuals
    assert axiom in clash.axioms, clash.axioms


@requires_java
def test_an_inconsistency_the_look_up_misses_is_narrowed_with_a_few_hermit_runs(shared_kb: KnowledgeBase) -> None:
    written = turtle(A_MEMBERSHIP + "alliance:dl-test a ald:BilateralAlliance, owl:Nothing .")
    verdict = dl_check.check_write(shared_kb, None, written, [NEW_GRAPH])
    assert verdict.consistent is False
    assert verdict.explanation is not None and not verdict.explanation.clashes
    assert f"{ID}alliance/dl-test" in verdict.explanation.narrowed
    assert len(verdict.explanation.narrowed) < verdict.module["touched"]
    assert 1 < verdict.explanation.hermit_runs <= 1 + dl_check._NARROWING_RUNS


@requires_java
def test_a_replaced_graph_does_not_count_against_its_replacement(settings: Settings) -> None:
    """A graph that typed a node as a state is replaced by one typing it as an alliance: its old
    triples (and the inferred types they gave) must not clash with the new ones."""
    kb = KnowledgeBase()
    old = turtle('thing:x a ald:State ; ald:iso3166Alpha2 "XX" .')
    kb.replace_graphs({ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file), NEW_GRAPH: old})
    materialise.materialise(kb)
    new = turtle('thing:x a ald:Alliance ; ald:foundingDate "2000-01-01"^^xsd:date .')
    assert dl_check.check_write(kb, None, new, [NEW_GRAPH]).consistent is True
    assert dl_check.check_write(kb, None, new, [data_graph_iri("other")]).consistent is False


@requires_java
def test_a_first_load_by_graph_is_checked_with_its_own_ontology(settings: Settings) -> None:
    """The gate's sources by graph, into an empty store: the ontology comes from the write."""
    sources = gate.shipped_sources(settings.ontology_file, [settings.data_dir / "nato.ttl"])
    by_graph = {s.graph: s.triples for s in sources}
    verdict = dl_check.check_write(KnowledgeBase(), None, by_graph, by_graph)
    assert verdict.consistent is True, verdict.message
    assert verdict.module["ontologyTriples"] > 500
    by_graph[data_graph_iri("nato")] = [*by_graph[data_graph_iri("nato")], *turtle("alliance:nato a ald:State .")]
    assert dl_check.check_write(KnowledgeBase(), None, by_graph, by_graph).consistent is False


@requires_java
def test_the_check_stays_small_and_bounded_on_a_store_of_20k_triples(settings: Settings) -> None:
    kb = KnowledgeBase()
    triples = generate(20_000, seed=0)
    kb.replace_graphs(
        {ONTOLOGY_GRAPH: formats.parse_file(settings.ontology_file), data_graph_iri("synthetic"): triples}
    )
    states = sorted({t.subject.value for t in triples if t.subject.value.startswith(ID + "state/")})[:13]
    text = 'alliance:dl-pact a ald:MultilateralAlliance ; ald:foundingDate "1990-01-01"^^xsd:date .\n'
    for i, state in enumerate(states):
        text += (
            f"membership:dl-pact-{i} a org:Membership ; org:member <{state}> ;"
            " org:organization alliance:dl-pact ;"
            ' org:role ald:FoundingMember ; ald:startDate "1990-06-01"^^xsd:date .\n'
        )
    verdict = dl_check.check_write(kb, None, turtle(text), [NEW_GRAPH])
    assert verdict.consistent is True, verdict.message
    # bounded by the size of the write's neighbourhood, not of the store (the time it takes is
    # measured in benchmarks/bench_dl_check.py, not asserted here)
    assert verdict.module["dataTriples"] < 1000


def test_without_java_the_check_says_so_and_does_not_raise(
    monkeypatch: pytest.MonkeyPatch, shared_kb: KnowledgeBase, ontology: rdflib.Graph
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert shutil.which("java") is None
    verdict = dl_check.check_write(shared_kb, None, turtle("state:fra a ald:Alliance ."), [NEW_GRAPH])
    assert verdict.consistent is None
    assert verdict.message.startswith("no Java runtime found")
    assert verdict.to_json()["consistent"] is None
    classification = dl_check.classify(ontology)
    assert classification.available is False
    assert classification.message.startswith("no Java runtime found")
    assert classification.to_json()["tree"] is None


# -- classification ---------------------------------------------------------------------------


@requires_java
def test_classification_puts_the_defined_class_under_alliance(ontology: rdflib.Graph, tmp_path: Path) -> None:
    result = dl_check.classify(ontology, cache_dir=tmp_path)
    assert result.available, result.message
    cda, alliance = str(ALD.CollectiveDefenceAlliance), str(ALD.Alliance)
    assert result.direct_superclasses(cda) == (alliance,)  # inferred: no rdfs:subClassOf is asserted
    assert result.direct_superclasses(str(ALD.BilateralAlliance)) == (alliance,)
    assert result.unsatisfiable == ()
    tree = result.to_json()["tree"]
    assert tree["class"] == str(rdflib.OWL.Thing)

    def find(node: dict, iri: str) -> dict | None:
        if node["class"] == iri:
            return node
        return next((f for c in node.get("subclasses", []) if (f := find(c, iri))), None)

    under = find(tree, alliance)
    assert under is not None and cda in [c["class"] for c in under["subclasses"]]
    json.dumps(result.to_json())
    cached = list(tmp_path.glob("classification-*.json"))
    assert [p.name for p in cached] == [f"classification-{result.digest}.json"]
    again = dl_check.classify(rdflib.Graph().parse(data=ontology.serialize(format="nt"), format="nt"))
    assert again.digest == result.digest and again.parents == result.parents


@requires_java
def test_classification_reports_equivalent_and_unsatisfiable_classes(ontology: rdflib.Graph) -> None:
    extra = rdflib.Graph().parse(
        data=PREFIXES
        + "ald:Polity a owl:Class ; owl:equivalentClass ald:State .\n"
        + "ald:Impossible a owl:Class ; rdfs:subClassOf ald:State , ald:Alliance .\n",
        format="turtle",
    )
    result = dl_check.classify(ontology + extra)
    assert result.equivalent_classes(str(ALD.Polity)) == (str(ALD.State),)
    assert result.unsatisfiable == (str(ALD.Impossible),)
    assert "unsatisfiable" in result.message


# -- the error --------------------------------------------------------------------------------


def _refusing_app(settings: Settings, error: AllianceldError) -> Flask:
    app = create_app({"SETTINGS": settings, "KB": KnowledgeBase(), "TESTING": True})

    def refuse() -> None:
        raise error

    app.add_url_rule("/refuse", "refuse", refuse, methods=["POST"])
    return app


@requires_java
def test_an_inconsistent_write_is_a_422_naming_individual_axiom_and_message(
    settings: Settings, shared_kb: KnowledgeBase
) -> None:
    verdict = dl_check.check_write(shared_kb, None, turtle("state:fra a ald:Alliance ."), [NEW_GRAPH])
    client = _refusing_app(settings, Inconsistent(verdict)).test_client()
    resp = client.post("/refuse")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "inconsistent"
    assert body["individuals"] == [FRA]
    assert "ald:State owl:disjointWith ald:Alliance" in body["axioms"]
    assert "ald:State owl:disjointWith ald:Alliance" in body["message"] and "nothing was written" in body["message"]
    assert body["consistency"]["explanation"]["clashes"][0]["kind"] == "disjoint-classes"
    page = client.post("/refuse", headers={"Accept": "text/html"})
    assert page.status_code == 422 and "disjointWith" in page.get_data(as_text=True)


def test_inconsistent_carries_a_verdict_without_explanation() -> None:
    verdict = materialise.Consistency(False, "HermiT", "inconsistent: ")
    error = Inconsistent(verdict)
    assert error.status == 422 and error.consistency is verdict
    assert error.to_json()["individuals"] == [] and "inconsistent" in error.message
