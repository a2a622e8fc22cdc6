"""A large write's validation run in a forked child process (``Validator.begin_bulk(beside=True)``)
gives the report it gives when run here: the same results, the same report graph (with the data's
blank nodes described), the same Warnings kept; a child that fails is replaced by the work done here.
Each check runs in a new interpreter (``in_a_new_process``): a fork needs the process to have no
other thread."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from allianceld.config import Settings
from allianceld.errors import RdfSyntaxError
from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import SparqlValidator
from allianceld.validation.report import Report
from allianceld.validation.validator import Validator
from allianceld.vocab import data_graph_iri
from conftest import ROOT, TEST_DATA, in_a_new_process

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


def _spied(pids: Path) -> None:
    """Each validation's process id written to ``pids`` (the child's, when it runs beside)."""
    real = SparqlValidator.detached

    def detached(self: SparqlValidator, *parts: object) -> object:
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(self, *parts)  # type: ignore[arg-type]

    SparqlValidator.detached = detached  # type: ignore[method-assign]


def _same(a: Report, b: Report) -> None:
    assert a.results == b.results
    assert isomorphic(rdflib.Graph().parse(data=a.to_turtle()), rdflib.Graph().parse(data=b.to_turtle()))


def _made_beside_and_here(store: Path, pids: Path) -> None:
    """In a new process: the same write's report made here and beside."""
    _spied(pids)
    validator = Validator.from_settings(Settings(store_path=None, home=ROOT))
    kb = KnowledgeBase(store)
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


def test_a_report_made_beside_equals_one_made_here(shipped_store: KnowledgeBase, tmp_path: Path) -> None:
    shipped_store.snapshot(tmp_path / "store")
    in_a_new_process(_made_beside_and_here, tmp_path / "store", tmp_path / "pids")


def _replaced_when_the_child_fails(store: Path) -> None:
    """In a new process: a child that dies is replaced by the work done here, which says so."""
    parent = os.getpid()
    real = SparqlValidator.detached

    def dies_in_the_child(self: SparqlValidator, *parts: object) -> object:
        if os.getpid() != parent:
            os._exit(3)
        return real(self, *parts)  # type: ignore[arg-type]

    SparqlValidator.detached = dies_in_the_child  # type: ignore[method-assign]
    said = io.StringIO()
    handler = logging.StreamHandler(said)
    logging.getLogger("allianceld.forked").addHandler(handler)
    logging.getLogger("allianceld.forked").setLevel(logging.INFO)
    validator = Validator.from_settings(Settings(store_path=None, home=ROOT))
    kb = KnowledgeBase(store)
    try:
        triples = _invalid_write()
        bulk = validator.begin_bulk(triples, kb, beside=True)
        assert bulk.beside
        beside = bulk.report()
        here = validator.begin_bulk(triples, kb).report()
    finally:
        kb.close()
    assert "the work is done here" in said.getvalue()
    _same(here, beside)


def test_a_child_that_fails_is_replaced_by_the_work_done_here(shipped_store: KnowledgeBase, tmp_path: Path) -> None:
    shipped_store.snapshot(tmp_path / "store")
    in_a_new_process(_replaced_when_the_child_fails, tmp_path / "store")
