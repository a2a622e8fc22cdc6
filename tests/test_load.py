"""A short load run (benchmarks/bench_load.py): 8 readers and 2 writers against a real
``allianceld serve --production`` on 127.0.0.1 for a few seconds: no server error, no
connection error, no acknowledged write lost. The 60 s figures are in docs/measurements.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from allianceld.store import KnowledgeBase
from allianceld.tokens import TokenStore
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_load import MEMBERSHIP_PREFIX, find_lost, production_server, run_load

pytestmark = pytest.mark.server


def test_readers_and_writers_together(tmp_path: Path, shipped_store: KnowledgeBase) -> None:
    store, tokens = tmp_path / "store", tmp_path / "tokens.json"
    shipped_store.snapshot(store)
    token = TokenStore(tokens).create("load", "contributor")
    with production_server(store, tokens, threads=8, log=tmp_path / "server.log") as base:
        run = run_load(base, token, 8, readers=8, writers=2)
        # the check does find writes the server does not have: a contribution it never made, and
        # a membership an acknowledged one does not hold
        cid, iris = next(iter(run.acknowledged.items()))
        made_up = {"0123456789ab": [], cid: [*iris, MEMBERSHIP_PREFIX + "never-written"]}
        lost = find_lost(base, made_up)
        assert [p.split(":")[0] for p in lost] == sorted(made_up)
    print(run.table())
    assert run.server_errors == [] and run.connection_errors == []
    assert run.lost == []
    assert len(run.acknowledged) >= 2
    assert {"sparql point", "sparql join", "page html", "page turtle", "listing"} <= run.latencies.keys()
    assert len(run.read_latencies()) > 50
    answers = {kind: set(counts) for kind, counts in run.statuses.items()}
    assert answers.pop("write") == {201} and set().union(*answers.values()) == {200}
