"""The documented questions of docs/queries/, sent to /sparql through a test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "queries"


def query_text(name: str, replace: tuple[str, str] | None = None) -> str:
    """The query ``docs/queries/NAME.rq``, with ``replace`` (old, new) made in it (old must be there)."""
    query = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    if replace:
        assert replace[0] in query
        query = query.replace(*replace)
    return query


def bindings(client: Any, query: str) -> list[dict[str, str]]:
    """The rows /sparql answers ``query`` with (200 asserted), each value as its lexical form or IRI."""
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.data[:300]
    return [{k: v["value"] for k, v in row.items()} for row in resp.get_json()["results"]["bindings"]]
