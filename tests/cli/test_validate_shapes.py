"""A shape the compiler cannot compile is validated by pySHACL: `allianceld validate --list-shapes`
says which shapes fall back and why, `allianceld validate` finds the fallback shape's violations,
and `allianceld serve` starts and logs the shape and the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.store import KnowledgeBase
from conftest import ROOT, free_port, wait_for

# a SPARQL constraint with LIMIT: the compiler refuses it, pySHACL validates it
FALLBACK = ROOT / "docs" / "examples" / "shape-founders-join-early.ttl"
SHAPE = "https://example.org/curator-shapes#Alliance-foundersJoinEarly"
REASON = "LIMIT/OFFSET is not supported"
MESSAGE = "A founding member joins within five years of its alliance's founding"

# two founding members of a new alliance, joining in ``{start}``; the states are in the store
ALLIANCE = """
@prefix ald: <https://w3id.org/allianceld/ontology#> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix alliance: <https://w3id.org/allianceld/id/alliance/> . @prefix state: <https://w3id.org/allianceld/id/state/> .
@prefix membership: <https://w3id.org/allianceld/id/membership/> .
<https://example.org/src> a prov:Entity ; dcterms:title "A source"@en .
alliance:test-accord a ald:BilateralAlliance ; rdfs:label "Test Accord"@en ;
    ald:foundingDate "1990-05-01"^^xsd:date ; prov:wasDerivedFrom <https://example.org/src> .
membership:test-accord-fra a org:Membership ; org:member state:fra ; org:organization alliance:test-accord ;
    org:role ald:FoundingMember ; ald:startDate "{start}"^^xsd:date ; prov:wasDerivedFrom <https://example.org/src> .
membership:test-accord-deu a org:Membership ; org:member state:deu ; org:organization alliance:test-accord ;
    org:role ald:FoundingMember ; ald:startDate "{start}"^^xsd:date ; prov:wasDerivedFrom <https://example.org/src> .
"""
LATE, ON_TIME = ALLIANCE.replace("{start}", "2000-01-01"), ALLIANCE.replace("{start}", "1990-05-01")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A project home whose shapes are the shipped ones and the fallback shape."""
    home = tmp_path_factory.mktemp("home")
    for name in ("ontology", "data", "docs", "web-assets"):
        if (ROOT / name).exists():
            (home / name).symlink_to(ROOT / name)
    (home / "shapes").mkdir()
    for f in [*(ROOT / "shapes").glob("*.ttl"), FALLBACK]:
        (home / "shapes" / f.name).write_bytes(f.read_bytes())
    return home


@pytest.fixture
def store(tmp_path: Path, small_store: KnowledgeBase) -> Path:
    """A copy of the small store (the states of the test data are in it)."""
    small_store.snapshot(tmp_path / "store")
    return tmp_path / "store"


def test_list_shapes_names_each_shape_once_compiled_or_falling_back_with_why(home: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--list-shapes"], env={"ALLIANCELD_HOME": str(home)})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("compiled ", "fallback "))]
    assert len(lines) == len({line.split()[1] for line in lines}) > 20  # one shape a line
    (fallback,) = [line for line in lines if line.startswith("fallback")]
    assert fallback.split()[1] == SHAPE and REASON in fallback
    assert "compiled  https://w3id.org/allianceld/shapes#MembershipShape" in lines


def test_validate_without_files_or_list_shapes_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(main, ["validate"], env={"ALLIANCELD_HOME": str(home)})
    assert result.exit_code == 2
    assert "--list-shapes" in result.output


def test_validate_finds_the_fallback_shapes_violation(home: Path, store: Path, tmp_path: Path) -> None:
    late, on_time = tmp_path / "late.ttl", tmp_path / "on-time.ttl"
    late.write_text(LATE, encoding="utf-8")
    on_time.write_text(ON_TIME, encoding="utf-8")
    env = {"ALLIANCELD_HOME": str(home)}
    refused = CliRunner().invoke(main, ["--store", str(store), "validate", str(late), "--format", "json"], env=env)
    assert refused.exit_code == 1, refused.output
    report = json.loads(refused.output[refused.output.index("{") :])  # after the log line on stderr
    (violation,) = [
        r for r in report["results"] if r["severity"] == "Violation"
    ]  # LIMIT 1: one result for the alliance, though both founders are late
    assert violation["sourceShape"] == SHAPE
    assert violation["focusNode"] == "https://w3id.org/allianceld/id/alliance/test-accord"
    assert MESSAGE in violation["message"] and "2000-01-01" in violation["message"]
    accepted = CliRunner().invoke(main, ["--store", str(store), "validate", str(on_time)], env=env)
    assert accepted.exit_code == 0, accepted.output
    assert SHAPE not in accepted.output


def test_serve_starts_logs_the_fallback_shape_and_why_and_validates_with_it(
    home: Path, store: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ALLIANCELD_HOME": str(home),
        "ALLIANCELD_TOKENS": str(tmp_path / "tokens.json"),
        "ALLIANCELD_QUERY_TIMEOUT": "0",
    }
    cmd = [sys.executable, "-m", "allianceld.cli", "--store", str(store), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", proc, seconds=60)
        req = urllib.request.Request(base + "/validate", data=LATE.encode(), headers={"Content-Type": "text/turtle"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            report = json.load(resp)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert [r["sourceShape"] for r in report["results"] if r["severity"] == "Violation"] == [SHAPE]
    records = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    (logged,) = [r for r in records if SHAPE in r.get("message", "")]
    assert logged["level"] == "WARNING"
    assert "pySHACL" in logged["message"] and REASON in logged["message"]


def test_a_malformed_shapes_graph_is_refused_by_name_not_with_a_traceback(tmp_path: Path) -> None:
    """A SPARQL constraint with MINUS is malformed SHACL: the shapes are refused when read, with a
    message naming the shape, and no command runs on them."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("ontology", "data"):
        (home / name).symlink_to(ROOT / name)
    (home / "shapes").mkdir()
    (home / "shapes" / "minus.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        'ex:Bad a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o '
        'MINUS { $this a ex:D } }" ] .\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", "--list-shapes"], env={"ALLIANCELD_HOME": str(home)})
    assert result.exit_code == 2, result.output
    assert "invalid-shapes" in result.output and "http://example.org/Bad" in result.output
    assert "MINUS" in result.output and "Traceback" not in result.output
