"""The W3C SPARQL 1.1 Protocol tests, replayed over HTTP against a live server on 127.0.0.1.

Deviation from the suite: it assumes anyone may update; allianceld needs a bearer token for every
write, so every request carries an admin token. Every case that does not pass is listed here with
its reason; a case that starts or stops passing fails this test, so the count in docs/conformance.md stays true.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from w3c import protocol
from w3c.replay import LiveServer

NOT_PASSING: dict[str, str] = {}

CONFORMANCE = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not protocol.MANIFEST.is_file(), reason="../shared/testsuites/sparql11 is not on this machine"),
]


def test_protocol_suite(w3c_server: LiveServer) -> None:
    cases = protocol.cases()
    outcomes = {case.name: protocol.check(w3c_server, case) for case in cases}
    failing = {name: why for name, why in outcomes.items() if why is not None}
    assert sorted(failing) == sorted(NOT_PASSING), failing
    counts = (len(cases) - len(failing), len(cases))
    stated = re.search(r"test_w3c_protocol\.py`[^*]*\*\*(\d+) of (\d+) pass\*\*", CONFORMANCE)
    assert stated is not None and tuple(map(int, stated.groups())) == counts, "docs/conformance.md states another count"
    assert counts == (34, 34)
