"""Runs the W3C SHACL 1.0 core and SHACL-SPARQL tests through allianceld's validator.

Each ``sht:Validate`` entry of the manifests names a data graph and a shapes graph (mostly the test
file itself, which is then both). Every file is parsed with its own IRI (its ``file:`` URL in this
checkout) as the base, as the manifests' relative IRIs ask. The shapes files go to
:class:`allianceld.validation.validator.Validator` (with an empty ontology), the data graph to its
``validate``, and the report graph is compared with the expected ``sh:ValidationReport`` by pySHACL's
``check_sht_result`` (by ``sh:conforms`` and the results' focus node, value, path, shape, component
and severity; blank nodes by their structure). An ``sht:Failure`` test expects the validator to
refuse the shapes graph with :class:`allianceld.errors.InvalidShapes` (a shapes graph that is not
well-formed SHACL); any other exception is an error, and so is a refusal of a well-formed one.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import rdflib
from pyshacl.validator_conformance import check_sht_result

from allianceld.errors import InvalidShapes
from allianceld.validation.validator import Validator

SUITE = (Path(__file__).resolve().parents[3] / "shared" / "testsuites" / "shacl").resolve()
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
SECTIONS = ("core", "sparql")
QUIET = logging.getLogger("w3c.shacl")  # check_sht_result logs each difference it finds
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


@dataclass(frozen=True)
class Case:
    """One ``sht:Validate`` entry: its id (``core/node/class-001``), its files and its manifest."""

    name: str
    test: rdflib.URIRef
    data: Path
    shapes: tuple[Path, ...]
    manifest: Path

    def __str__(self) -> str:
        return self.name


def iri(path: Path) -> str:
    """A file's own IRI: its URL in this checkout."""
    return path.resolve().as_uri()


def local(term: rdflib.term.Node) -> Path:
    """The file of this checkout an IRI of the manifests names."""
    return Path(url2pathname(urlparse(str(term)).path))


def parse(path: Path) -> rdflib.Graph:
    """A Turtle file, parsed with its own IRI as the base."""
    return rdflib.Graph().parse(path, format="turtle", publicID=iri(path))


def cases() -> list[Case]:
    """Every ``sht:Validate`` entry reachable from the suite's manifests, in manifest order."""
    found: list[Case] = []
    todo = [SUITE / "tests" / section / "manifest.ttl" for section in SECTIONS]
    while todo:
        path = todo.pop(0)
        g = parse(path)
        todo += [local(i) for i in g.objects(rdflib.URIRef(iri(path)), MF.include)]
        for entries in g.objects(None, MF.entries):
            for test in rdflib.collection.Collection(g, entries):
                if (test, rdflib.RDF.type, SHT.Validate) not in g:
                    continue
                action = g.value(test, MF.action)
                found.append(
                    Case(
                        name=str(local(test).relative_to(SUITE / "tests")),
                        test=test,
                        data=local(g.value(action, SHT.dataGraph)),
                        shapes=tuple(local(s) for s in g.objects(action, SHT.shapesGraph)),
                        manifest=path,
                    )
                )
    return found


def run(case: Case, engine: str = "sparql") -> str | None:
    """Run ``case`` on the validator's ``engine``: None when the outcome is the expected one, else
    "wrong: …" (a report that differs from the expected one, or a report where the shapes graph is
    malformed) or "error: …" (any exception but InvalidShapes where it is expected, or InvalidShapes
    where a report is)."""
    manifest = parse(case.manifest)
    expected = manifest.value(case.test, MF.result)
    try:
        validator = Validator(list(case.shapes), rdflib.Graph(), engine=engine)
        report = validator.validate(parse(case.data))
    except InvalidShapes as refused:
        return None if expected == SHT.Failure else f"error: InvalidShapes: {refused}"
    except Exception as crash:  # the run reports it as the test's outcome
        return f"error: {type(crash).__name__}: {crash}"
    if expected == SHT.Failure:
        return "wrong: a report where the shapes graph should be refused"
    differences = io.StringIO()
    with contextlib.redirect_stdout(differences):  # check_sht_result prints how blank nodes differ
        same = check_sht_result(report.graph, manifest, expected, QUIET)
    return None if same else f"wrong: the report differs from the expected one\n{differences.getvalue()}"
