"""The prologue of a query sent to a remote endpoint is read by tokens (a BASE in a comment or a string is
not one) and rewritten with one BASE in first place, or sent as written when it cannot be read."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from allianceld.store import prologue

HERE = "http://127.0.0.1:8000/sparql"


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("select * {}", "SELECT"),
        ("PREFIX : <http://e/> Ask {}", "ASK"),
        ("# CONSTRUCT\nBASE <http://e/> DESCRIBE <x>", "DESCRIBE"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("INSERT DATA {}", None),
        ("PREFIX e:a <http://e/> SELECT * {}", None),  # not a prefix declaration: the prologue stops there
    ],
)
def test_the_query_form_is_read_after_the_prologue(query: str, form: str | None) -> None:
    assert prologue.read(query).form == form


def test_only_the_prologue_s_declarations_are_base_declarations() -> None:
    query = '# BASE <http://comment/>\nSELECT ("BASE <http://string/>" AS ?s) { <s> ?p ?o }'
    assert prologue.read(query).declarations == ()
    assert prologue.read(query).one_base(HERE) == f"BASE <{HERE}>\n{query}"


def test_every_base_is_resolved_into_one_sent_first() -> None:
    query = (
        "PREFIX a: <a/>\nBASE <http://e/x/>\nPREFIX b: <../b/>\nbase <\\u0063/> "
        "SELECT (<s> AS ?s) (a:p AS ?p) (b:o AS ?o) {}"
    )
    sent = prologue.read(query).one_base(HERE)
    assert sent == (
        "BASE <http://e/x/c/>\nPREFIX a: <http://127.0.0.1:8000/a/>\nPREFIX b: <http://e/b/>\n"
        "SELECT (<s> AS ?s) (a:p AS ?p) (b:o AS ?o) {}"
    )
    # pyoxigraph, given the request's base, reads the query as the endpoint reads what is sent
    assert list(ox.Store().query(query, base_iri=HERE)) == list(ox.Store().query(sent))


def test_a_prologue_that_cannot_be_read_or_resolved_is_sent_as_written() -> None:
    broken = "BASE SELECT * {}"
    assert prologue.read(broken).one_base(HERE) == f"BASE <{HERE}>\n{broken}"
    relative = "BASE <e/> SELECT * {}"  # no base to resolve it against: the endpoint says what it makes of it
    assert prologue.read(relative).one_base(None) == relative
    with pytest.raises(ValueError):
        prologue.read("SELECT * {}").one_base("not an IRI")
