"""The W3C SPARQL 1.1 query-evaluation tests, sent to /sparql through the protocol.

Every case that does not pass is listed here with its reason; a case that starts or stops
passing fails this test, so the count in docs/conformance.md stays true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allianceld.config import Settings
from allianceld.store import KnowledgeBase
from allianceld.web import create_app
from w3c import sparql_query as w3c

ROOT = Path(__file__).resolve().parents[2]
GROUP_CONCAT_LANG = "oxigraph keeps the shared language tag on GROUP_CONCAT, so a FILTER on a plain string is false"
RESULT_SET_VOCAB = "expected results in the RDF result-set vocabulary are not compared by this driver"
NOT_PASSING = {
    "aggregates/agg-groupconcat-04": GROUP_CONCAT_LANG,
    "aggregates/agg-groupconcat-06": GROUP_CONCAT_LANG,
    "aggregates/agg-empty-group-count-graph": RESULT_SET_VOCAB,
    "bindings/graph": RESULT_SET_VOCAB,
    "functions/bnode01": "oxigraph's BNODE(str) gives the same blank node for the same string across solutions",
    "negation/graph-minus": "differs from the expected solutions; not analysed yet",
    "property-path/zero_or_more_set_start": "oxigraph gives no zero-length path match for a term absent from the data",
    "property-path/zero_or_more_set_end": "oxigraph gives no zero-length path match for a term absent from the data",
    "property-path/zero_or_one_set_start": "oxigraph gives no zero-length path match for a term absent from the data",
    "property-path/zero_or_one_set_end": "oxigraph gives no zero-length path match for a term absent from the data",
}

pytestmark = pytest.mark.skipif(not w3c.SUITE.is_dir(), reason="../shared/testsuites/sparql11 is not on this machine")


def test_query_evaluation_suite() -> None:
    kb = KnowledgeBase()
    client = create_app({"SETTINGS": Settings(store_path=None, home=ROOT), "KB": kb}).test_client()
    cases = w3c.cases()
    outcomes = {case.name: w3c.check(client, kb, case) for case in cases}
    failing = {name: why for name, why in outcomes.items() if why is not None}
    assert sorted(failing) == sorted(NOT_PASSING), failing
    passed = len(cases) - len(failing)
    assert (passed, len(cases)) == (215, 225)
