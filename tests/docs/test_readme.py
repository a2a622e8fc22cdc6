"""The README's tour (and the explanation drawn in docs/reasoning.md) prints what the service answers:
its outputs are checked here."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
REASONING = (ROOT / "docs" / "reasoning.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(?:sh)?\n(.*?)```", re.S)


def _output_after(command_fragment: str, text: str = README) -> str:
    """The first fenced block that follows the block containing ``command_fragment``."""
    blocks = BLOCK.findall(text)
    for i, block in enumerate(blocks):
        if command_fragment in block:
            return blocks[i + 1]
    raise AssertionError(f"no command containing {command_fragment!r}")


def _csv(client, query: str) -> str:
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert resp.status_code == 200
    return resp.data.decode().replace("\r\n", "\n")


def test_nato_1990_output_is_what_the_service_answers(client) -> None:
    query = (ROOT / "docs" / "queries" / "nato-members-on-1990-01-01.rq").read_text()
    assert _output_after("query@docs/queries/nato-members-on-1990-01-01.rq") == _csv(client, query)


def test_collective_defence_output_is_what_the_service_answers(client) -> None:
    query = "SELECT ?a WHERE { ?a a <https://w3id.org/allianceld/ontology#CollectiveDefenceAlliance> } ORDER BY ?a"
    assert query in README
    assert _output_after("CollectiveDefenceAlliance> } ORDER BY ?a") == _csv(client, query)


@pytest.fixture
def store_options(tmp_path) -> list[str]:
    """The options that point the README's commands at a store: a new one on disk."""
    return ["--store", str(tmp_path / "store")]


def test_validate_output_is_what_the_cli_prints(runner, store_options, monkeypatch) -> None:
    from allianceld.cli import main

    monkeypatch.chdir(ROOT)  # the README's commands run from the repository root
    assert runner.invoke(main, [*store_options, "init"]).exit_code == 0
    result = runner.invoke(
        main, [*store_options, "validate", "tests/data/invalid/membership-start-before-founding.ttl"]
    )
    shown = _output_after("allianceld validate tests/data/invalid/membership-start-before-founding.ttl")
    assert shown == result.output + f"exit {result.exit_code}\n"


def test_readme_counts_match_the_store(client) -> None:
    counts = client.get("/", headers={"Accept": "application/json"}).get_json()["counts"]
    assert f"| alliances and partnerships | {counts['alliances']} (" in README
    assert f"| states | {counts['states']} (" in README
    assert f"| memberships | {counts['memberships']}," in README
    assert f"| treaties | {counts['treaties']}," in README


def test_every_example_query_runs_and_finds_something(client) -> None:
    for path in sorted((ROOT / "docs" / "queries").glob("*.rq")):
        resp = client.post("/sparql", data={"query": path.read_text()}, headers={"Accept": "application/json"})
        assert resp.status_code == 200, path.name
        assert resp.get_json()["results"]["bindings"], f"{path.name} returned no rows"


def test_the_explanation_tree_is_what_the_service_answers(client) -> None:
    """Each line of the drawn tree: the rule and axiom (or the data file) of that premise."""
    url = "/reasoning/explain?s=id:state/usa&p=org:memberOf&o=id:alliance/nato"
    assert url in REASONING
    lines = _output_after(url, REASONING).strip().splitlines()
    answer = client.get(url, headers={"Accept": "application/json"}).get_json()
    nodes = [answer, answer["premises"][0], answer["premises"][0]["premises"][0], answer["premises"][1]]
    assert len(lines) == len(nodes)
    for line, node in zip(lines, nodes, strict=True):
        if node["status"] == "asserted":
            assert line.split("asserted")[1].strip() == "data/" + node["sources"][0]["file"]
        else:
            assert f"{node['rule']['id']}  {node['rule']['axiom']}" in line
