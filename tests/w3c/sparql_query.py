"""Runs the W3C SPARQL 1.1 query-evaluation tests against allianceld's /sparql endpoint.

Each test's data is loaded into a fresh store (the default graph as a named graph given with
``default-graph-uri``, the named graphs under their canonical IRIs), the query is sent through the
SPARQL 1.1 Protocol, and the answer is compared with the expected results: solutions as a
multiset (a sequence under ORDER BY), numbers by value, blank nodes up to a consistent renaming,
graphs up to isomorphism.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

SUITE = Path(__file__).resolve().parents[3] / "shared" / "testsuites" / "sparql11"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DEFAULT = "urn:x-allianceld:w3c-default"
NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#" + t
    for t in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}


@dataclass
class Case:
    name: str
    query: Path
    data: list[Path]
    graph_data: list[Path]
    result: Path | None


def local(iri: str) -> Path:
    """The file in this checkout for a canonical test IRI."""
    return SUITE / iri.removeprefix(BASE)


def cases() -> list[Case]:
    """Every QueryEvaluationTest of the SPARQL 1.1 Query manifest."""
    top = rdflib.Graph().parse(SUITE / "manifest-sparql11-query.ttl", publicID=BASE + "manifest-sparql11-query.ttl")
    found: list[Case] = []
    for include in rdflib.collection.Collection(top, next(top.objects(None, MF.include))):
        path = local(str(include))
        g = rdflib.Graph().parse(path, publicID=str(include))
        for entries in g.objects(None, MF.entries):
            for test in rdflib.collection.Collection(g, entries):
                if (test, rdflib.RDF.type, MF.QueryEvaluationTest) not in g:
                    continue
                action = g.value(test, MF.action)
                result = g.value(test, MF.result)
                found.append(
                    Case(
                        name=f"{path.parent.name}/{str(test).rsplit('#', 1)[-1]}",
                        query=local(str(g.value(action, QT.query))),
                        data=[local(str(d)) for d in g.objects(action, QT.data)],
                        graph_data=[local(str(d)) for d in g.objects(action, QT.graphData)],
                        result=local(str(result)) if result is not None else None,
                    )
                )
    return found


def canonical(path: Path) -> str:
    return BASE + str(path.relative_to(SUITE))


def load(path: Path) -> list[ox.Triple]:
    fmt = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML}[path.suffix]
    return [q.triple for q in ox.parse(path.read_bytes(), format=fmt, base_iri=canonical(path))]


def _term_key(term: Any) -> Any:
    """A comparable form of a result term: numbers and booleans by value, blank nodes by label."""
    if isinstance(term, ox.Literal) and term.datatype.value in NUMERIC:
        try:
            return ("num", str(Decimal(term.value.strip()).normalize()))
        except InvalidOperation:
            return ("num?", term.value.strip().lower())
    if isinstance(term, ox.Literal) and term.datatype.value == "http://www.w3.org/2001/XMLSchema#boolean":
        return ("bool", term.value.strip() in ("true", "1"))
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    return ("term", str(term))


def _rows(result: Any) -> tuple[list[str], list[dict[str, Any]]]:
    names = [v.value for v in result.variables]
    return names, [{n: _term_key(row[n]) for n in names if row[n] is not None} for row in result]


def _same_rows(expected: list[dict], actual: list[dict], ordered: bool) -> bool:
    """Multiset (or sequence) equality, blank nodes up to a consistent renaming."""
    if len(expected) != len(actual):
        return False

    def bnodes(rows: list[dict]) -> list[str]:
        return sorted({v[1] for r in rows for v in r.values() if v[0] == "bnode"})

    eb, ab = bnodes(expected), bnodes(actual)
    if len(eb) != len(ab):
        return False

    def norm(rows: list[dict], mapping: dict[str, str]) -> list[tuple]:
        out = [
            tuple(sorted((k, ("bnode", mapping[v[1]]) if v[0] == "bnode" else v) for k, v in r.items())) for r in rows
        ]
        return out if ordered else sorted(out, key=repr)

    target = norm(expected, {b: b for b in eb})
    if not ab:
        return norm(actual, {}) == target
    if len(ab) > 7:  # too many to try every renaming: compare with blank nodes anonymised
        anon = {b: "_" for b in ab}
        return norm(actual, anon) == norm(expected, {b: "_" for b in eb})
    return any(norm(actual, dict(zip(ab, perm, strict=True))) == target for perm in itertools.permutations(eb))


RESULT_FORMATS = {
    ".srx": ox.QueryResultsFormat.XML,
    ".srj": ox.QueryResultsFormat.JSON,
    ".tsv": ox.QueryResultsFormat.TSV,
    ".csv": ox.QueryResultsFormat.CSV,
}


def check(client: Any, kb: Any, case: Case) -> str | None:
    """Run one test; None when it passes, otherwise why not."""
    kb.replace_graphs({g: [] for g in kb.graphs()})
    graphs: dict[str, list[ox.Triple]] = {DEFAULT: [t for d in case.data for t in load(d)]}
    for d in case.graph_data:
        graphs[canonical(d)] = load(d)
    query_text = case.query.read_text(encoding="utf-8")
    if not re.search(r"^\s*BASE\b", query_text, re.I | re.M):
        # a test query's relative IRIs resolve against its own location (the protocol carries no base)
        query_text = f"BASE <{canonical(case.query)}>\n{query_text}"
    # graphs named in FROM / FROM NAMED are the suite's own files: load them under their IRIs
    for iri in re.findall(r"FROM\s+(?:NAMED\s+)?<([^>]+)>", query_text, re.I):
        target = local(iri) if iri.startswith(BASE) else case.query.parent / iri
        if target.is_file():
            graphs[canonical(target)] = load(target)
    kb.replace_graphs(graphs)
    params: list[tuple[str, str]] = [("query", query_text)]
    if not re.search(r"\bFROM\b", query_text, re.I):
        params.append(("default-graph-uri", DEFAULT))
        params += [("named-graph-uri", canonical(d)) for d in case.graph_data]
    suffix = case.result.suffix if case.result else ""
    if suffix == ".ttl" and "CONSTRUCT" not in query_text.upper() and "DESCRIBE" not in query_text.upper():
        return "expected results in the RDF result-set vocabulary are not compared"
    accept = "text/turtle" if suffix in (".ttl", ".nt", ".rdf") else "application/sparql-results+json"
    from urllib.parse import urlencode

    resp = client.post(
        "/sparql",
        data=urlencode(params),
        headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
    )
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}: {resp.data[:200]!r}"
    if accept == "text/turtle":
        expected = rdflib.Graph().parse(case.result, publicID=canonical(case.result))
        actual = rdflib.Graph().parse(data=resp.data.decode(), format="turtle")
        return None if isomorphic(expected, actual) else "graphs differ"
    actual_res = ox.parse_query_results(resp.data, format=ox.QueryResultsFormat.JSON)
    expected_res = ox.parse_query_results(case.result.read_bytes(), format=RESULT_FORMATS[suffix])
    if isinstance(expected_res, ox.QueryBoolean) or isinstance(actual_res, ox.QueryBoolean):
        return None if bool(expected_res) == bool(actual_res) else "boolean differs"
    _, exp_rows = _rows(expected_res)
    _, act_rows = _rows(actual_res)
    if suffix in (".csv", ".tsv") and suffix == ".csv":  # CSV drops datatypes and languages
        exp_rows = [
            {k: v if v[0] != "term" else ("term", v[1].split('"')[1] if '"' in v[1] else v[1]) for k, v in r.items()}
            for r in exp_rows
        ]
        act_rows = [
            {k: v if v[0] != "term" else ("term", v[1].split('"')[1] if '"' in v[1] else v[1]) for k, v in r.items()}
            for r in act_rows
        ]
    ordered = bool(re.search(r"ORDER\s+BY", query_text, re.I))
    return None if _same_rows(exp_rows, act_rows, ordered) else "solutions differ"
