"""SHACL validation of data against the shapes, together with what is already in the store."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from allianceld import forked
from allianceld.rdf import formats
from allianceld.rdf.formats import rdflib_term
from allianceld.store import KnowledgeBase
from allianceld.validation.compiled import DetachedReport, SparqlValidator, targeted, text
from allianceld.validation.fallback import Fallback, merge
from allianceld.validation.fallback import text as _text
from allianceld.validation.plan_cache import remembered_plan
from allianceld.validation.report import SEVERITIES, Report
from allianceld.validation.scope import Reach, changed_triples, mentioned, scope
from allianceld.vocab import SH

log = logging.getLogger(__name__)


def read_shapes(path: Path, graph: rdflib.Graph) -> None:
    """Add the Turtle shapes file ``path`` (its own IRI the base) to ``graph``, each literal as
    written: rdflib would normalise ``"1"^^xsd:boolean`` to true, which SHACL does not read as true
    (ill-typed literals are kept: a shapes file may hold test data)."""
    raw = path.read_bytes()
    parser = ox.parse(raw, format=ox.RdfFormat.TURTLE, base_iri=formats.file_iri(path), lenient=True)
    try:
        for q in parser:
            graph.add(tuple(formats.rdflib_term(t, as_written=True) for t in (q.subject, q.predicate, q.object)))  # type: ignore[arg-type]
    except SyntaxError as exc:
        raise formats.syntax_error(exc, source=str(path), raw=raw) from None
    for prefix, namespace in parser.prefixes.items():
        graph.bind(prefix, namespace, override=False)


def _labelled(triples: list[ox.Triple]) -> rdflib.Graph:
    """``triples`` as an rdflib graph, blank node labels kept (the report names the scope's nodes)."""
    graph = rdflib.Graph(store="SimpleMemory")
    for t in triples:
        graph.add((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object)))
    return graph


class Validator:
    """The shapes and the ontology, parsed once; validates graphs against them.

    ``engine`` runs the validations: "sparql" (each shape the compiler can evaluate compiled into
    SPARQL queries run by pyoxigraph, :mod:`allianceld.validation.compiled`, and the others by
    pySHACL, :mod:`allianceld.validation.fallback`) or "pyshacl" (every shape by pySHACL: slower).
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
            read_shapes(Path(f), self.shapes)
        self.ontology = ontology
        self.reach = Reach.of(self.shapes)
        self.engine = engine
        if engine == "sparql":
            self.plan = remembered_plan(self.shapes, [Path(f) for f in shape_files])
            self.compiled = SparqlValidator(self.shapes, self.ontology, only=self.plan.compiled)
            self.fallback = Fallback(self.shapes, self.plan.fallback, compiled=self.plan.compiled)
            for shape, reason in self.plan.fallback.items():
                log.warning("SHACL shape %s is validated by pySHACL, not compiled: %s", _text(shape), reason)
        else:
            self.fallback = Fallback(self.shapes, {s: "engine pyshacl" for s in targeted(self.shapes)})

    def shape_plan(self) -> list[tuple[str, str, str]]:
        """Each shape with targets: (shape, "compiled" or "fallback", why it falls back)."""
        if self.engine != "sparql":
            return [(_text(s) or "", "fallback", r) for s, r in self.fallback.reasons.items()]
        rows = [(_text(s) or "", "compiled", "") for s in self.plan.compiled]
        rows += [(_text(s) or "", "fallback", r) for s, r in self.plan.fallback.items()]
        return sorted(rows)

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
            if self.fallback:
                report = merge([report, self.fallback.validate(formats.to_rdflib(triples) + self.ontology)])
        if written and report.warnings:
            named = {text(n) for t in triples for n in (t.subject, t.object) if not isinstance(n, ox.Literal)}
            report.results = [r for r in report.results if r.severity == "Violation" or r.focus_node in named]
        return report

    def validate_bulk(self, triples: list[ox.Triple], kb: KnowledgeBase, *, replacing: Iterable[str] = ()) -> Report:
        """Validate a large write of ``triples`` (``gate.is_large_write``) with every asserted graph of
        ``kb`` except those it replaces, without an rdflib copy: every Violation in the store and the write, and the
        Warnings about the nodes the write adds or removes triples about (as ``full=True``)."""
        return self.begin_bulk(triples, kb, replacing=replacing).report()

    def begin_bulk(
        self, triples: list[ox.Triple], kb: KnowledgeBase, *, replacing: Iterable[str] = (), beside: bool = False
    ) -> BulkValidation:
        """:meth:`validate_bulk` begun, ended by :meth:`BulkValidation.report`. ``beside``: the
        shapes' queries run in a forked child process (:mod:`allianceld.forked`) while the caller
        goes on, where this process can fork safely (a command's, no other thread running; the
        caller's store must be one no other process reads either, as the write may then begin
        before its report); otherwise they run when the report is asked for."""
        return BulkValidation(self, triples, kb, set(replacing), beside=beside)

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
            keep, named = None, mentioned(changed_triples(kb, data, replacing))
            report = self._run(data, kb, kept)
        else:
            # the results are kept for the focus nodes (the compiled queries about none of them are not
            # run): pySHACL's own focus_nodes option also skips value nodes in nested shapes (sh:not)
            keep, named = {_text(n) for n in found.focus}, found.mentioned
            report = self._run(found.context, focus=keep)
        warn = {_text(n) for n in named}
        report.keep(
            lambda r: (keep is None or r.focus_node in keep) and (r.severity == "Violation" or r.focus_node in warn),
            _result_key,
        )
        return report

    def _run(
        self,
        data: rdflib.Graph | list[ox.Triple],
        kb: KnowledgeBase | None = None,
        graphs: Iterable[str] = (),
        *,
        focus: set[str] | None = None,
    ) -> Report:
        """Validate ``data`` (an rdflib graph, or pyoxigraph triples: a scope's context) with the
        ``graphs`` of ``kb`` and the ontology, by the engine; ``focus``: the nodes whose results are
        kept (the compiled queries about none of them are not run)."""
        graphs = list(graphs)
        reports = []
        if self.engine == "sparql":
            stored = [q.triple for q in kb.quads(graphs)] if kb is not None else []
            reports.append(self.compiled.validate(stored, data, focus=focus))
        if self.fallback:
            combined = data if isinstance(data, rdflib.Graph) else _labelled(data)
            if kb is not None:
                combined = kb.rdflib_graph(graphs)
                combined += data
            reports.append(self.fallback.validate(combined + self.ontology))
        return merge(reports)


class BulkValidation:
    """A large write's validation (:meth:`Validator.begin_bulk`): the shapes' queries over the
    store and the write, run in a forked child or when the report is asked for, then the Warnings
    kept (:meth:`report`)."""

    def __init__(
        self, validator: Validator, triples: list[ox.Triple], kb: KnowledgeBase, replaced: set[str], *, beside: bool
    ) -> None:
        self._validator, self._triples, self._kb = validator, triples, kb
        self._report: Report | None = None
        self._queries: forked.Beside[DetachedReport] | None = None
        if validator.engine == "pyshacl":
            self._report = validator.validate(formats.to_rdflib(triples), kb, replacing=replaced, full=True)
            return
        # read now: the write's own graphs may begin loading before the report is read
        self._kept = [g for g in kb.data_graphs() if g not in replaced]
        self._old_graphs = replaced & set(kb.graphs())
        stored = [q.triple for q in kb.quads(self._kept)]
        self._queries = forked.Beside(functools.partial(validator.compiled.detached, stored, triples), fork=beside)

    @property
    def beside(self) -> bool:
        """Whether the queries run in a child process (their report is not known yet)."""
        return self._queries is not None and self._queries.forked

    def report(self) -> Report:
        """The report: every Violation in the store and the write, and the Warnings about the nodes
        the write adds or removes triples about. Waits for the child; a child that failed is
        replaced by the work done here."""
        if self._report is None:
            assert self._queries is not None
            self._report = self._kept_warnings(self._queries.result().attach(self._validator.compiled.shapes))
        return self._report

    def close(self) -> None:
        """End the child, unheard, if the write stopped before reading the report."""
        if self._queries is not None:
            self._queries.cancel()

    def _kept_warnings(self, report: Report) -> Report:
        """``report`` with the pySHACL shapes' results, and only the Warnings whose focus node's
        triples the write changes."""
        kb, triples = self._kb, self._triples
        if self._validator.fallback:
            combined = kb.rdflib_graph(self._kept)
            combined += formats.to_rdflib(triples)
            report = merge([report, self._validator.fallback.validate(combined + self._validator.ontology)])
        if not report.warnings:
            return report
        # a Warning is kept when the triples naming its focus node change: compared node by node
        # with index look-ups, not by reading the replaced graphs
        new = _naming(triples, {r.focus_node for r in report.warnings})
        old_graphs = self._old_graphs

        def changed(node: str) -> bool:
            if not old_graphs or node.startswith(("_:", '"')):  # a blank node or literal: by the write
                return node in new
            term = ox.NamedNode(node)
            old = {q.triple for way in (False, True) for q in kb.match([term], incoming=way, graphs=old_graphs)}
            return old != new.get(node, set())

        named = {r.focus_node for r in report.warnings if changed(r.focus_node)}
        report.keep(lambda r: r.severity == "Violation" or r.focus_node in named, _result_key)
        return report


def _naming(triples: list[ox.Triple], nodes: set[str]) -> dict[str, set[ox.Triple]]:
    """For each of ``nodes`` (IRIs and blank nodes as :func:`text` writes them; literals are never
    looked for), the triples of ``triples`` naming it as subject or object. The nodes are made
    into terms once and the triples' terms looked up by hash, instead of writing every term out."""
    terms: dict[ox.NamedNode | ox.BlankNode, str] = {}
    for key in nodes:
        for make, label in ((ox.NamedNode, key), (ox.BlankNode, key[2:] if key.startswith("_:") else None)):
            if label is None:
                continue
            try:
                term = make(label)
            except ValueError:  # not an IRI (a literal's text) or not a blank node label
                continue
            if text(term) == key:
                terms[term] = key
    found: dict[str, set[ox.Triple]] = {}
    for t in triples:
        for n in (t.subject, t.object):
            key = terms.get(n)  # type: ignore[call-overload]
            if key is not None:
                found.setdefault(key, set()).add(t)
    return found


def _result_key(graph: rdflib.Graph, node: Any) -> tuple[str | None, str | None]:
    """A report graph's result node's focus node and severity, as its :class:`Result` writes them."""
    return _text(graph.value(node, SH.focusNode)), SEVERITIES.get(graph.value(node, SH.resultSeverity))
