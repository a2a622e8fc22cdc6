"""The W3C SHACL 1.0 core and SHACL-SPARQL tests, run through the validator every write path uses.

Each test is run on both engines of :class:`allianceld.validation.validator.Validator`: the default
("sparql", the shapes compiled into SPARQL) and "pyshacl". Every test that does not pass is listed
below with its reason, as "wrong: …" (a report other than the expected one: the worst outcome) or
"error: …" (a refusal or a crash); a test that starts or stops passing, or fails in another way,
fails here, so the counts in docs/conformance.md stay true.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib

from allianceld.errors import InvalidShapes
from allianceld.validation.compiled import plan
from allianceld.validation.validator import read_shapes
from conftest import ROOT
from w3c import shacl

_SHAPES_GRAPH = "error: pySHACL does not support $shapesGraph in SPARQL constraints (NotImplementedError)"
# the tests each engine does not pass, with the reason
NOT_PASSING: dict[str, dict[str, str]] = {
    "sparql": {},
    "pyshacl": {
        "core/property/uniqueLang-002": 'wrong: pySHACL takes sh:uniqueLang "1"^^xsd:boolean as true',
        "sparql/pre-binding/shapesGraph-001": _SHAPES_GRAPH,
    },
}
ENGINES = ("sparql", "pyshacl")
CONFORMANCE = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.skipif(not shacl.SUITE.is_dir(), reason="../shared/testsuites/shacl is not on this machine")
CASES = shacl.cases() if shacl.SUITE.is_dir() else []


def _kind(outcome: str | None) -> str | None:
    return None if outcome is None else outcome.split(":", 1)[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_w3c_shacl(case: shacl.Case, engine: str) -> None:
    outcome = shacl.run(case, engine)
    pinned = NOT_PASSING[engine].get(case.name)
    if pinned is None:
        assert outcome is None, outcome
    else:  # still failing, and the same way: a wrong answer that becomes a refusal shows too
        assert outcome is not None, f"passes now: remove it from NOT_PASSING[{engine!r}] and update the docs"
        assert _kind(outcome) == _kind(pinned), outcome


def test_the_suite_is_all_there() -> None:
    assert len(CASES) == 120
    assert sum(c.name.startswith("core/") for c in CASES) == 98
    for engine in ENGINES:
        assert set(NOT_PASSING[engine]) <= {c.name for c in CASES}
        assert all(_kind(why) in ("wrong", "error") for why in NOT_PASSING[engine].values())


@pytest.mark.parametrize("engine", ENGINES)
def test_conformance_doc_states_the_counts(engine: str) -> None:
    failing = NOT_PASSING[engine]
    wrong = sum(_kind(why) == "wrong" for why in failing.values())
    counts = (len(CASES) - len(failing), len(CASES), wrong)
    stated = re.search(rf'`engine="{engine}"`[^*]*\*\*(\d+) of (\d+) pass\*\*[^*]*\*\*(\d+) wrong\*\*', CONFORMANCE)
    assert stated is not None and tuple(map(int, stated.groups())) == counts, "docs/conformance.md states another count"


def _shapes(path: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    read_shapes(path, graph)  # as the validator reads a shapes file
    return graph


def test_the_suites_shapes_compile_as_the_docs_say() -> None:
    """The shapes with targets in the suite that the compiler evaluates (the rest fall back to
    pySHACL): a shape that stops compiling shows here, and the count in the docs stays true."""
    files = sorted({f for case in CASES for f in case.shapes})
    plans = []
    for f in files:
        try:
            plans.append(plan(_shapes(f)))
        except InvalidShapes:  # a shapes graph the spec calls malformed: refused whole (sht:Failure tests)
            continue
    compiled = sum(len(p.compiled) for p in plans)
    total = compiled + sum(len(p.fallback) for p in plans)
    stated = re.search(r"\*\*(\d+) of the (\d+) shapes with targets\*\*", CONFORMANCE)
    assert stated is not None and tuple(map(int, stated.groups())) == (compiled, total)
