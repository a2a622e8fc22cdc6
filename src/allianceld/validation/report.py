"""A SHACL validation report and its results, as every validation engine returns them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib.namespace import RDF

from allianceld.vocab import ALDS, SH

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
SEVERITY_IRIS = {name: iri for iri, name in SEVERITIES.items()}
OWN_PREFIX = "allianceld:"  # a result this service adds (no shape): its "constraint" is in the shapes namespace


@dataclass(frozen=True)
class Result:
    """One validation result, in the words a curator needs to act on it."""

    severity: str
    focus_node: str
    focus_label: str | None
    path: str | None
    value: str | None
    source_shape: str | None
    constraint: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "focusNode": self.focus_node,
            "focusLabel": self.focus_label,
            "path": self.path,
            "value": self.value,
            "sourceShape": self.source_shape,
            "constraint": self.constraint,
            "message": self.message,
        }

    def __str__(self) -> str:
        focus = f"{self.focus_node}" + (f" ({self.focus_label})" if self.focus_label else "")
        where = f" path {self.path}" if self.path else ""
        value = f" value {self.value}" if self.value is not None else ""
        return f"{self.severity}: {focus}{where}{value}: {self.message} [{self.source_shape}]"


@dataclass
class Report:
    """A SHACL validation report. ``conforms`` as SHACL 1.0 defines it: there is no result at all
    (a Warning or an Info makes it false). ``accepted``: there is no Violation, so a write with
    this report is committed (writes are refused for Violations only)."""

    results: list[Result]
    graph: rdflib.Graph = field(repr=False)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def infos(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Info"]

    @property
    def violation_count(self) -> int:
        return len(self.violations)

    @property
    def conforms(self) -> bool:
        """SHACL's ``sh:conforms``: true only when there is no result of any severity."""
        return not self.results

    @property
    def accepted(self) -> bool:
        """No Violation: the write gate commits a write with this report (Warnings and Infos allowed)."""
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "accepted": self.accepted,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "infos": len(self.infos),
            "results": [r.to_json() for r in self.results],
        }

    def to_turtle(self) -> str:
        """The report as an ``sh:ValidationReport`` in Turtle."""
        return self.graph.serialize(format="turtle")

    def extend(self, results: list[Result]) -> None:
        """Add ``results`` found outside the shapes (a look-alike alliance's Warning, say): to the
        results and, as ``sh:ValidationResult`` nodes, to the report graph."""
        self.results.extend(results)
        self._change_graph(lambda graph: add_to_graph(graph, results))

    def keep(
        self, kept: Callable[[Result], bool], node_key: Callable[[rdflib.Graph, Any], tuple[str | None, str | None]]
    ) -> None:
        """Keep the results ``kept`` accepts, and in the graph only their result nodes: ``kept``
        must decide by a result's focus node and severity alone, which ``node_key`` reads from a
        result node of the graph (as the results write them). sh:conforms follows."""
        self.results = [r for r in self.results if kept(r)]
        pairs = {(r.focus_node, r.severity) for r in self.results}
        self._change_graph(lambda graph: _prune(graph, lambda node: node_key(graph, node) in pairs))

    def _change_graph(self, change: Callable[[rdflib.Graph], None]) -> None:
        """Apply ``change`` to the report graph."""
        change(self.graph)

    def to_text(self) -> str:
        """A summary line (conforms, or the counts and whether a write would be accepted), then the results."""
        counts = f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s), {len(self.infos)} info(s)"
        if self.conforms:
            head = "conforms"
        else:
            verdict = "a write would be accepted" if self.accepted else "a write would be refused"
            head = f"does not conform: {counts}; {verdict}"
        lines = [head]
        lines += [str(r) for r in sorted(self.results, key=lambda r: (r.severity, r.focus_node))]
        return "\n".join(lines)


class LazyReport(Report):
    """A Report whose graph is built when first read: a refused bulk load needs its results,
    seldom the graph of its many results."""

    def __init__(self, results: list[Result], build: Callable[[], rdflib.Graph]) -> None:
        self.results = results
        self._build: Callable[[], rdflib.Graph] | None = build
        self._graph: rdflib.Graph | None = None

    @property  # type: ignore[override]
    def graph(self) -> rdflib.Graph:
        if self._graph is None:
            assert self._build is not None
            self._graph, self._build = self._build(), None
        return self._graph

    def _change_graph(self, change: Callable[[rdflib.Graph], None]) -> None:
        """Apply ``change`` to the report graph now if it is built, else when it is (:meth:`extend`,
        :meth:`keep`)."""
        if self._graph is not None:
            change(self._graph)
            return
        build = self._build
        assert build is not None

        def built() -> rdflib.Graph:
            graph = build()
            change(graph)
            return graph

        self._build = built


def _prune(graph: rdflib.Graph, keep: Callable[[Any], bool]) -> None:
    """Take out of a report graph the result nodes ``keep`` refuses, with the blank nodes only they
    lead to (a copied shape or path, a described value), and set sh:conforms anew."""
    root = next(graph.subjects(RDF.type, SH.ValidationReport), None)
    if root is None:
        return
    for node in [n for n in graph.objects(root, SH.result) if not keep(n)]:
        graph.remove((root, SH.result, node))
        _remove_tree(graph, node)
    graph.set((root, SH.conforms, rdflib.Literal(next(graph.objects(root, SH.result), None) is None)))


def _remove_tree(graph: rdflib.Graph, node: Any) -> None:
    """Remove ``node``'s triples, and those of each blank node it led to that nothing else points at."""
    nodes = [node]
    while nodes:
        current = nodes.pop()
        for _, p, o in list(graph.triples((current, None, None))):
            graph.remove((current, p, o))
            if isinstance(o, rdflib.BNode) and next(graph.subjects(None, o), None) is None:
                nodes.append(o)


def _node(text: str) -> rdflib.term.Node:
    """A result's focus node or value as written in a Result: ``_:id`` a blank node, an absolute
    IRI a named node, anything else a plain literal."""
    if text.startswith("_:"):
        return rdflib.BNode(text[2:])
    if "://" in text or text.startswith("urn:"):
        return rdflib.URIRef(text)
    return rdflib.Literal(text)


def add_to_graph(graph: rdflib.Graph, results: list[Result]) -> None:
    """Each of ``results`` as an ``sh:ValidationResult`` of the graph's ``sh:ValidationReport``
    (its severity, focus node, value, message and constraint component; an own constraint
    ``allianceld:X`` is ``alds:X``); the report then no longer conforms."""
    if not results:
        return
    root = next(graph.subjects(RDF.type, SH.ValidationReport), None)
    if root is None:
        root = rdflib.BNode()
        graph.add((root, RDF.type, SH.ValidationReport))
    graph.set((root, SH.conforms, rdflib.Literal(False)))
    for r in results:
        node = rdflib.BNode()
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.resultSeverity, SEVERITY_IRIS[r.severity]))
        graph.add((node, SH.focusNode, _node(r.focus_node)))
        graph.add((node, SH.resultMessage, rdflib.Literal(r.message)))
        if r.value is not None:
            graph.add((node, SH.value, _node(r.value)))
        if r.path is not None and "://" in r.path:
            graph.add((node, SH.resultPath, rdflib.URIRef(r.path)))
        if r.constraint is not None:
            own = r.constraint.startswith(OWN_PREFIX)
            component = ALDS[r.constraint[len(OWN_PREFIX) :]] if own else rdflib.URIRef(r.constraint)
            graph.add((node, SH.sourceConstraintComponent, component))
        if r.source_shape is not None and "://" in r.source_shape:
            graph.add((node, SH.sourceShape, rdflib.URIRef(r.source_shape)))
