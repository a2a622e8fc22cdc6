"""Reasoning over the shipped data: the RL closure written to its own graph, no duplicates."""

from __future__ import annotations

import rdflib
from rdflib import OWL, RDF, Literal, URIRef

from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase
from allianceld.vocab import INFERRED_GRAPH

EX = "http://example.org/"


def test_inferred_graph_never_repeats_an_asserted_triple(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.select(
        f"""SELECT (COUNT(*) AS ?n) WHERE {{
          GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }}
          GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>)
        }}"""
    )
    assert rows == [{"n": "0"}]


def test_inverse_functional_property_does_not_merge_unrelated_subjects() -> None:
    """Regression: reasonable 0.4 derived a owl:sameAs b from `a p x . b p y` when p is inverse-functional."""
    g = rdflib.Graph()
    p = URIRef(EX + "p")
    g.add((p, RDF.type, OWL.InverseFunctionalProperty))
    g.add((URIRef(EX + "a"), p, URIRef(EX + "x")))
    g.add((URIRef(EX + "b"), p, URIRef(EX + "y")))
    g.add((URIRef(EX + "c"), p, URIRef(EX + "x")))
    closed, _ = materialise.rl_closure(g)
    assert (URIRef(EX + "a"), OWL.sameAs, URIRef(EX + "b")) not in closed
    assert (URIRef(EX + "a"), OWL.sameAs, URIRef(EX + "c")) in closed


def test_identity_links_stay_out_of_rl_reasoning(shared_kb: KnowledgeBase) -> None:
    wd = "http://www.wikidata.org/entity/Q7184"
    assert shared_kb.select(f"SELECT ?p WHERE {{ <{wd}> ?p ?o }}") == []


def test_string_literals_are_not_duplicated_by_datatype() -> None:
    g = rdflib.Graph()
    g.add((URIRef(EX + "a"), URIRef(EX + "p"), Literal("x")))
    inferred, _ = materialise.inferred_graph(g)
    assert (URIRef(EX + "a"), URIRef(EX + "p"), Literal("x")) not in inferred
    assert len([t for t in inferred if t[1] == URIRef(EX + "p")]) == 0


def test_functional_property_merges_only_the_values_of_one_subject() -> None:
    """prp-fp: two values of a functional property for one subject are the same individual; values
    of different subjects are not (the rule is applied outside ``reasonable``, see rl_closure)."""
    g = rdflib.Graph()
    p = URIRef(EX + "p")
    g.add((p, RDF.type, OWL.FunctionalProperty))
    g.add((URIRef(EX + "a"), p, URIRef(EX + "x")))
    g.add((URIRef(EX + "a"), p, URIRef(EX + "y")))
    g.add((URIRef(EX + "b"), p, URIRef(EX + "z")))
    g.add((URIRef(EX + "b"), p, Literal("one")))
    closed, _ = materialise.rl_closure(g)
    assert (URIRef(EX + "x"), OWL.sameAs, URIRef(EX + "y")) in closed
    assert (URIRef(EX + "x"), OWL.sameAs, URIRef(EX + "z")) not in closed
    assert (p, RDF.type, OWL.FunctionalProperty) in closed
