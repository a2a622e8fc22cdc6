"""The report follows SHACL 1.0: it conforms only when there is no result at all, while a write is
accepted (and committed) when none of its results is a Violation."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from allianceld.store import KnowledgeBase
from allianceld.validation.report import Report, Result
from allianceld.write import gate
from allianceld.write.write_policy import WritePolicy
from conftest import ROOT

EXAMPLE = ROOT / "docs" / "examples" / "contribution.ttl"  # one Warning: no Wikidata link


def _result(severity: str) -> Result:
    return Result(severity, "https://example.org/x", None, None, None, None, None, "a message")


@pytest.mark.parametrize(
    ("severities", "conforms", "accepted"),
    [
        ((), True, True),
        (("Warning",), False, True),
        (("Info",), False, True),
        (("Warning", "Info"), False, True),
        (("Violation", "Warning"), False, False),
    ],
)
def test_conforms_is_no_result_accepted_is_no_violation(severities, conforms: bool, accepted: bool) -> None:
    report = Report(results=[_result(s) for s in severities], graph=rdflib.Graph())
    assert (report.conforms, report.accepted) == (conforms, accepted)
    as_json = report.to_json()
    assert (as_json["conforms"], as_json["accepted"]) == (conforms, accepted)
    assert (as_json["violations"], as_json["warnings"], as_json["infos"]) == tuple(
        severities.count(s) for s in ("Violation", "Warning", "Info")
    )
    head = report.to_text().splitlines()[0]
    if conforms:
        assert head == "conforms"
    else:
        assert head.startswith("does not conform: ")
        assert head.endswith("a write would be accepted" if accepted else "a write would be refused")


def test_a_write_with_only_a_warning_is_committed_and_does_not_conform(
    tmp_path: Path, small_store: KnowledgeBase, write_policy: WritePolicy
) -> None:
    small_store.snapshot(tmp_path / "store")
    kb = KnowledgeBase(tmp_path / "store")
    try:
        source = gate.read_file(EXAMPLE, "https://w3id.org/allianceld/graph/user/example")
        result = gate.commit(kb, write_policy, [source])
        report = result.report
        assert [r.severity for r in report.results] == ["Warning"], report.to_text()
        assert (report.conforms, report.accepted, report.violation_count) == (False, True, 0)
        assert result.graphs == [source.graph]
        assert len(kb.triples(source.graph)) == len(source.triples)
    finally:
        kb.close()
