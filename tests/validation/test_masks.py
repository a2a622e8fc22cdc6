"""The checks of one compiled query are evaluated once per distinct text, each failing check still
reported by its own shape (``compiled._mask``)."""

from __future__ import annotations

import rdflib

from allianceld.validation.compiled import SparqlValidator

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:A a sh:NodeShape ; sh:targetClass ex:C1 ; sh:property ex:AD .
ex:AD sh:path ex:d ; sh:datatype xsd:date ; sh:maxLength 10 .
ex:B a sh:NodeShape ; sh:targetClass ex:C2 ; sh:property ex:BD .
ex:BD sh:path ex:d ; sh:datatype xsd:date ; sh:minLength 2 .
"""
DATA = """@prefix ex: <http://example.org/> .
ex:both a ex:C1 , ex:C2 ; ex:d "x" .
ex:one a ex:C1 ; ex:d "01234567890" .
ex:fine a ex:C1 , ex:C2 ; ex:d "2024-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .
"""


def test_a_check_two_shapes_share_is_evaluated_once_and_reported_for_each() -> None:
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    validator = SparqlValidator(shapes, rdflib.Graph())
    along = [q.text for q in validator.compiled.queries if "?_in1" in q.text and "DATATYPE(?value)" in q.text]
    assert len(along) == 1 and along[0].count("sameTerm(DATATYPE(?value)") == 1, along
    report = validator.validate(rdflib.Graph().parse(data=DATA, format="turtle"))
    found = sorted(
        (r.focus_node.rsplit("/", 1)[-1], r.source_shape.rsplit("/", 1)[-1], r.constraint.rsplit("#")[-1])
        for r in report.results
    )
    assert found == [
        ("both", "AD", "DatatypeConstraintComponent"),
        ("both", "BD", "DatatypeConstraintComponent"),
        ("both", "BD", "MinLengthConstraintComponent"),
        ("one", "AD", "DatatypeConstraintComponent"),
        ("one", "AD", "MaxLengthConstraintComponent"),
    ]
