"""SPARQL-based constraint components and SPARQL constraints on property shapes, compiled: the
same results as pySHACL, and the shapes really compile (no fallback)."""

from __future__ import annotations

from collections import Counter

import pytest
import rdflib

from allianceld.validation.compiled import SparqlValidator, plan
from validation.test_compiled_vs_pyshacl import _graphs, assert_same, compiled_results, pyshacl_results

DECLARE = "ex:ontology sh:declare [ sh:prefix 'ex' ; sh:namespace 'http://example.org/'^^xsd:anyURI ] .\n"
ASK_COMPONENT = (
    DECLARE + "ex:Concat a sh:ConstraintComponent ; "
    "sh:parameter [ sh:path ex:first ] , [ sh:path ex:second ; sh:optional true ] ; "
    "sh:validator [ a sh:SPARQLAskValidator ; sh:prefixes ex:ontology ; sh:message 'not {$first}' ; "
    "sh:ask 'ASK { FILTER (STR($value) = CONCAT($first, COALESCE($second, \"\"))) }' ] .\n"
)
SELECT_COMPONENT = (
    DECLARE
    + "ex:Component rdfs:subClassOf sh:ConstraintComponent .\n"
    + "ex:Lang a ex:Component ; sh:parameter [ sh:path ex:lang ] ; sh:propertyValidator [ a sh:SPARQLSelectValidator ; "
    "sh:prefixes ex:ontology ; sh:select 'SELECT DISTINCT $this ?value WHERE { $this $PATH ?value . "
    "FILTER (!isLiteral(?value) || !langMatches(lang(?value), $lang)) }' ] .\n"
)
DATA = (
    'ex:n0 a ex:C ; ex:p "ab" , "a" , "b"@de , "c"@en ; ex:q ex:n1 . ex:n1 ex:p "ab"@de , ex:n2 . '
    'ex:n3 a ex:C ; ex:p "abc" .'
)

CASES = {
    "an ASK validator on a node shape": ASK_COMPONENT
    + "ex:S a sh:NodeShape ; sh:targetNode 'ab', 'a' ; ex:first 'a' .",
    "an ASK validator with its optional parameter": ASK_COMPONENT
    + "ex:S a sh:NodeShape ; sh:targetNode 'ab', 'a' ; ex:first 'a' ; ex:second 'b' .",
    "a component not used (a parameter missing)": ASK_COMPONENT
    + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:second 'b' .",
    "a SELECT validator with $PATH": SELECT_COMPONENT
    + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; ex:lang 'de' ] .",
    "a SELECT validator with a sequence path": SELECT_COMPONENT
    + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:q ex:p ) ; ex:lang 'en' ] .",
    "a SPARQL constraint on a property shape": DECLARE
    + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:sparql [ sh:prefixes ex:ontology ; "
    "sh:select 'SELECT $this ?value WHERE { $this $PATH ?value . FILTER (lang(?value) = \"\") }' ] ] .",
    "a SPARQL constraint on a targeted property shape with an inverse path": DECLARE
    + "ex:S a sh:PropertyShape ; sh:targetNode ex:n1 ; sh:path [ sh:inversePath ex:q ] ; sh:sparql [ "
    "sh:prefixes ex:ontology ; sh:select 'SELECT $this ?value WHERE { $this $PATH ?value . ?value a ex:C }' ] .",
}


NOT_A_COMPONENT = (  # sh:parameter on a node that is not declared a constraint component: no constraint
    DECLARE + "ex:Concat sh:parameter [ sh:path ex:first ] ; sh:validator [ sh:prefixes ex:ontology ; "
    "sh:ask 'ASK { FILTER (false) }' ] . ex:S a sh:NodeShape ; sh:targetNode 'ab' ; ex:first 'a' ."
)
CASES["sh:parameter without a constraint component"] = NOT_A_COMPONENT


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_as_pyshacl_validates(name: str) -> None:
    assert_same(*_graphs(CASES[name], DATA))


def test_an_ask_validator_on_a_property_shape_reports_the_value() -> None:
    """SHACL 6.3.2 turns an ASK validator of a property shape into ``SELECT $this ?value WHERE {
    $this $PATH ?value . FILTER NOT EXISTS {...} }``: each result has its value node as sh:value.
    pySHACL leaves the value out there; otherwise the results are the same."""
    shapes, data = _graphs(
        ASK_COMPONENT
        + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; ex:first 'a' ; ex:second 'b' ] .",
        DATA,
    )
    assert plan(shapes).fallback == {}
    compiled = compiled_results(shapes, data)
    assert sorted(value for _f, _p, value, *_ in compiled) == ['"a"', '"abc"', '"b"@de', '"c"@en']
    assert Counter((f, p, None, *rest) for f, p, _v, *rest in compiled.elements()) == pyshacl_results(shapes, data)


def test_current_shape_and_shapes_graph_are_substituted_as_pre_bound() -> None:
    """$currentShape and $shapesGraph are the same for every focus node: written in as terms,
    BOUND of them true, even inside nested groups; the shapes graph is a named graph of the run."""
    shapes = (
        DECLARE + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:limit 2 ; sh:sparql [ sh:prefixes ex:ontology ; "
        "sh:select 'SELECT $this WHERE { FILTER bound($shapesGraph) GRAPH $shapesGraph { "
        "FILTER bound($currentShape) $currentShape ex:limit ?n } $this ex:count ?c FILTER (?c > ?n) }' ] ."
    )
    g, data = _graphs(shapes, "ex:n0 a ex:C ; ex:count 3 . ex:n3 a ex:C ; ex:count 1 .")
    assert plan(g).fallback == {}
    report = SparqlValidator(g, rdflib.Graph()).validate(data)
    assert [r.focus_node for r in report.results] == ["http://example.org/n0"]


def test_a_filter_on_this_inside_graph_falls_back() -> None:
    """A FILTER on $this inside GRAPH {...} would run before the focus node is joined: not compiled."""
    shapes = (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ "
        "sh:select 'SELECT $this WHERE { GRAPH ?g { ?s ?p ?o FILTER (?s = $this) } }' ] ."
    )
    g, _data = _graphs(shapes, "")
    (reason,) = plan(g).fallback.values()
    assert "FILTER on a pre-bound variable" in reason


def test_a_message_takes_a_value_with_a_backslash_as_written() -> None:
    """A value filled into a message is text, not a regular-expression replacement (a backslash
    and a digit there were read as a group reference, and the validation failed)."""
    shapes = DECLARE + (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:message 'bad {?value}' ; sh:prefixes ex:ontology ; "
        "sh:select 'SELECT $this ?value WHERE { $this ex:code ?value }' ] ."
    )
    g, data = _graphs(shapes, 'ex:n0 a ex:C ; ex:code "a\\\\1" .')
    report = SparqlValidator(g, rdflib.Graph()).validate(data)
    assert [r.message for r in report.results] == ["bad a\\1"]
