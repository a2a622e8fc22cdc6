"""The pySHACL engine parses each SPARQL text once, without changing rdflib for the process."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.plugins.sparql import processor

from allianceld.validation import fallback, validator
from allianceld.validation.validator import Validator

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:Shape a sh:NodeShape ; sh:targetClass ex:Thing ;
  sh:sparql [ sh:message "has no label" ; sh:prefixes ex: ;
    sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://www.w3.org/2000/01/rdf-schema#label> ?l } }" ] .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] .
"""


def test_importing_the_validator_leaves_rdflibs_query_processor_as_it_is() -> None:
    assert validator.Validator is not None
    assert processor.SPARQLProcessor.query.__module__ == "rdflib.plugins.sparql.processor"


def _things(n: int) -> rdflib.Graph:
    return rdflib.Graph().parse(
        data="\n".join(f"<http://example.org/t{i}> a <http://example.org/Thing> ." for i in range(n)), format="turtle"
    )


def test_the_pyshacl_engine_parses_a_constraint_once_whatever_the_focus_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES, encoding="utf-8")
    engine = Validator([shapes], rdflib.Graph(), engine="pyshacl")
    parsed: list[str] = []
    real = processor.parseQuery
    monkeypatch.setattr(processor, "parseQuery", lambda q: parsed.append(q) or real(q))
    counts = []
    for n in (2, 20):
        fallback._prepared.cache_clear()
        before = len(parsed)
        report = engine.validate(_things(n))
        assert len(report.violations) == n
        counts.append(len(parsed) - before)
    assert counts[0] == counts[1]
