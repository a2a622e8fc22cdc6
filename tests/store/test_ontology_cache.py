"""The ontology's triples are read once and kept while no write can change them."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from allianceld.store import KnowledgeBase
from allianceld.vocab import ONTOLOGY_GRAPH

P = ox.NamedNode("http://example.org/p")


def triple(name: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(f"http://example.org/{name}"), P, ox.Literal(name))


def test_the_ontology_is_kept_between_writes_that_cannot_change_it(tmp_path: Path, monkeypatch) -> None:
    kb = KnowledgeBase(tmp_path / "store")
    kb.replace_graphs({ONTOLOGY_GRAPH: [triple("a")], "http://g/data": [triple("x")]})
    reads: list[str] = []
    real = kb.backend.quads
    monkeypatch.setattr(kb.backend, "quads", lambda graph: reads.append(graph) or real(graph))
    first = kb.ontology()
    kb.replace_graphs({"http://g/data": [triple("y")]})  # another graph: the same tuple, not read again
    assert kb.ontology() is first and reads.count(ONTOLOGY_GRAPH) == 1
    kb.replace_graphs({ONTOLOGY_GRAPH: [triple("b")]})  # the ontology itself
    assert kb.ontology() == (triple("b"),)
    kb.write({}, then=[f"INSERT DATA {{ GRAPH <{ONTOLOGY_GRAPH}> {{ {triple('c')} }} }}"])  # an operation naming it
    assert set(kb.ontology()) == {triple("b"), triple("c")}
    kb.write({}, then=[f"INSERT {{ GRAPH ?g {{ {triple('d')} }} }} WHERE {{ BIND(<{ONTOLOGY_GRAPH}> AS ?g) }}"])
    assert triple("d") in kb.ontology()  # a graph named by a variable: read again
    kb.close()
