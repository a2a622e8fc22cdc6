"""The command line: init, load, query, validate, reason; exit codes 0/1/2; errors on stderr."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib import RDF

from allianceld.cli import main
from allianceld.vocab import ALDS, SH
from conftest import ROOT, TEST_DATA, requires_java

BAD = TEST_DATA / "invalid" / "membership-start-before-founding.ttl"
NATO_1990 = Path(__file__).resolve().parents[2] / "docs" / "queries" / "nato-members-on-1990-01-01.rq"


@pytest.fixture(scope="module")
def initialised(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("cli") / "store"
    result = CliRunner().invoke(main, ["--store", str(store), "init"])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output
    return store


def run(store: Path, *args: str):
    return CliRunner().invoke(main, ["--store", str(store), *args])


def test_query_table_json_and_file(initialised: Path) -> None:
    table = run(initialised, "query", str(NATO_1990))
    assert table.exit_code == 0, table.output
    assert "(16 rows)" in table.output
    as_json = run(initialised, "query", "ASK { ?s ?p ?o }", "--format", "json")
    assert json.loads(as_json.output) == {"boolean": True}
    csv = run(initialised, "query", str(NATO_1990), "--format", "csv")
    assert len(csv.output.strip().splitlines()) == 17


def test_query_syntax_error_exits_2(initialised: Path) -> None:
    result = run(initialised, "query", "SELEC ?x")
    assert result.exit_code == 2
    assert "SPARQL syntax error" in result.output


def test_validate_exit_codes(initialised: Path) -> None:
    good = run(initialised, "validate", *map(str, sorted((TEST_DATA / "valid").glob("*.ttl"))))
    assert good.exit_code == 0, good.output
    bad = run(initialised, "validate", str(BAD))
    assert bad.exit_code == 1
    assert "Violation" in bad.output
    as_json = run(initialised, "validate", str(BAD), "--format", "json")
    assert json.loads(as_json.output)["conforms"] is False


def test_load_valid_file(initialised: Path) -> None:
    f = sorted((TEST_DATA / "valid").glob("*.ttl"))[0]
    result = run(initialised, "load", str(f))
    assert result.exit_code == 0, result.output
    assert f"graph/data/{f.stem}" in result.output


def test_load_bad_syntax_exits_2_naming_file_and_line(initialised: Path, tmp_path: Path) -> None:
    f = tmp_path / "broken.ttl"
    f.write_text("@prefix a: <http://x/> .\na:b a:c ;;\n ] .\n")
    result = run(initialised, "load", str(f))
    assert result.exit_code == 2
    assert f"{f}:2:9:" in result.output


@requires_java
def test_reason(initialised: Path) -> None:
    result = run(initialised, "reason")
    assert result.exit_code == 0, result.output
    assert "OWL 2 RL (reasonable)" in result.output
    assert "OWL 2 DL (HermiT): consistent" in result.output


def test_reason_recomputes_the_domain_rules_and_no_inference_hides_them(initialised: Path) -> None:
    allied = "SELECT (COUNT(*) AS ?n) WHERE { ?a <https://w3id.org/allianceld/ontology#alliedWith> ?b }"
    assert run(initialised, "reason", "--no-dl").exit_code == 0
    counted = run(initialised, "query", allied, "--format", "csv")
    assert int(counted.output.split()[-1]) > 1000, counted.output
    hidden = run(initialised, "query", allied, "--format", "csv", "--no-inference")
    assert hidden.output.split()[-1] == "0", hidden.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for cmd in ("init", "load", "query", "validate", "reason", "serve"):
        assert cmd in result.output


def test_validate_writes_the_report_as_turtle(initialised: Path) -> None:
    result = run(initialised, "validate", str(BAD), "--format", "turtle")
    assert result.exit_code == 1
    report = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert (None, RDF.type, SH.ValidationReport) in report
    assert (None, SH.sourceShape, ALDS["Membership-startAfterFounding"]) in report


def test_load_force_writes_invalid_data_and_says_so(tmp_path: Path, initialised: Path) -> None:
    store = shutil.copytree(initialised, tmp_path / "store")  # not written by the other tests
    graph = "https://w3id.org/allianceld/graph/data/forced"
    refused = run(store, "load", "--graph", graph, str(BAD))
    assert refused.exit_code == 1 and "use --force" in refused.output
    forced = run(store, "load", "--graph", graph, "--force", str(BAD))
    assert forced.exit_code == 0, forced.output
    assert re.search(r"--force: loaded despite [1-9]\d* violation\(s\)", forced.output)
    listed = run(store, "query", "--format", "json", f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert json.loads(listed.stdout) == {"boolean": True}


RELATIVE = (
    "@prefix prov: <http://www.w3.org/ns/prov#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n"
    '<> prov:wasDerivedFrom <#x> .\n<#x> a prov:Entity ; dcterms:publisher "tests" {title}.\n'
)


def test_validate_and_load_resolve_relative_iris_against_the_file(tmp_path: Path, initialised: Path) -> None:
    untitled = tmp_path / "untitled.ttl"
    untitled.write_text(RELATIVE.format(title=""), encoding="utf-8")
    report = run(initialised, "validate", str(untitled), "--format", "json")
    assert report.exit_code == 1, report.output
    assert [r["focusNode"] for r in json.loads(report.output)["results"]] == [untitled.resolve().as_uri() + "#x"]

    titled = tmp_path / "titled.ttl"
    titled.write_text(RELATIVE.format(title='; dcterms:title "A source"@en '), encoding="utf-8")
    store = shutil.copytree(initialised, tmp_path / "store")  # not written by the other tests
    graph = "https://w3id.org/allianceld/graph/data/relative"
    loaded = run(store, "load", "--graph", graph, str(titled))
    assert loaded.exit_code == 0, loaded.output
    iri = titled.resolve().as_uri()
    stored = run(
        store,
        "query",
        f"SELECT ?s ?o WHERE {{ GRAPH <{graph}> {{ ?s <http://www.w3.org/ns/prov#wasDerivedFrom> ?o }} }}",
        "--format",
        "json",
    )
    rows = json.loads(stored.output)["results"]["bindings"]
    assert [(r["s"]["value"], r["o"]["value"]) for r in rows] == [(iri, iri + "#x")]


def test_a_file_with_its_own_base_keeps_it(tmp_path: Path, initialised: Path) -> None:
    based = tmp_path / "based.ttl"
    based.write_text("@base <https://example.org/doc/> .\n" + RELATIVE.format(title=""), encoding="utf-8")
    report = run(initialised, "validate", str(based), "--format", "json")
    assert [r["focusNode"] for r in json.loads(report.output)["results"]] == ["https://example.org/doc/#x"]


def test_a_query_file_resolves_against_its_own_iri(tmp_path: Path, initialised: Path) -> None:
    query = tmp_path / "relative.rq"
    query.write_text("SELECT (<#x> AS ?x) WHERE {}\n", encoding="utf-8")
    result = run(initialised, "query", str(query), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"]["bindings"] == [
        {"x": {"type": "uri", "value": query.resolve().as_uri() + "#x"}}
    ]


def test_a_command_leaves_the_store_free_to_open_again_in_this_process(initialised: Path) -> None:
    """A write's caught exceptions (a rule the focused path cannot follow) keep frames that refer
    to the store: closing it must still release its lock at once, not when the garbage collector
    runs, so that the next command in the same process can open it."""
    f = sorted((TEST_DATA / "valid").glob("*.ttl"))[0]
    assert run(initialised, "load", str(f)).exit_code == 0
    ox.Store(str(initialised))  # raises OSError "lock hold by current process" while the lock is held


def test_a_large_load_from_the_command_line_loads_its_graph_while_it_is_reasoned_over(
    initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's store is its own (no server reads it): a large load's new graph loads early."""
    from allianceld.store import bulk_write

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from generate import generate

    store = tmp_path / "store"
    shutil.copytree(initialised, store)
    data = tmp_path / "generated.nt"
    triples = generate(20_000, seed=1)
    data.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
    begun: list[object] = []
    begin = bulk_write.begin
    monkeypatch.setattr(bulk_write, "begin", lambda *a: (begun.append(begin(*a)), begun[-1])[1])
    result = run(store, "load", str(data))
    assert result.exit_code == 0, result.output
    assert len(begun) == 1 and isinstance(begun[0], bulk_write.Early)
    assert f"loaded {len(triples)} triples" in result.output
