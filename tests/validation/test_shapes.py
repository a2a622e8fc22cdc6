"""The shapes: shipped data conforms, every hand-made bad record is caught with the expected
shape and message, valid records pass, and every constraint speaks to people."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF

from allianceld.rdf import formats
from allianceld.validation.validator import Validator
from allianceld.vocab import SH
from conftest import ROOT, TEST_DATA

INVALID = sorted((TEST_DATA / "invalid").glob("*.ttl"))
VALID = sorted((TEST_DATA / "valid").glob("*.ttl"))


def _read(path: Path) -> list[ox.Triple]:
    """The file's triples as pyoxigraph reads them, without formats' input checks: the shapes must
    catch what an importer may build (``formats.parse`` already refuses an impossible date, with its
    line and column: tests/test_corpus.py)."""
    return [q.triple for q in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)]


def _expectations(path: Path) -> tuple[str, str]:
    head = dict(
        line[1:].strip().split(":", 1)
        for line in path.read_text(encoding="utf-8").splitlines()[:5]
        if line.startswith("# expect-")
    )
    return head["expect-shape"].strip(), head["expect-message"].strip()


def test_there_are_enough_bad_records() -> None:
    assert len(INVALID) >= 15


def test_shipped_data_conforms(shared_kb, validator: Validator) -> None:
    report = validator.validate(rdflib.Graph(), shared_kb, full=True)
    assert report.accepted, report.to_text()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_bad_record_is_rejected_with_expected_shape_and_message(path: Path, validator: Validator) -> None:
    shape, message = _expectations(path)
    report = validator.validate(formats.to_rdflib(_read(path)))
    assert not report.conforms
    hits = [r for r in report.violations if r.source_shape == shape and message in r.message]
    assert hits, f"expected {shape} / {message!r}, got:\n{report.to_text()}"


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_bad_record_is_rejected_beside_the_shipped_data(path: Path, validator: Validator, shared_kb) -> None:
    shape, _message = _expectations(path)
    report = validator.validate(formats.to_rdflib(_read(path)), shared_kb)
    assert any(r.source_shape == shape for r in report.violations)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_record_conforms(path: Path, validator: Validator) -> None:
    report = validator.validate(formats.to_rdflib(_read(path)))
    assert report.accepted, report.to_text()


def _shapes() -> rdflib.Graph:
    g = rdflib.Graph()
    for f in sorted((ROOT / "shapes").glob("*.ttl")):
        g.parse(f, format="turtle")
    return g


def test_every_constraint_has_a_message() -> None:
    g = _shapes()
    property_shapes = set(g.objects(None, SH.property))
    sparql_constraints = set(g.objects(None, SH.sparql))
    assert property_shapes and sparql_constraints
    silent = [str(s) for s in property_shapes | sparql_constraints if (s, SH.message, None) not in g]
    assert silent == []


def test_both_severities_are_used() -> None:
    g = _shapes()
    severities = set(g.objects(None, SH.severity))
    assert SH.Warning in severities
    # Violation is the default severity: some shapes must rely on it or state it
    assert any((s, SH.severity, SH.Warning) not in g for s in g.subjects(RDF.type, SH.NodeShape))


def test_a_node_shape_targets_every_instance_class() -> None:
    g = _shapes()
    targets = set(g.objects(None, SH.targetClass))
    ald = "https://w3id.org/allianceld/ontology#"
    needed = {
        "Alliance",
        "State",
        "Treaty",
        "Provision",
        "Region",
        "CooperationActivity",
        "PartnershipAssessment",
        "InternationalOrganisation",
    }
    assert {rdflib.URIRef(ald + n) for n in needed} <= targets
    assert rdflib.URIRef("http://www.w3.org/ns/org#Membership") in targets
