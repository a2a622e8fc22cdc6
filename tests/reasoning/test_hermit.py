"""HermiT runs one way: reasoning.hermit finds Java and starts HermiT for every DL check."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from allianceld.reasoning import dl_check, hermit, materialise
from conftest import ROOT, requires_java

ONTOLOGY = ROOT / "ontology" / "allianceld.ttl"


def test_java_missing_follows_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Java is looked up once per PATH, and found again when PATH changes."""
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert hermit.java_missing() == hermit.NO_JAVA
    monkeypatch.setenv("PATH", str(tmp_path))
    assert hermit.java_missing() is None
    assert hermit.java() == str(fake)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert hermit.java_missing() == hermit.NO_JAVA


def test_every_dl_check_says_the_same_when_java_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    onto = rdflib.Graph().parse(ONTOLOGY, format="turtle")
    assert materialise.check_consistency([onto]).message == hermit.NO_JAVA
    assert dl_check.classify(onto).message == hermit.NO_JAVA
    assert hermit.run(b"", ["-k"]) == hermit.Run(None, hermit.NO_JAVA, 0.0)


def test_the_whole_store_check_and_the_classification_both_run_through_hermit_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hermit, "java_missing", lambda: None)
    actions: list[list[str]] = []

    def run(ntriples: bytes, action: list[str], **_: object) -> hermit.Run:
        actions.append(action)
        return hermit.Run(None, "HermiT failed: not run in this test", 0.0)

    monkeypatch.setattr(hermit, "run", run)
    onto = rdflib.Graph().parse(ONTOLOGY, format="turtle")
    onto.add((rdflib.URIRef("urn:x:this-test"), rdflib.RDFS.label, rdflib.Literal("not cached")))
    verdict = materialise.check_consistency([onto])
    assert (verdict.consistent, verdict.message) == (None, "HermiT failed: not run in this test")
    classification = dl_check.classify(onto)
    assert (classification.available, classification.message) == (False, "HermiT failed: not run in this test")
    assert actions == [["-c", "-I"], ["-c"]]


UNSATISFIABLE = """
@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
ex:A a owl:Class . ex:B a owl:Class ; owl:disjointWith ex:A .
ex:C a owl:Class ; rdfs:subClassOf ex:A, ex:B . ex:D a owl:Class ; rdfs:subClassOf ex:C .
"""


@requires_java
def test_the_whole_store_check_names_unsatisfiable_classes_and_refuses_their_members() -> None:
    onto = rdflib.Graph().parse(data=UNSATISFIABLE, format="turtle")
    verdict = materialise.check_consistency([onto])
    assert verdict.consistent is True
    assert verdict.message == "consistent, but unsatisfiable classes: ['http://example.org/C', 'http://example.org/D']"
    member = rdflib.Graph().parse(data="<http://example.org/i> a <http://example.org/D> .", format="turtle")
    verdict = materialise.check_consistency([onto, member])
    assert verdict.consistent is False and verdict.message.startswith("inconsistent")
