"""A large write's validation run in a forked child process (``Validator.begin_bulk(beside=True)``)
gives the report it gives when run here: the same results, the same report graph (with the data's
blank nodes described), the same Warnings kept; a child that fails is replaced by the work done here."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from allianceld.errors import RdfSyntaxError
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import SparqlValidator
from allianceld.validation.report import Report
from allianceld.validation.validator import Validator
from allianceld.vocab import data_graph_iri
from conftest import TEST_DATA

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="no fork, or one core")

# a blank node alliance with no founding date: a Violation about a blank focus node, whose report
# describes it by its triples
BLANK = """
@prefix ald: <https://w3id.org/allianceld/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
[] a ald:MultilateralAlliance ; rdfs:label "Nameless pact"@en ; ald:note [ rdfs:label "inner"@en ] .
"""


def _invalid_write() -> list[ox.Triple]:
    triples = []
    for path in sorted((TEST_DATA / "invalid").glob("membership-*.ttl")):
        with contextlib.suppress(RdfSyntaxError):  # a literal the parser refuses: not for validation
            triples += formats.parse_file(path)
    return triples + [q.triple for q in ox.parse(BLANK.encode(), format=ox.RdfFormat.TURTLE)]


def _spied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Where each validation's process id is written (the child's, when it runs beside)."""
    pids = tmp_path / "pids"
    real = SparqlValidator.detached

    def detached(self: SparqlValidator, *parts: object) -> object:
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(self, *parts)  # type: ignore[arg-type]

    monkeypatch.setattr(SparqlValidator, "detached", detached)
    return pids


def _same(a: Report, b: Report) -> None:
    assert a.results == b.results
    assert isomorphic(rdflib.Graph().parse(data=a.to_turtle()), rdflib.Graph().parse(data=b.to_turtle()))


def test_a_report_made_beside_equals_one_made_here(
    validator: Validator, shipped_store: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = _spied(monkeypatch, tmp_path)
    shipped_store.snapshot(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store")
    try:
        triples = _invalid_write()
        here = validator.begin_bulk(triples, kb, replacing=[data_graph_iri("bulk")]).report()
        bulk = validator.begin_bulk(triples, kb, replacing=[data_graph_iri("bulk")], beside=True)
        assert bulk.beside
        beside = bulk.report()
    finally:
        kb.close()
    assert here.violations and here.warnings  # both kinds, and kept warnings pruned in the parent
    assert any(r.focus_node.startswith("_:") for r in here.violations)
    graph = rdflib.Graph().parse(data=here.to_turtle())
    assert (None, rdflib.RDFS.label, rdflib.Literal("Nameless pact", lang="en")) in graph  # described
    _same(here, beside)
    here_pid, child_pid = map(int, pids.read_text().split())
    assert here_pid == os.getpid() != child_pid


def test_a_child_that_fails_is_replaced_by_the_work_done_here(
    validator: Validator,
    shipped_store: KnowledgeBase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = os.getpid()
    real = SparqlValidator.detached

    def dies_in_the_child(self: SparqlValidator, *parts: object) -> object:
        if os.getpid() != parent:
            os._exit(3)
        return real(self, *parts)  # type: ignore[arg-type]

    monkeypatch.setattr(SparqlValidator, "detached", dies_in_the_child)
    shipped_store.snapshot(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store")
    try:
        triples = _invalid_write()
        with caplog.at_level(logging.INFO, logger="allianceld.forked"):
            bulk = validator.begin_bulk(triples, kb, beside=True)
            assert bulk.beside
            beside = bulk.report()
        here = validator.begin_bulk(triples, kb).report()
    finally:
        kb.close()
    assert "the work is done here" in caplog.text
    _same(here, beside)
