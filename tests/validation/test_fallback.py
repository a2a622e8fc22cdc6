"""Shapes the compiler leaves to pySHACL: validated alone, reported as the spec says."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from allianceld.errors import InvalidShapes
from allianceld.validation.validator import Validator

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
# xsd:byte's lexical space is not checked by the compiler: a shape using it falls back
FALLS_BACK = "sh:property [ sh:path ex:size ; sh:datatype xsd:byte ]"


def _validator(tmp_path: Path, shapes: str) -> Validator:
    f = tmp_path / "shapes.ttl"
    f.write_text(PREFIXES + shapes, encoding="utf-8")
    return Validator([f], rdflib.Graph())


def _data(ttl: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=PREFIXES + ttl, format="turtle")


def test_one_shape_falls_back_alone(tmp_path: Path) -> None:
    validator = _validator(
        tmp_path,
        f"ex:Odd a sh:NodeShape ; sh:targetClass ex:C ; {FALLS_BACK} .\n"
        "ex:Plain a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .",
    )
    assert [s for s, how, _why in validator.shape_plan() if how == "fallback"] == ["http://example.org/Odd"]
    report = validator.validate(_data("ex:a a ex:C ; ex:size 'big' ."))
    found = sorted((r.constraint or "").rsplit("#", 1)[-1] for r in report.results)
    assert found == ["DatatypeConstraintComponent", "MinCountConstraintComponent"] and not report.conforms


def test_a_nested_shapes_results_are_details_not_results(tmp_path: Path) -> None:
    """pySHACL lists a failing sh:node's own results as sh:detail: one result, as compiled."""
    shapes = f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:Named ; {FALLS_BACK} .\n"
    shapes += "ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] ."
    report = _validator(tmp_path, shapes).validate(_data("ex:a a ex:C ."))
    assert [r.constraint for r in report.results] == ["http://www.w3.org/ns/shacl#NodeConstraintComponent"]


def test_a_failing_nested_warning_shape_does_not_conform(tmp_path: Path) -> None:
    """SHACL 3.4: a node conforms to a shape only when validating it gives no result at all."""
    shapes = f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {FALLS_BACK} ; sh:not ex:Named .\n"
    shapes += "ex:Named a sh:NodeShape ; sh:severity sh:Warning ; sh:property [ sh:path ex:name ; sh:maxCount 0 ] ."
    report = _validator(tmp_path, shapes).validate(_data("ex:a a ex:C ; ex:name 'x' ."))
    assert report.results == []  # ex:a fails ex:Named (a Warning), so it conforms to sh:not ex:Named


def test_pyshacl_stopping_on_the_data_is_an_error_that_says_so(tmp_path: Path) -> None:
    shapes = f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {FALLS_BACK} ; "
    shapes += "sh:property [ sh:path ex:start ; sh:lessThan ex:end ] ."
    with pytest.raises(InvalidShapes, match="cannot validate these shapes on this data"):
        _validator(tmp_path, shapes).validate(_data("ex:a a ex:C ; ex:start [] ; ex:end 1 ."))
