"""One gate for every write path: POST /contributions, PUT and POST /data, SPARQL Update and
`allianceld load` refuse invalid data (a membership that starts before its alliance, NATO, was
founded) with the report, and leave the store dump byte-identical; contributions' graphs and
provenance records are written by /contributions only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from allianceld.cli import main
from allianceld.store import KnowledgeBase, bulk_write
from allianceld.vocab import SH, data_graph_iri
from allianceld.write.graph_policy import CHANGE_RECORD_BASE
from conftest import ROOT, Site
from write.test_contributions import VALID, nato_partnership

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

GRAPH = "https://w3id.org/allianceld/graph/user/mine"  # a contributor's own graph
INVALID = nato_partnership("1949-01-01")
SHAPE = "https://w3id.org/allianceld/shapes#Membership-startAfterFounding"


def _update(body: bytes, graph: str = GRAPH) -> str:
    triples = ox.serialize(ox.parse(body, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES).decode()
    return f"INSERT DATA {{ GRAPH <{graph}> {{ {triples} }} }}"


PATHS: dict[str, Callable[[Site, bytes, dict[str, str]], object]] = {
    "POST /contributions": lambda s, body, h: s.client.post("/contributions", data=body, headers=h),
    "PUT /data": lambda s, body, h: s.client.put("/data", query_string={"graph": GRAPH}, data=body, headers=h),
    "POST /data": lambda s, body, h: s.client.post("/data", query_string={"graph": GRAPH}, data=body, headers=h),
    "SPARQL Update": lambda s, body, h: s.client.post(
        "/sparql", data=_update(body), headers={**h, "Content-Type": "application/sparql-update"}
    ),
}


@pytest.mark.parametrize("accept", ["application/json", "text/turtle", "text/html"])
@pytest.mark.parametrize("path", list(PATHS))
def test_an_invalid_write_is_422_with_the_report_and_changes_nothing(site: Site, path: str, accept: str) -> None:
    before = site.kb.dump()
    resp = PATHS[path](site, INVALID, site.auth(Accept=accept))
    assert resp.status_code == 422
    assert resp.mimetype == accept
    if accept == "application/json":
        body = resp.get_json()
        assert body["error"] == "validation-failed"
        assert SHAPE in {r["sourceShape"] for r in body["report"]["results"]}
    elif accept == "text/turtle":
        report = rdflib.Graph().parse(data=resp.data.decode(), format="turtle")
        assert (None, SH.conforms, rdflib.Literal(False)) in report
        assert (None, SH.sourceShape, rdflib.URIRef(SHAPE)) in report
    else:
        assert b'id="refused"' in resp.data and SHAPE.encode() in resp.data
    assert site.kb.dump() == before


def test_allianceld_load_refuses_invalid_data_and_changes_nothing(tmp_path: Path, small_store: KnowledgeBase) -> None:
    store = tmp_path / "store"
    small_store.snapshot(store)
    kb = KnowledgeBase(store)
    before = kb.dump()
    kb.close()
    bad = tmp_path / "nato-aus.ttl"
    bad.write_bytes(INVALID)
    result = CliRunner().invoke(main, ["--store", str(store), "load", str(bad)])
    assert result.exit_code == 1
    assert SHAPE in result.output and "nothing was written" in result.output
    kb = KnowledgeBase(store)
    try:
        assert kb.dump() == before
    finally:
        kb.close()


# the CLI, noting in the file $SPY which process validates a large write's store, which one checks
# its policy and makes its change records, and when its graphs begin loading early
SPIED_CLI = textwrap.dedent(
    """
    import os, sys
    from allianceld.store import bulk_write
    from allianceld.validation.compiled import SparqlValidator
    from allianceld.write import gate
    def note(line):
        with open(os.environ["SPY"], "a") as spy:
            spy.write(line + "\\n")
    detached, begin, changes = SparqlValidator.detached, bulk_write.begin, gate._changes
    def spied_detached(self, *parts):
        note(f"validated in {os.getpid()}")
        return detached(self, *parts)
    def spied_begin(*args):
        note("loading early")
        return begin(*args)
    def spied_changes(*args):
        note(f"policy in {os.getpid()}")
        return changes(*args)
    SparqlValidator.detached, bulk_write.begin, gate._changes = spied_detached, spied_begin, spied_changes
    note(f"command in {os.getpid()}")
    from allianceld.cli import main
    main(sys.argv[1:], prog_name="allianceld")
    """
)


def _spied_load(store: Path, data: Path, spy: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    """``allianceld load data`` into ``store`` (the DL check off), and what the spy noted: each
    line's words before its last, with the process ids (or nothing) noted after them."""
    load = subprocess.run(
        [sys.executable, "-c", SPIED_CLI, "--store", str(store), "load", str(data)],
        capture_output=True,
        text=True,
        env={**os.environ, "SPY": str(spy), "ALLIANCELD_DL_CHECKS": "off"},
        timeout=600,
    )
    noted: dict[str, list[str]] = {}
    for line in spy.read_text().splitlines():
        what, _, pid = line.rpartition(" ") if " in " in line else (line, "", "")
        noted.setdefault(what, []).append(pid)
    return load, noted


def _left_as_before(store: Path, before: bytes) -> None:
    """The store at ``store`` dumps as ``before``, and no journal of a bulk write is left beside it."""
    kb = KnowledgeBase(store)
    try:
        assert kb.dump() == before
        assert not bulk_write.journal_path(store).exists()
    finally:
        kb.close()


def _generated(size: int) -> bytes:
    return ox.serialize(generate(size, seed=3), format=ox.RdfFormat.N_TRIPLES) or b""


def test_a_large_load_validated_beside_its_reasoning_refuses_invalid_data_and_changes_nothing(
    tmp_path: Path, shipped_store: KnowledgeBase
) -> None:
    """A large load's validation runs in a child process while its graphs begin loading: a
    Violation found there refuses the load with its report, and what had loaded goes."""
    store, bad = tmp_path / "store", tmp_path / "big.ttl"
    shipped_store.snapshot(store)
    kb = KnowledgeBase(store)
    before = kb.dump()
    kb.close()
    bad.write_bytes(INVALID + _generated(25_000))
    load, noted = _spied_load(store, bad, tmp_path / "spy")
    assert load.returncode == 1, load.stderr
    assert SHAPE in load.stdout + load.stderr and "nothing was written" in load.stdout + load.stderr
    assert noted.keys() == {"command in", "validated in", "policy in", "loading early"}
    assert noted["validated in"] != noted["command in"] != noted["policy in"]  # in child processes
    _left_as_before(store, before)


def test_a_large_loads_change_record_is_made_beside_its_reasoning(tmp_path: Path, shipped_store: KnowledgeBase) -> None:
    """The graph policy's checks and the change record of a large load run in a child process;
    the record is written with the load, listing every triple it adds."""
    store, data = tmp_path / "store", tmp_path / "big.nt"
    shipped_store.snapshot(store)
    data.write_bytes(_generated(25_000))
    load, noted = _spied_load(store, data, tmp_path / "spy")
    assert load.returncode == 0, load.stderr
    assert noted["policy in"] != noted["command in"]
    kb = KnowledgeBase(store)
    try:
        [record] = [g for g in kb.graphs() if g.startswith(CHANGE_RECORD_BASE)]
        text = next(q.object.value for q in kb.quads([record]) if q.predicate.value.endswith("addedTriples"))
        assert len(text.splitlines()) == kb.count(data_graph_iri("big")) > 25_000
    finally:
        kb.close()


def test_a_large_load_with_schema_triples_is_refused_beside_its_reasoning(
    tmp_path: Path, shipped_store: KnowledgeBase
) -> None:
    """Schema triples in a large load's data graph, found by the policy's check in a child
    process: refused as a small load is (the triple named, exit 2), and nothing written."""
    store, data = tmp_path / "store", tmp_path / "big.nt"
    shipped_store.snapshot(store)
    kb = KnowledgeBase(store)
    before = kb.dump()
    kb.close()
    axiom = (
        b"<https://w3id.org/allianceld/ontology#Alliance> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
        b"<http://example.org/Thing> .\n"
    )
    data.write_bytes(axiom + _generated(25_000))
    load, noted = _spied_load(store, data, tmp_path / "spy")
    assert load.returncode == 2, load.stderr
    assert "subClassOf" in load.stderr and "nothing was written" in load.stderr
    assert noted["command in"][0] in noted["policy in"] and len(noted["policy in"]) == 2  # the child's, then here
    _left_as_before(store, before)


def test_contribution_graphs_and_records_are_written_by_contributions_only(site: Site, tmp_path: Path) -> None:
    made = site.client.post("/contributions", data=VALID, headers=site.auth()).get_json()
    graph, record = made["graph"], made["record"]
    before = site.kb.dump()
    for target in (graph, record):
        for method in (site.client.put, site.client.post, site.client.delete):
            resp = method("/data", query_string={"graph": target}, data=VALID, headers=site.auth(site.admin))
            assert resp.status_code == 403, (method, target)
        note = b'<https://w3id.org/allianceld/id/alliance/test-pact> <http://www.w3.org/2004/02/skos/core#note> "n" .'
        update = _update(note, target)
        resp = site.client.post("/sparql", data=update, headers=site.auth(site.admin, "application/sparql-update"))
        assert resp.status_code == 403 and "/contributions" in resp.get_json()["message"]
    drop = site.client.post("/sparql", data="DROP ALL", headers=site.auth(site.admin, "application/sparql-update"))
    assert drop.status_code == 403
    assert site.kb.dump() == before
    site.kb.close()  # the command line opens the store itself
    try:
        mine = tmp_path / "mine.ttl"
        mine.write_bytes(VALID)
        result = CliRunner().invoke(main, ["--store", str(site.kb.path), "load", str(mine), "--graph", record])
        assert result.exit_code == 2 and "provenance record" in result.output
    finally:
        site.kb = KnowledgeBase(site.kb.path)  # closed again by the fixture
