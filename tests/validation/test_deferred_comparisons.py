"""A comparison's exact part, deferred to a custom function (``CompiledShapes._deferred``), decides
every pair of terms as the same expression written into the query does."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import pytest
import rdflib

from allianceld.validation.compiled import (
    _compare_exact,
    _compare_ok,
    _Deferred,
    _fast,
    _Operand,
    _range_exact,
    _range_ok,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
SHAPE = rdflib.URIRef("http://example.org/S")


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


TERMS = [
    _typed("1", "integer"),
    _typed("2", "integer"),
    _typed("x", "integer"),  # ill-typed
    _typed("1.5", "decimal"),
    _typed("1.5", "double"),
    _typed("NaN", "double"),
    _typed("2001-01-01", "date"),
    _typed("2001-01-01Z", "date"),
    _typed("2001-01-02+14:00", "date"),
    _typed("2001-13-01", "date"),  # ill-typed
    _typed("2001-01-01T00:00:00", "dateTime"),
    _typed("2001-01-01T00:00:00Z", "dateTime"),
    _typed("12:00:00", "time"),
    _typed("true", "boolean"),
    _typed("1", "gYear"),
    ox.Literal("a"),
    ox.Literal("b"),
    ox.Literal("a", language="en"),
    ox.Literal("a", language="fr"),
    ox.Literal("1", datatype=ox.NamedNode("http://example.org/type")),
    ox.NamedNode("http://example.org/a"),
    ox.BlankNode("b0"),
]
LIMITS = [
    rdflib.Literal(2),
    rdflib.Literal("1.5", datatype=rdflib.XSD.decimal),
    rdflib.Literal("2001-01-01", datatype=rdflib.XSD.date),
    rdflib.Literal("2001-01-01T12:00:00", datatype=rdflib.XSD.dateTime, normalize=False),
    rdflib.Literal("b"),
    rdflib.Literal("a", lang="en"),
]


def _store() -> ox.Store:
    """Each term the object of a triple (blank nodes cannot be written in VALUES)."""
    store = ox.Store()
    p = ox.NamedNode("urn:p")
    store.extend(ox.Quad(ox.NamedNode(f"urn:s{i}"), p, t) for i, t in enumerate(TERMS))
    return store


def _answers(store: ox.Store, expression: str, arity: int, functions: dict | None) -> set[tuple]:
    where = "?x <urn:p> ?v . ?y <urn:p> ?c ." if arity == 2 else "?x <urn:p> ?v ."
    query = f"SELECT ?v ?c (COALESCE({expression}, 'error') AS ?r) WHERE {{ {where} }}"
    return {(row["v"], row["c"], row["r"]) for row in store.query(query, custom_functions=functions)}


def _deferring() -> tuple[Callable[[str, tuple[str, ...]], str], dict]:
    functions: dict = {}

    def defer(expression: str, args: tuple[str, ...]) -> str:
        iri = f"urn:deferred:{len(functions)}"
        functions[ox.NamedNode(iri)] = _Deferred(expression, len(args))
        return f"<{iri}>({', '.join(args)})"

    return defer, functions


@pytest.mark.parametrize("op", ["<", "<="])
def test_a_deferred_pair_comparison_decides_as_written_in(op: str) -> None:
    store = _store()
    defer, functions = _deferring()
    new = _answers(store, _compare_ok("?v", "?c", op, defer), 2, functions)
    written = _fast(_Operand.variable("?v"), _Operand.variable("?c"), op, _compare_exact("?v", "?c", op))
    old = _answers(store, written, 2, None)
    assert len(old) == len(TERMS) ** 2
    assert new == old
    assert {r for _v, _c, r in old} == {ox.Literal(True), ox.Literal(False)}


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
@pytest.mark.parametrize("limit", LIMITS, ids=str)
def test_a_deferred_range_decides_as_written_in(op: str, limit: rdflib.Literal) -> None:
    store = _store()
    defer, functions = _deferring()
    new = _answers(store, _range_ok("?v", limit, SHAPE, op, defer), 1, functions)
    b = _Operand.constant(limit, SHAPE)
    exact = _range_exact("?v", limit, SHAPE, op)
    written = f"COALESCE(isLiteral(?v) && {_fast(_Operand.variable('?v', compared_with=b), b, op, exact)}, false)"
    old = _answers(store, written, 1, None)
    assert len(old) == len(TERMS)
    assert new == old
