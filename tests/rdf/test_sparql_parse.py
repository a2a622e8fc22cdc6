"""rdflib's parse of a SPARQL text, done once per text and kept on disk between processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parser import parseQuery

from allianceld.rdf import sparql_parse

QUERY = """PREFIX ex: <http://example.org/>
SELECT ?s (STRLEN(?name) AS ?n) WHERE {
  ?s ex:name ?name ; ex:age ?age .
  FILTER (?age > 17 && STRSTARTS(LCASE(?name), "a") && !BOUND(?nothing))
  OPTIONAL { ?s ex:knows/ex:name ?friend }
} ORDER BY ?s"""

DATA = """@prefix ex: <http://example.org/> .
ex:a ex:name "Ada" ; ex:age 36 ; ex:knows ex:b .
ex:b ex:name "Alan" ; ex:age 17 .
ex:c ex:name "Bea" ; ex:age 40 ."""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, and nothing kept in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sparql_parse, "_kept", {})
    return tmp_path / "allianceld" / "sparql"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    monkeypatch.setattr(sparql_parse, "parseQuery", lambda text: parsed.append(text) or parseQuery(text))
    return parsed


def test_a_text_is_parsed_once_and_then_read_from_the_cache_by_the_next_process(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _counting(monkeypatch)
    sparql_parse.prepared(QUERY)
    sparql_parse.prepared(QUERY)
    assert parsed == [QUERY]
    assert len(list(cache.glob("*.pickle"))) == 1
    monkeypatch.setattr(sparql_parse, "_kept", {})  # as a new process finds it
    sparql_parse.prepared(QUERY)
    assert parsed == [QUERY]


def test_the_kept_parse_answers_as_rdflibs_own(cache: Path) -> None:
    graph = rdflib.Graph().parse(data=DATA, format="turtle")
    expected = [tuple(row) for row in graph.query(prepareQuery(QUERY))]
    assert expected  # the query finds something: the comparison below means something
    for _ in range(2):  # parsed here, then read from memory, then from disk
        assert [tuple(row) for row in graph.query(sparql_parse.prepared(QUERY))] == expected
    sparql_parse._kept.clear()
    assert [tuple(row) for row in graph.query(sparql_parse.prepared(QUERY))] == expected
    assert str(sparql_parse.prepared(QUERY).algebra) == str(prepareQuery(QUERY).algebra)


def test_a_torn_cache_file_is_parsed_again_and_replaced(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sparql_parse.prepared(QUERY)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:20])
    sparql_parse._kept.clear()
    parsed = _counting(monkeypatch)
    graph = rdflib.Graph().parse(data=DATA, format="turtle")
    assert len(list(graph.query(sparql_parse.prepared(QUERY)))) == 1
    assert parsed == [QUERY]
    sparql_parse._kept.clear()
    sparql_parse.prepared(QUERY)
    assert parsed == [QUERY]  # the rewritten file was read


def test_a_text_that_does_not_parse_raises_and_leaves_nothing(cache: Path) -> None:
    with pytest.raises(Exception, match="Expected"):
        sparql_parse.parsed("SELECT ?s WHERE { ?s ?p }")
    assert not list(cache.glob("*.pickle"))
    assert not sparql_parse._kept
