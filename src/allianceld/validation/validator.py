"""SHACL validation of data against the shapes, together with what is already in the store."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib import RDF, RDFS, Literal
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query

from allianceld.rdf import formats
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import SparqlValidator, text
from allianceld.validation.report import SEVERITIES, Report, Result
from allianceld.validation.scope import Reach, changed_triples, mentioned, scope
from allianceld.vocab import SH


@functools.lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: frozenset[tuple[str, Any]]) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces))


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


class Validator:
    """The shapes and the ontology, parsed once; validates graphs against them.

    ``engine`` runs the validations: "sparql" (the shapes compiled into SPARQL queries evaluated
    by pyoxigraph, :mod:`allianceld.validation.compiled`) or "pyshacl" (the same results, far slower).
    """

    def __init__(
        self,
        shape_files: list[Path],
        ontology: rdflib.Graph,
        *,
        engine: str = "sparql",
    ) -> None:
        if not shape_files:
            raise FileNotFoundError("no SHACL shapes files found")
        if engine not in ("sparql", "pyshacl"):
            raise ValueError(f"unknown validation engine {engine!r} (sparql or pyshacl)")
        self.shapes = rdflib.Graph()
        for f in shape_files:
            self.shapes.parse(f, format="turtle")
        self.ontology = ontology
        self.reach = Reach.of(self.shapes)
        self.engine = engine
        if engine == "sparql":
            self.compiled  # noqa: B018 -- compile now: unsupported shapes fail here, not on a write

    @functools.cached_property
    def compiled(self) -> SparqlValidator:
        """The shapes compiled into SPARQL (raises UnsupportedShapes naming what it cannot compile)."""
        return SparqlValidator(self.shapes, self.ontology)

    @classmethod
    def from_settings(cls, settings: Any, *, engine: str = "sparql") -> Validator:
        """The settings' shapes files and ontology."""
        ontology = rdflib.Graph().parse(settings.ontology_file, format="turtle")
        return cls(settings.shape_files(), ontology, engine=engine)

    def validate_triples(self, triples: Iterable[ox.Triple], *, written: bool = False) -> Report:
        """Validate ``triples`` alone (with the ontology), as :meth:`validate` does a graph
        without a store, but without copying them into rdflib: for bulk loads. ``written``:
        as a write into an empty store, Warnings only about the nodes the triples mention."""
        triples = triples if isinstance(triples, list) else list(triples)
        if self.engine == "pyshacl":
            report = self.validate(formats.to_rdflib(triples))
        else:
            report = self.compiled.validate(triples)
        if written and report.warnings:
            named = {text(n) for t in triples for n in (t.subject, t.object) if not isinstance(n, ox.Literal)}
            report.results = [r for r in report.results if r.severity == "Violation" or r.focus_node in named]
        return report

    def validate_bulk(self, triples: list[ox.Triple], kb: KnowledgeBase, *, replacing: Iterable[str] = ()) -> Report:
        """Validate a large write of ``triples`` (``gate.is_large_write``) with every asserted graph of
        ``kb`` except those it replaces, without an rdflib copy: every Violation in the store and the write, and the
        Warnings about the nodes the write adds or removes triples about (as ``full=True``)."""
        replaced = set(replacing)
        if self.engine == "pyshacl":
            return self.validate(formats.to_rdflib(triples), kb, replacing=replaced, full=True)
        stored = [q.triple for q in kb.quads([g for g in kb.data_graphs() if g not in replaced])]
        report = self.compiled.validate(stored, triples)
        if not report.warnings:
            return report
        # a Warning is kept when the triples naming its focus node change: compared node by node
        # with index look-ups, not by reading the replaced graphs
        warned = {r.focus_node for r in report.warnings}
        new: dict[str, set[ox.Triple]] = {}
        for t in triples:
            for n in (t.subject, t.object):
                if not isinstance(n, ox.Literal) and (key := text(n)) in warned:
                    new.setdefault(key, set()).add(t)
        old_graphs = set(replaced & set(kb.graphs()))

        def changed(node: str) -> bool:
            if not old_graphs or node.startswith(("_:", '"')):  # a blank node or literal: by the write
                return node in new
            term = ox.NamedNode(node)
            old = {q.triple for way in (False, True) for q in kb.match([term], incoming=way, graphs=old_graphs)}
            return old != new.get(node, set())

        named = {r.focus_node for r in report.warnings if changed(r.focus_node)}
        report.results = [r for r in report.results if r.severity == "Violation" or r.focus_node in named]
        return report

    def validate(
        self, data: rdflib.Graph, kb: KnowledgeBase | None = None, *, replacing: Iterable[str] = (), full: bool = False
    ) -> Report:
        """Validate ``data`` together with the asserted data already in ``kb`` (if given), leaving
        out the graphs that the write is about to replace.

        Only the records the write can affect are validated (see :mod:`allianceld.validation.scope`),
        with the store data their shapes read: every Violation among them, and the Warnings of the
        records ``data`` mentions. ``full`` validates the whole store with the write instead (the
        same results when the store was valid before; slow on a large store).
        """
        if kb is None:
            return self._run(data)
        replacing = list(replacing)
        found = None if full else scope(kb, data, replacing, self.reach)
        if found is None:
            kept = [g for g in kb.data_graphs() if g not in set(replacing)]
            focus, named = None, mentioned(changed_triples(kb, data, replacing))
            report = self._run(data, kb, kept)
        else:
            # every target in the context is validated and the results kept for the focus nodes:
            # pySHACL's own focus_nodes option also skips value nodes in nested shapes (sh:not)
            focus, named = found.focus, found.mentioned
            report = self._run(found.context)
        keep, warn = {_text(n) for n in focus} if focus is not None else None, {_text(n) for n in named}
        report.results = [
            r
            for r in report.results
            if (keep is None or r.focus_node in keep) and (r.severity == "Violation" or r.focus_node in warn)
        ]
        return report

    def _run(self, data: rdflib.Graph, kb: KnowledgeBase | None = None, graphs: Iterable[str] = ()) -> Report:
        """Validate ``data`` with the ``graphs`` of ``kb`` and the ontology, by the engine."""
        if self.engine == "sparql":
            stored = [q.triple for q in kb.quads(graphs)] if kb is not None else []
            return self.compiled.validate(stored, data)
        combined = data
        if kb is not None:
            combined = kb.rdflib_graph(graphs)
            combined += data
        return self._pyshacl(combined + self.ontology)

    def _pyshacl(self, data: rdflib.Graph) -> Report:
        """pySHACL over ``data``, the ontology already mixed in."""
        _conforms, graph, _text = pyshacl.validate(
            data_graph=_ParsedOnce(store=data.store, identifier=data.identifier),
            shacl_graph=self.shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
            inplace=True,
        )
        results = [_result(graph, node, data) for node in graph.subjects(RDF.type, SH.ValidationResult)]
        return Report(results=results, graph=graph)


def _text(term: Any) -> str | None:
    if term is None:
        return None
    if isinstance(term, Literal):
        return term.n3() if term.datatype or term.language else str(term)
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return str(term)


def _result(report: rdflib.Graph, node: Any, labels: rdflib.Graph) -> Result:
    focus = report.value(node, SH.focusNode)
    label = labels.value(focus, RDFS.label) if focus is not None else None
    path = report.value(node, SH.resultPath)
    return Result(
        severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
        focus_node=_text(focus) or "",
        focus_label=str(label) if label is not None else None,
        path=_text(path) if not isinstance(path, rdflib.BNode) else "(complex path)",
        value=_text(report.value(node, SH.value)),
        source_shape=_text(report.value(node, SH.sourceShape)),
        constraint=_text(report.value(node, SH.sourceConstraintComponent)),
        message=str(report.value(node, SH.resultMessage) or "constraint not met"),
    )
