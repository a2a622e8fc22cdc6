"""The shapes the compiler cannot evaluate, validated exactly by pySHACL, shape by shape.

The fallback's shapes graph is the whole shapes graph with the targets of every compiled shape
taken out: nested shapes stay where fallback shapes refer to them, and only the fallback shapes
select focus nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import rdflib
from rdflib import RDF, RDFS, Literal
from rdflib.plugins.sparql.sparql import Query

from allianceld.errors import InvalidShapes
from allianceld.rdf import sparql_parse
from allianceld.validation.compiled import CLASS_TYPES, TARGETS, implicit_class
from allianceld.validation.report import SEVERITIES, Report, Result
from allianceld.vocab import SH

Node = rdflib.term.Node


@functools.lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: frozenset[tuple[str, Any]]) -> Query:
    return sparql_parse.prepared(text, base, dict(namespaces))


class _ParsedOnce(rdflib.Graph):
    """A graph whose SPARQL queries are parsed once per text. pySHACL runs a SPARQL constraint once
    per focus node, with the same text and ``$this`` bound, and rdflib parses the text every time
    (25 ms a run: most of a small validation). Only the graphs given to pySHACL here are of this
    class; rdflib itself is left as it is."""

    def query(  # type: ignore[override]
        self,
        query_object: Any,
        processor: Any = "sparql",
        result: Any = "sparql",
        initNs: Any = None,
        initBindings: Any = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and processor == "sparql":
            namespaces = initNs or dict(self.namespaces())
            query_object = _prepared(query_object, kwargs.get("base"), frozenset(namespaces.items()))
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


def residual(shapes: rdflib.Graph, compiled: Iterable[Node]) -> rdflib.Graph:
    """``shapes`` without the targets of the ``compiled`` shapes."""
    graph = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        graph.bind(prefix, namespace, override=False)
    graph += shapes
    for shape in compiled:
        for p in TARGETS:
            graph.remove((shape, p, None))
        if implicit_class(shapes, shape):
            for kind in CLASS_TYPES:
                graph.remove((shape, RDF.type, kind))
    return graph


class Fallback:
    """pySHACL over the shapes graph that ``residual`` leaves: the shapes the compiler refused."""

    def __init__(self, shapes: rdflib.Graph, reasons: dict[Node, str], compiled: Iterable[Node] = ()) -> None:
        self.reasons = reasons
        self.shapes = residual(shapes, compiled) if reasons else rdflib.Graph()  # no copy when none falls back

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def validate(self, data: rdflib.Graph) -> Report:
        """pySHACL's report over ``data`` (the ontology already mixed in); InvalidShapes when a
        fallback shape is not well-formed."""
        # imported here: most runs need no fallback, and pySHACL is a tenth of every command's start
        import pyshacl
        from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError, ValidationFailure

        try:
            _conforms, graph, _text = pyshacl.validate(
                data_graph=_ParsedOnce(store=data.store, identifier=data.identifier),
                shacl_graph=self.shapes,
                inference="none",
                advanced=True,
                allow_warnings=False,  # a failing nested Warning shape does not conform (SHACL 3.4)
                inplace=True,
            )
        except (ValidationFailure, ShapeLoadError, ConstraintLoadError) as exc:
            raise InvalidShapes(f"the shapes graph is not well-formed: {_message(exc)}") from None
        except ReportableRuntimeError as exc:  # pySHACL stops on some data (a blank node sh:lessThan a value)
            raise InvalidShapes(f"pySHACL cannot validate these shapes on this data: {_message(exc)}") from None
        except Exception as exc:  # rdflib's own errors on a query pySHACL runs (e.g. GRAPH without a dataset)
            raise InvalidShapes(f"pySHACL cannot validate these shapes: {type(exc).__name__}: {exc}") from None
        if not isinstance(graph, rdflib.Graph):  # pySHACL returns some failures instead of raising them
            raise InvalidShapes(f"the shapes graph is not well-formed: {_message(graph)}")
        reports = list(graph.subjects(RDF.type, SH.ValidationReport))
        # the report's results, not the nested ones pySHACL gives as their sh:detail
        results = [_result(graph, node, data) for report in reports for node in graph.objects(report, SH.result)]
        for report in reports:  # SHACL 1.0: conforms is false on any result, any severity
            graph.set((report, SH.conforms, Literal(not results)))
        describe_blank_nodes(graph, data)
        return Report(results=results, graph=graph)


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).strip()


def describe_blank_nodes(report: rdflib.Graph, data: rdflib.Graph) -> None:
    """Copy into ``report`` the triples of ``data`` about each blank focus node and value (and
    the blank nodes they lead to), so that a reader can tell which node a result is about."""
    todo = [o for p in (SH.focusNode, SH.value) for o in report.objects(None, p) if isinstance(o, rdflib.BNode)]
    seen: set[Node] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in data.predicate_objects(node):
            report.add((node, p, o))
            if isinstance(o, rdflib.BNode):
                todo.append(o)


def merge(reports: list[Report]) -> Report:
    """One report of the results of ``reports`` (a report each engine made over the same data)."""
    reports = [r for r in reports if r is not None]
    if len(reports) == 1:
        return reports[0]
    graph = rdflib.Graph()
    root = rdflib.BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    results: list[Result] = []
    for report in reports:
        results += report.results
        part = report.graph
        for prefix, namespace in part.namespaces():
            graph.bind(prefix, namespace, override=False)
        for s, p, o in part:
            if (p == RDF.type and o == SH.ValidationReport) or p == SH.conforms:
                continue
            graph.add((root if (s, RDF.type, SH.ValidationReport) in part else s, p, o))
    graph.add((root, SH.conforms, Literal(not results)))
    return Report(results=results, graph=graph)


def text(term: Any) -> str | None:
    """An rdflib term as a report shows it (N3 for typed and tagged literals, ``_:id`` for blank nodes)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        if term.language:  # as the store keeps it: BCP 47 tags compare without case
            return Literal(str(term), lang=term.language.lower()).n3()
        return term.n3() if term.datatype else str(term)
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return str(term)


def _result(report: rdflib.Graph, node: Any, labels: rdflib.Graph) -> Result:
    focus = report.value(node, SH.focusNode)
    label = labels.value(focus, RDFS.label) if focus is not None else None
    path = report.value(node, SH.resultPath)
    return Result(
        severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
        focus_node=text(focus) or "",
        focus_label=str(label) if label is not None else None,
        path=text(path) if not isinstance(path, rdflib.BNode) else "(complex path)",
        value=text(report.value(node, SH.value)),
        source_shape=text(report.value(node, SH.sourceShape)),
        constraint=text(report.value(node, SH.sourceConstraintComponent)),
        message=str(report.value(node, SH.resultMessage) or "constraint not met"),
    )
