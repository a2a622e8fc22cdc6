"""docs/validation.md for curators: the worked example of adding a shape runs and prints what the
doc shows; the compiled SHACL terms it lists are the compiler's; what it says falls back does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import SUPPORTED, plan
from allianceld.validation.validator import Validator
from allianceld.vocab import SH
from conftest import ROOT

DOC = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "docs" / "examples"
SHAPE, DATA = EXAMPLES / "shape-founding-date.ttl", EXAMPLES / "alliance-founded-1373.ttl"
FALLBACK = EXAMPLES / "shape-founders-join-early.ttl"
SHAPE_NAME = "https://example.org/curator-shapes#Alliance-foundersJoinEarly"


def _section(heading: str) -> str:
    return DOC.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _block(text: str, after: str) -> str:
    """The fenced block that starts right after the first line holding ``after``."""
    rest = text[text.index(after) :]
    return rest.split("```", 1)[0]


def _terms(text: str) -> set[str]:
    return set(re.findall(r"`(sh:[A-Za-z]+)`", text))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The project with the example shape copied into shapes/, as the doc says."""
    home = tmp_path / "home"
    (home / "shapes").mkdir(parents=True)
    for name in ("ontology", "data", "docs"):
        (home / name).symlink_to(ROOT / name)
    for f in [*(ROOT / "shapes").glob("*.ttl"), SHAPE]:
        (home / "shapes" / f.name).write_bytes(f.read_bytes())
    return home


def test_the_shape_in_the_doc_is_the_example_file() -> None:
    shown = _block(_section("Adding a shape"), "cur:Alliance-foundedFrom1815 a")
    assert shown.strip() in SHAPE.read_text(encoding="utf-8")


def test_the_worked_example_prints_what_the_doc_shows(home: Path, tmp_path: Path, small_store: KnowledgeBase) -> None:
    section = _section("Adding a shape")
    commands = _block(section, "cp docs/examples/shape-founding-date.ttl shapes/").splitlines()
    assert commands[1:] == [
        ".venv/bin/allianceld validate --list-shapes | grep curator-shapes",
        '.venv/bin/allianceld validate docs/examples/alliance-founded-1373.ttl; echo "exit $?"',
    ]
    shown = re.search(r"```\n(compiled .*?)```", section, re.S)
    assert shown is not None
    small_store.snapshot(tmp_path / "store")  # the states of the example are in it
    runner, env = CliRunner(), {"ALLIANCELD_HOME": str(home)}
    listed = runner.invoke(main, ["validate", "--list-shapes"], env=env)
    assert listed.exit_code == 0, listed.output
    checked = runner.invoke(main, ["--store", str(tmp_path / "store"), "validate", str(DATA)], env=env)
    printed = [line for line in listed.output.splitlines() if "curator-shapes" in line]
    printed += [*checked.output.splitlines(), f"exit {checked.exit_code}"]
    assert printed == shown.group(1).splitlines()


def test_the_compiled_terms_listed_are_the_compilers() -> None:
    section = _section("What is compiled and what falls back")
    listed = section.split("These SHACL terms are compiled:", 1)[1].split("A shape falls back", 1)[0]
    supported = {f"sh:{str(t).removeprefix(str(SH))}" for t in SUPPORTED}
    assert _terms(listed) == supported, (
        f"add to docs/validation.md: {sorted(supported - _terms(listed))}; remove: {sorted(_terms(listed) - supported)}"
    )


def _shapes(select: str) -> rdflib.Graph:
    return rdflib.Graph().parse(
        data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
        ex:S a sh:NodeShape ; sh:targetClass ex:T ;
            sh:sparql [ sh:message "found" ; sh:prefixes ex: ; sh:select "{select}" ] .""",
        format="turtle",
    )


# the forms the doc says fall back, each in a query that finds ex:a (which has two values of ex:p) once
FORMS = {
    "LIMIT": "SELECT $this WHERE { $this ex:p ?v } LIMIT 1",
    "OFFSET": "SELECT $this WHERE { $this ex:p ?v } OFFSET 1",
    "aggregates": "SELECT $this (MAX(?v) AS ?m) WHERE { ?x ex:p ?v . $this ex:p ?w }",
}


@pytest.mark.parametrize("form", FORMS)
def test_what_the_doc_says_falls_back_falls_back_and_is_validated(form: str, tmp_path: Path) -> None:
    fallback = _section("What is compiled and what falls back").split("A shape falls back", 1)[1].split("\n\n")[0]
    assert form in fallback
    shapes = _shapes(FORMS[form])
    assert list(plan(shapes).fallback) == [rdflib.URIRef("http://example.org/S")]
    (tmp_path / "s.ttl").write_text(shapes.serialize(format="turtle"), encoding="utf-8")
    data = rdflib.Graph().parse(data="@prefix ex: <http://example.org/> . ex:a a ex:T ; ex:p 1, 2 .", format="turtle")
    report = Validator([tmp_path / "s.ttl"], rdflib.Graph()).validate(data)
    assert [(r.focus_node, r.source_shape) for r in report.violations] == [
        ("http://example.org/a", "http://example.org/S")
    ]


def test_the_terms_the_doc_says_fall_back_are_not_compiled() -> None:
    fallback = _section("What is compiled and what falls back").split("A shape falls back", 1)[1].split("\n\n")[0]
    assert _terms(fallback) and not _terms(fallback) & {f"sh:{str(t).removeprefix(str(SH))}" for t in SUPPORTED}


def test_the_fallback_example_falls_back_and_compiles_without_its_limit() -> None:
    text, name = FALLBACK.read_text(encoding="utf-8"), rdflib.URIRef(SHAPE_NAME)

    def with_shipped(shape: str) -> rdflib.Graph:  # the shape's prefixes are the shipped shapes' declarations
        return rdflib.Graph().parse(ROOT / "shapes" / "allianceld.shapes.ttl").parse(data=shape, format="turtle")

    assert list(plan(with_shipped(text)).fallback) == [name]
    assert "} LIMIT 1" in text
    fixed = plan(with_shipped(text.replace("} LIMIT 1", "}")))
    assert name in fixed.compiled and not fixed.fallback


def test_the_fallback_cost_quoted_is_the_measured_one() -> None:
    section = _section("What is compiled and what falls back")
    rows = [line for line in section.splitlines() if line.startswith("| ") and re.match(r"\| [\d,]+ \|", line)]
    assert len(rows) == 3
    measurements = (ROOT / "docs" / "measurements.md").read_text(encoding="utf-8")
    for row in rows:
        assert row in measurements
