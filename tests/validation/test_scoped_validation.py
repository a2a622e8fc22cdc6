"""A write validated on its scope gets the results of a whole-store run, feature by feature.

Each case below is a shapes graph using one SHACL feature the compiler supports, data already in
a real on-disk store (in one or two named graphs) and a write replacing one graph; the write is
validated on its scope (:mod:`allianceld.validation.scope`) and over the whole store
(``full=True``), by the compiled engine and by pySHACL, and the results must agree. Each write is
built so that the result depends on data the write does not hold (a type, a second value, a
value's own triples in another graph): a scope too small misses it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, note, reject, settings

from allianceld.errors import InvalidShapes
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import plan
from allianceld.validation.report import Report
from allianceld.validation.scope import Reach, scope
from allianceld.validation.validator import Validator
from allianceld.vocab import SH, data_graph_iri
from validation.test_compiled_vs_pyshacl import data_graphs, shapes_graphs

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
"""
# a property shape with targets: the target of each target case
ON_P = "sh:path ex:p ; sh:datatype xsd:integer ; sh:message 'm'"
# (shapes, the stored graphs, the written graph and its new content, is the scope bounded?)
Case = tuple[str, dict[str, str], tuple[str, str], bool]
DECLARE = "ex:ontology sh:declare [ sh:prefix 'ex' ; sh:namespace 'http://example.org/'^^xsd:anyURI ] ."
CASES: dict[str, Case] = {
    # -- SPARQL constraints on property shapes: $PATH --------------------------------------------
    "a SPARQL constraint on a property shape, $PATH an IRI": (
        f"{DECLARE} ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:sparql [ "
        "sh:prefixes ex:ontology ; sh:select 'SELECT $this ?value WHERE { $this $PATH ?value . ?value ex:q 1 }' ] ] .",
        {"types": "ex:a a ex:C . ex:a ex:p ex:b ."},
        ("values", "ex:b ex:q 1 ."),
        True,
    ),
    "a SPARQL constraint reading any predicate, then a triple of the value": (
        f"{DECLARE} ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ "
        "sh:prefixes ex:ontology ; sh:select 'SELECT $this ?value WHERE { $this ?p ?value . ?value ex:q 1 }' ] .",
        {"one": "ex:a ex:p ex:b .", "values": "ex:b ex:q 1 ."},
        ("types", "ex:a a ex:C ."),
        True,
    ),
    "a SPARQL constraint on a property shape, $PATH a sequence": (
        f"{DECLARE} ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:r ) ; sh:sparql [ "
        "sh:prefixes ex:ontology ; sh:select 'SELECT $this ?value WHERE { $this $PATH ?value . ?value ex:q 1 }' ] ] .",
        {"types": "ex:a a ex:C . ex:a ex:p ex:b . ex:b ex:r ex:c ."},
        ("values", "ex:c ex:q 1 ."),
        False,
    ),
    # -- targets ----------------------------------------------------------------------------------
    "sh:targetClass, the type in another graph": (
        f"ex:S a sh:PropertyShape ; sh:targetClass ex:C ; {ON_P} .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 'x' ."),
        True,
    ),
    "sh:targetClass through a subclass in the data": (
        f"ex:S a sh:PropertyShape ; sh:targetClass ex:C ; {ON_P} .",
        {"classes": "ex:D rdfs:subClassOf ex:C .", "types": "ex:a a ex:D ."},
        ("values", "ex:a ex:p 'x' ."),
        True,
    ),
    "an implicit class target": (
        f"ex:C a sh:NodeShape, rdfs:Class ; sh:property [ {ON_P} ] .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 'x' ."),
        True,
    ),
    "sh:targetNode, an IRI": (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:a ; sh:path [ sh:inversePath ex:p ] ; sh:maxCount 1 ; "
        "sh:message 'm' .",
        {"one": "ex:b ex:p ex:a ."},
        ("two", "ex:c ex:p ex:a ."),
        True,
    ),
    "sh:targetNode, a literal": (
        "ex:S a sh:PropertyShape ; sh:targetNode 1 ; sh:path [ sh:inversePath ex:p ] ; sh:maxCount 1 ; "
        "sh:message 'm' .",
        {"one": "ex:b ex:p 1 ."},
        ("two", "ex:c ex:p 1 ."),
        True,
    ),
    "sh:targetNode, a node the write leaves without triples": (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:a ; sh:path ex:p ; sh:minCount 1 ; sh:message 'm' .",
        {"one": "ex:a ex:p 1 ."},
        ("one", ""),
        True,
    ),
    "sh:targetObjectsOf, a literal object": (
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:datatype xsd:integer ; sh:message 'm' .",
        {"one": "ex:b ex:p 1 ."},
        ("two", "ex:c ex:p 'x' ."),
        True,
    ),
    "sh:targetObjectsOf, a double literal (rdflib and pyoxigraph write it apart)": (
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:datatype xsd:integer ; sh:message 'm' .",
        {"one": "ex:b ex:p 1 ."},
        ("two", "ex:c ex:p 1e0 ."),
        True,
    ),
    "sh:targetObjectsOf, an IRI typed in another graph": (
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:class ex:D ; sh:message 'm' .",
        {"types": "ex:b a ex:E ."},
        ("two", "ex:c ex:p ex:b ."),
        True,
    ),
    "sh:targetObjectsOf, a string written as the IRI the write names": (
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:nodeKind sh:IRI ; sh:message 'm' .",
        {"one": "ex:a ex:p 'http://example.org/a' ."},
        ("two", "ex:a ex:q 1 ."),
        True,
    ),
    "sh:targetSubjectsOf": (
        "ex:S a sh:PropertyShape ; sh:targetSubjectsOf ex:q ; sh:path ex:p ; sh:minCount 1 ; sh:message 'm' .",
        {"one": "ex:a ex:p 1 ."},
        ("one", "ex:a ex:q 2 ."),
        True,
    ),
    "a shape with a target and no rdf:type, reading two steps": (
        "ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:class ex:D ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "types": "ex:b a ex:D ."},
        ("types", ""),
        True,
    ),
    "a blank node of the write as the focus node": (
        f"ex:S a sh:PropertyShape ; sh:targetClass ex:C ; {ON_P} ; sh:minCount 1 .",
        {"types": "ex:a a ex:C ; ex:p 1 ."},
        ("values", "[] a ex:C ."),
        True,
    ),
    # -- value constraints, on values in another graph or reached by a second step -------------------
    "sh:node reading the triples naming a value, in another graph": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node [ sh:property [ "
        "sh:path [ sh:inversePath ex:r ] ; sh:maxCount 1 ] ] ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C .", "values": "ex:c ex:r ex:b . ex:d ex:r ex:b ."},
        ("one", "ex:a ex:p ex:b ."),
        True,
    ),
    "sh:class of a value typed in another graph": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:class ex:D ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "types": "ex:b a ex:D ."},
        ("types", ""),
        True,
    ),
    "sh:datatype": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:datatype xsd:integer ; "
        "sh:message 'm' ] .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 1.5 ."),
        True,
    ),
    "sh:nodeKind": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:nodeKind sh:IRI ] .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 'x' ."),
        True,
    ),
    "sh:pattern, sh:in, sh:languageIn": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:pattern '^a' ; "
        "sh:in ( 'a' 'b' ) ; sh:languageIn ( 'en' ) ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 'b'@fr ."),
        True,
    ),
    "sh:minInclusive, sh:maxExclusive, sh:minLength": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minInclusive 2 ; "
        "sh:maxExclusive 5 ; sh:minLength 2 ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C ."},
        ("values", "ex:a ex:p 1 , 7 ."),
        True,
    ),
    "sh:hasValue": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:hasValue 1 ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C .", "values": "ex:a ex:p 1 ."},
        ("values", "ex:a ex:p 2 ."),
        True,
    ),
    # -- counts and pairs ----------------------------------------------------------------------------
    "sh:minCount, the values removed": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C .", "values": "ex:a ex:p 1 ."},
        ("values", ""),
        True,
    ),
    "sh:maxCount, values in two graphs": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:maxCount 1 ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:p 1 ."},
        ("values", "ex:a ex:p 2 ."),
        True,
    ),
    "sh:maxCount on an inverse path, from the value's side": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:inversePath ex:p ] ; "
        "sh:maxCount 1 ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C .", "one": "ex:b ex:p ex:a ."},
        ("two", "ex:c ex:p ex:a ."),
        True,
    ),
    "sh:uniqueLang": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:uniqueLang true ; "
        "sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:p 'x'@en ."},
        ("values", "ex:a ex:p 'y'@en ."),
        True,
    ),
    "sh:lessThan, the other value in another graph": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:lessThan ex:q ; "
        "sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:q 1 ."},
        ("values", "ex:a ex:p 2 ."),
        True,
    ),
    "sh:lessThanOrEquals, the other value written": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:lessThanOrEquals ex:q ; "
        "sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:p 2 ."},
        ("values", "ex:a ex:q 1 ."),
        True,
    ),
    "sh:equals": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:equals ex:q ; sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:p 1 ; ex:q 1 ."},
        ("values", "ex:a ex:q 2 ."),
        True,
    ),
    "sh:disjoint": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:disjoint ex:q ; "
        "sh:message 'm' ] .",
        {"types": "ex:a a ex:C ; ex:p 1 ."},
        ("values", "ex:a ex:q 1 ."),
        True,
    ),
    "sh:qualifiedValueShape, the values' types in another graph": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; "
        "sh:qualifiedValueShape [ sh:class ex:D ] ; sh:qualifiedMaxCount 1 ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b , ex:c .", "types": "ex:b a ex:D ."},
        ("types", "ex:b a ex:D . ex:c a ex:D ."),
        True,
    ),
    "sh:qualifiedValueShapesDisjoint: a sibling shape reads the values' own triples": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:message 'm' ; "
        "sh:qualifiedValueShape [ sh:nodeKind sh:IRI ] ; sh:qualifiedMinCount 1 ; "
        "sh:qualifiedValueShapesDisjoint true ] ; "
        "sh:property [ sh:path ex:q ; sh:qualifiedValueShape [ sh:property [ sh:path ex:r ; sh:minCount 1 ] ] ; "
        "sh:qualifiedMinCount 0 ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b ."},
        ("values", "ex:b ex:r 1 ."),
        True,
    ),
    # -- logical constraints and nested shapes ---------------------------------------------------------
    "sh:or of classes": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; "
        "sh:or ( [ sh:class ex:D ] [ sh:class ex:E ] ) ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "types": "ex:b a ex:D ."},
        ("types", "ex:b a ex:F ."),
        True,
    ),
    "sh:not": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:not [ sh:class ex:D ] ; "
        "sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b ."},
        ("types", "ex:b a ex:D ."),
        True,
    ),
    "sh:and, sh:xone": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; "
        "sh:and ( [ sh:nodeKind sh:IRI ] [ sh:class ex:D ] ) ; sh:xone ( [ sh:class ex:D ] [ sh:class ex:E ] ) ; "
        "sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "types": "ex:b a ex:D ."},
        ("types", "ex:b a ex:D , ex:E ."),
        True,
    ),
    "sh:node with a property shape of its own (two steps)": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:N ; "
        "sh:message 'm' ] . ex:N a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "values": "ex:b ex:q 1 ."},
        ("values", ""),
        True,
    ),
    "sh:node on a node shape, read through the value's type": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node [ sh:property [ sh:path ex:p ; sh:class ex:D ] ] ; "
        "sh:message 'm' .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "types": "ex:b a ex:D ."},
        ("types", ""),
        True,
    ),
    "sh:closed": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ; sh:ignoredProperties ( rdf:type ) ; "
        "sh:property [ sh:path ex:p ] ; sh:message 'm' .",
        {"types": "ex:a a ex:C ; ex:p 1 ."},
        ("values", "ex:a ex:q 1 ."),
        True,
    ),
    "sh:closed in a nested shape: every predicate of a value": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:message 'm' ; "
        "sh:node [ sh:closed true ; sh:property [ sh:path ex:q ] ] ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b ."},
        ("values", "ex:b ex:r 1 ."),
        True,
    ),
    # -- paths -------------------------------------------------------------------------------------------
    "a sequence path": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:maxCount 1 ; "
        "sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b .", "values": "ex:b ex:q 1 ."},
        ("more", "ex:b ex:q 2 ."),
        True,
    ),
    "an alternative path": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:alternativePath ( ex:p ex:q ) ] ; "
        "sh:maxCount 1 ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p 1 ."},
        ("more", "ex:a ex:q 2 ."),
        True,
    ),
    "a zero-or-one path": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:zeroOrOnePath ex:p ] ; "
        "sh:class ex:C ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ."},
        ("more", "ex:a ex:p ex:b ."),
        True,
    ),
    "a zero-or-more path: unbounded, everything is validated": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; "
        "sh:class ex:C ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b . ex:b a ex:C ; ex:p ex:c . ex:c a ex:C ."},
        ("more", "ex:c ex:p ex:d ."),
        False,
    ),
    "a one-or-more inverse path: unbounded": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:oneOrMorePath "
        "[ sh:inversePath ex:p ] ] ; sh:maxCount 2 ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C . ex:b ex:p ex:a . ex:c ex:p ex:b ."},
        ("more", "ex:d ex:p ex:c ."),
        False,
    ),
    # -- SHACL-SPARQL --------------------------------------------------------------------------------
    "a SPARQL constraint reading two steps": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message 'm' ; sh:sparql [ sh:select "
        "'SELECT $this ?value WHERE { $this <http://example.org/p> ?b . ?b <http://example.org/q> ?value . "
        "FILTER(isLiteral(?value)) }' ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b ."},
        ("values", "ex:b ex:q 'x' ."),
        True,
    ),
}


def _graph(turtle: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=PREFIXES + turtle, format="turtle")


def _key(report: Report) -> list[tuple[str, ...]]:
    """The results, blank node labels left out (the two runs copy blank nodes apart)."""
    return sorted(
        tuple(
            re.sub(r"_:\w+", "_:b", v) if v else ""
            for v in (r.severity, r.focus_node, r.path, r.value, r.source_shape, r.constraint)
        )
        for r in report.results
    )


def _setup(tmp_path: Path, case: Case, engine: str) -> tuple[Validator, KnowledgeBase, rdflib.Graph, str]:
    shapes, stored, (graph, new), _bounded = case
    shapes_file = tmp_path / "shapes.ttl"
    shapes_file.write_text(PREFIXES + shapes)
    validator = Validator([shapes_file], rdflib.Graph(), engine=engine)
    kb = KnowledgeBase(tmp_path / "store")
    kb.replace_graphs({data_graph_iri(name): formats.from_rdflib(_graph(ttl)) for name, ttl in stored.items()})
    return validator, kb, _graph(new), data_graph_iri(graph)


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
@pytest.mark.parametrize("name", list(CASES))
def test_a_write_validated_on_its_scope_gets_the_whole_stores_results(tmp_path: Path, name: str, engine: str) -> None:
    validator, kb, data, graph = _setup(tmp_path, CASES[name], engine)
    try:
        if engine == "sparql":
            assert validator.plan.fallback == {}, validator.plan.fallback  # the compiled engine, not a fallback
        full = validator.validate(data, kb, replacing=[graph], full=True)
        assert full.results, "the case must give a result"
        scoped = validator.validate(data, kb, replacing=[graph])
        assert _key(scoped) == _key(full), (scoped.to_text(), full.to_text())
    finally:
        kb.close()


@pytest.mark.parametrize("name", list(CASES))
def test_the_scope_is_bounded_where_the_shapes_read_a_bounded_distance(tmp_path: Path, name: str) -> None:
    """Scoped validation is used (not a whole-store run) unless a path repeats over the data."""
    shapes, _stored, _write, bounded = CASES[name]
    g = _graph(shapes)
    assert plan(g).fallback == {}
    assert Reach.of(g).bounded == bounded
    validator, kb, data, graph = _setup(tmp_path, CASES[name], "sparql")
    try:
        assert (scope(kb, data, [graph], validator.reach) is not None) == bounded
    finally:
        kb.close()


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_write_of_the_class_hierarchy_is_validated_with_the_whole_store(tmp_path: Path, engine: str) -> None:
    """A subclass axiom written into the data makes the instances of a class (and of those below)
    focus nodes of its shapes, nodes the write does not name: the whole store is validated."""
    case: Case = (
        f"ex:S a sh:PropertyShape ; sh:targetClass ex:C ; {ON_P} .",
        {"types": "ex:a a ex:D ; ex:p 'x' ."},
        ("classes", "ex:D rdfs:subClassOf ex:C ."),
        True,
    )
    validator, kb, data, graph = _setup(tmp_path, case, engine)
    try:
        assert scope(kb, data, [graph], validator.reach) is None
        full = validator.validate(data, kb, replacing=[graph], full=True)
        assert [r.focus_node for r in full.results] == ["http://example.org/a"]
        assert _key(validator.validate(data, kb, replacing=[graph])) == _key(full)
    finally:
        kb.close()


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_blank_value_node_is_described_by_its_triples(tmp_path: Path, engine: str) -> None:
    """A report's graph describes a blank node it names by the data's triples about it, those the
    shapes do not read included: the scope reads every triple of a blank node one step away."""
    case: Case = (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:class ex:D ; sh:message 'm' ] .",
        {"one": "ex:a a ex:C ; ex:p [ a ex:E ; ex:name 'b' ] ."},
        ("two", "ex:a ex:q 1 ."),
        True,
    )
    validator, kb, data, graph = _setup(tmp_path, case, engine)
    try:
        for full in (True, False):
            report = validator.validate(data, kb, replacing=[graph], full=full)
            g = report.graph
            values = list(g.objects(None, SH.value))
            assert len(values) == 1 and isinstance(values[0], rdflib.BNode), report.to_text()
            name = g.value(values[0], rdflib.URIRef("http://example.org/name"))
            assert name == rdflib.Literal("b"), report.to_turtle()
    finally:
        kb.close()


def test_a_stored_value_is_read_as_stored(tmp_path: Path) -> None:
    """A stored date with a time zone (rdflib reads it without): the scoped run sees the value the
    whole-store run sees."""
    case: Case = (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:d ; sh:maxLength 10 ; sh:message 'm' ] .",
        {},
        ("two", "ex:a ex:q 1 ."),
        True,
    )
    validator, kb, data, graph = _setup(tmp_path, case, "sparql")
    stored = PREFIXES + "ex:a a ex:C ; ex:d '2001-01-01Z'^^xsd:date ."
    kb.replace_graphs({data_graph_iri("one"): formats.parse(stored, ox.RdfFormat.TURTLE, source="test")})
    try:
        full = validator.validate(data, kb, replacing=[graph], full=True)
        assert [r.value for r in full.results] == ['"2001-01-01Z"^^<http://www.w3.org/2001/XMLSchema#date>']
        assert _key(validator.validate(data, kb, replacing=[graph])) == _key(full)
    finally:
        kb.close()


COMPONENT = """
ex:LiteralTwoStepsOn a sh:ConstraintComponent ;
    sh:parameter [ sh:path ex:literalNext ] ;
    sh:propertyValidator [ a sh:SPARQLSelectValidator ; sh:message 'm' ; sh:select
        "SELECT $this ?value WHERE { $this $PATH ?value . ?value ex:q ?x . FILTER(isLiteral(?x)) }" ;
        sh:prefixes ex:prefixes ] .
ex:prefixes sh:declare [ sh:prefix 'ex' ; sh:namespace 'http://example.org/'^^xsd:anyURI ] .
"""


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_sparql_based_constraint_component_reads_beyond_its_own_patterns(tmp_path: Path, engine: str) -> None:
    """A component's query reads the value nodes of whatever path uses it ($PATH, here two steps)
    and then its own patterns: three steps from the focus node, so the whole store is validated."""
    case: Case = (
        COMPONENT + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ( ex:p ex:r ) ; ex:literalNext true ] .",
        {"one": "ex:a a ex:C ; ex:p ex:b . ex:b ex:r ex:c ."},
        ("values", "ex:c ex:q 'x' ."),
        False,
    )
    validator, kb, data, graph = _setup(tmp_path, case, engine)
    try:
        assert not validator.reach.bounded
        full = validator.validate(data, kb, replacing=[graph], full=True)
        assert [r.focus_node for r in full.results] == ["http://example.org/a"], full.to_text()
        assert _key(validator.validate(data, kb, replacing=[graph])) == _key(full)
    finally:
        kb.close()


def test_a_sparql_constraint_that_does_not_parse_is_read_as_unbounded(tmp_path: Path) -> None:
    """The engines name what is wrong with it; deriving the reads does not stop the validator."""
    shapes = _graph(
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:sparql [ sh:select 'SELECT $this WHERE { $this foo:bar ?x }' ] ."
    )
    assert not Reach.of(shapes).bounded
    (tmp_path / "shapes.ttl").write_text(shapes.serialize(format="turtle"))
    assert Validator([tmp_path / "shapes.ttl"], rdflib.Graph()).plan.fallback  # built; the shape falls back


# -- drawn shapes and writes ------------------------------------------------------------------------

SCOPE_PROFILE = settings(  # ALLIANCELD_SCOPE_EXAMPLES=1000 for a longer, random hunt; CI runs the same examples
    max_examples=int(os.environ.get("ALLIANCELD_SCOPE_EXAMPLES") or "60"),
    deadline=None,
    derandomize=not os.environ.get("ALLIANCELD_SCOPE_EXAMPLES"),
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def drawn_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KnowledgeBase, Path]]:
    """One on-disk store whose two graphs each drawn example rewrites, and a folder for its shapes."""
    work = tmp_path_factory.mktemp("drawn")
    kb = KnowledgeBase(work / "store")
    yield kb, work
    kb.close()


def _mixed_case_literal_focus(shapes: rdflib.Graph, written: rdflib.Graph) -> bool:
    """A written literal with an upper-case language tag, and shapes that may make it a focus node."""
    targets = (None, SH.targetObjectsOf, None) in shapes or (None, SH.targetNode, None) in shapes
    return targets and any(
        isinstance(o, rdflib.Literal) and (o.language or "") != (o.language or "").lower() for o in written.objects()
    )


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_literal_focus_node_with_a_mixed_case_language_tag(tmp_path: Path, engine: str) -> None:
    """Reports name a language-tagged literal with its tag in lower case, as the store keeps it:
    the scope's focus nodes (rdflib terms, tag as written) and the compiled engine's results agree."""
    case: Case = (
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:datatype xsd:string ; sh:message 'm' .",
        {"one": "ex:b ex:p 'a' ."},
        ("two", "ex:c ex:p 'b'@en-GB ."),
        True,
    )
    validator, kb, data, graph = _setup(tmp_path, case, engine)
    try:
        full = validator.validate(data, kb, replacing=[graph], full=True)
        assert full.results
        assert _key(validator.validate(data, kb, replacing=[graph])) == _key(full)
    finally:
        kb.close()


@SCOPE_PROFILE
@given(shapes=shapes_graphs(), one=data_graphs(), two=data_graphs(), written=data_graphs())
def test_a_drawn_write_is_judged_on_its_scope_as_on_the_whole_store(
    drawn_store: tuple[KnowledgeBase, Path],
    shapes: rdflib.Graph,
    one: rdflib.Graph,
    two: rdflib.Graph,
    written: rdflib.Graph,
) -> None:
    """Shapes drawn as the compiler-vs-pySHACL test draws them; the store holds two drawn graphs and
    the write replaces the first with a third. The store is not valid before the write, so the
    whole-store run reports what was there already: the scoped run must report every result the
    write adds, and only results of the whole-store run."""
    kb, work = drawn_store
    if _mixed_case_literal_focus(shapes, written):
        reject()  # a known difference: test_a_literal_focus_node_with_a_mixed_case_language_tag
    note(shapes.serialize(format="turtle"))
    for name, g in (("one", one), ("two", two), ("written", written)):
        note(f"{name}: {g.serialize(format='nt')}")
    (work / "shapes.ttl").write_text(shapes.serialize(format="turtle"))
    validator = Validator([work / "shapes.ttl"], rdflib.Graph())
    stored = {data_graph_iri("one"): formats.from_rdflib(one), data_graph_iri("two"): formats.from_rdflib(two)}
    kb.replace_graphs(stored)
    graph = [data_graph_iri("one")]
    try:
        before = Counter(_key(validator.validate(kb.rdflib_graph(graph), kb, replacing=graph, full=True)))
        full = validator.validate(written, kb, replacing=graph, full=True)
        scoped = validator.validate(written, kb, replacing=graph)
    except InvalidShapes as exc:  # pySHACL stops on sh:lessThan with a blank node (test_compiled_vs_pyshacl)
        assert "to compare a BlankNode" in str(exc)
        reject()
    # the drawn store may hold results already: the scoped run finds every new one, and nothing else
    new, found = Counter(_key(full)) - before, Counter(_key(scoped))
    assert not new - found and not found - Counter(_key(full)), (scoped.to_text(), full.to_text())


_MEMBERSHIP = """@prefix org: <http://www.w3.org/ns/org#> . @prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/allianceld/id/membership/{name}> a org:Membership ;
  org:member <https://w3id.org/allianceld/id/state/{state}> ;
  org:organization <https://w3id.org/allianceld/id/alliance/nato> ; {more} ald:startDate "{start}"^^xsd:date ."""


def _membership(name: str, state: str, start: str, more: str = "") -> list[ox.Triple]:
    text = _MEMBERSHIP.format(name=name, state=state, start=start, more=more)
    return formats.parse(text, ox.RdfFormat.TURTLE, source="test")


def test_a_scoped_reports_graph_holds_only_its_results(loaded_kb: KnowledgeBase, write_policy) -> None:
    """The records read around a write may hold findings of their own (here a membership stored by
    force, starting before NATO): they are not the write's results, and the report's Turtle says
    nothing of them either: it conforms when the results are none, and lists only the results."""
    from allianceld.write import gate

    stray = _membership("stray", "jpn", "1940-01-01")
    gate.commit(loaded_kb, write_policy, [gate.Source(data_graph_iri("stray"), stray, "test")], force=True)
    source = "prov:wasDerivedFrom <https://www.nato.int/cps/en/natohq/topics_52044.htm> ; org:role ald:Partner ;"
    validator = write_policy.validator
    for name, start, count in (("fine", "2001-01-01", 0), ("early", "1941-01-01", 1)):
        written = formats.to_rdflib(_membership(name, "kor", start, source))
        report = validator.validate(written, loaded_kb, replacing=[data_graph_iri(name)])
        assert len(report.violations) == count and all("stray" not in r.focus_node for r in report.results)
        graph = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
        [root] = graph.subjects(rdflib.RDF.type, SH.ValidationReport)
        assert graph.value(root, SH.conforms).toPython() is report.conforms
        assert len(set(graph.objects(root, SH.result))) == len(report.results)
        assert len(set(graph.subjects(rdflib.RDF.type, SH.ValidationResult))) == len(report.results)
        assert not any("stray" in str(o) for o in graph.objects(None, SH.focusNode))
