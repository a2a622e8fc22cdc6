"""The one write gate: parse -> validate against shapes + store -> commit atomically -> reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from allianceld import rdfio, reasoning
from allianceld.errors import BadRequest, QuerySyntaxError, ValidationFailed
from allianceld.store import KnowledgeBase
from allianceld.validation import Report, Validator
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, data_graph_iri


@dataclass(frozen=True)
class Source:
    """Parsed RDF bound for one named graph."""

    graph: str
    triples: list[ox.Triple]
    name: str


@dataclass(frozen=True)
class CommitResult:
    report: Report
    graphs: list[str]
    triples: int
    reasoning: reasoning.Materialisation | None


def read_file(path: Path, graph: str | None = None) -> Source:
    """Parse one file for the graph ``graph`` (default: the data graph named after the file)."""
    return Source(graph or data_graph_iri(path.stem), rdfio.parse_file(path), str(path))


def shipped_sources(ontology_file: Path, data_files: list[Path]) -> list[Source]:
    """The ontology and the curated data files, each for its own graph."""
    return [read_file(ontology_file, ONTOLOGY_GRAPH)] + [read_file(f) for f in data_files]


def commit(
    kb: KnowledgeBase, validator: Validator, sources: list[Source], *, force: bool = False, reason: bool = True
) -> CommitResult:
    """Validate ``sources`` with the store's other data and, if they conform (or ``force``),
    replace their graphs and the inferred graph (recomputed) in one transaction.

    Raises :class:`ValidationFailed` (nothing written) when a Violation is found and not ``force``.
    """
    with kb.write_lock:  # no other write between this validation and this commit
        return _commit(kb, validator, sources, force=force, reason=reason)


def _commit(
    kb: KnowledgeBase, validator: Validator, sources: list[Source], *, force: bool, reason: bool
) -> CommitResult:
    graphs: dict[str, list[ox.Triple]] = {}
    for s in sources:
        graphs.setdefault(s.graph, []).extend(s.triples)
    incoming = rdfio.to_rdflib(t for ts in graphs.values() for t in ts)
    report = validator.validate(incoming, kb, replacing=graphs)
    if not report.conforms and not force:
        raise ValidationFailed(report)
    writes: dict[str, list[ox.Triple]] = dict(graphs)
    done = None
    if reason:
        start = time.perf_counter()
        kept = kb.rdflib_graph(g for g in kb.asserted_graphs() if g not in graphs)
        inferred, name = reasoning.inferred_graph(kept + incoming)
        writes[INFERRED_GRAPH] = rdfio.from_rdflib(inferred)
        done = reasoning.Materialisation(name, len(inferred), time.perf_counter() - start)
    kb.replace_graphs(writes)  # data and inferences in one transaction
    return CommitResult(report, sorted(graphs), sum(len(t) for t in graphs.values()), done)


def apply_update(
    kb: KnowledgeBase,
    validator: Validator,
    update: str,
    *,
    authorize: Callable[[list[str]], None],
    base_iri: str | None = None,
) -> CommitResult:
    """Run a SPARQL Update through the gate: it is applied to a scratch copy of the store, the
    graphs it changes are validated like any other write (``authorize`` sees their IRIs first),
    and only then are they replaced in the store, with the inferences, in one transaction.
    Relative IRIs in ``update`` resolve against ``base_iri``.

    Removing inferences (``DROP ALL``, ``CLEAR GRAPH <…/graph/inferred>``) is harmless: they are
    recomputed from the asserted graphs on every commit. Adding to the inferred graph is refused.

    Raises :class:`QuerySyntaxError`, :class:`BadRequest` (a write outside a named graph, or into
    the inferred graph) or :class:`ValidationFailed`; nothing is written in any of these cases.
    """
    with kb.write_lock:
        before: dict[str, set[ox.Quad]] = {}
        for quad in kb.quads(kb.graphs()):  # read the store once
            before.setdefault(quad.graph_name.value, set()).add(quad)
        scratch = ox.Store()
        scratch.extend(q for qs in before.values() for q in qs)
        try:
            scratch.update(update, base_iri=base_iri)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL Update syntax error: {exc.msg or exc}") from None
        after: dict[str, set[ox.Quad]] = {}
        for quad in scratch:
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise BadRequest(
                    "the update writes into the default graph; allianceld keeps every triple in a named graph: "
                    "use INSERT DATA { GRAPH <…> { … } }"
                )
            after.setdefault(quad.graph_name.value, set()).add(quad)
        changed = [g for g in sorted(set(before) | set(after)) if before.get(g, set()) != after.get(g, set())]
        if INFERRED_GRAPH in changed:
            if after.get(INFERRED_GRAPH, set()) - before.get(INFERRED_GRAPH, set()):
                raise BadRequest(
                    f"the inferred graph <{INFERRED_GRAPH}> is computed by the reasoner; it cannot be written"
                )
            changed.remove(INFERRED_GRAPH)  # only removals: the commit recomputes the inferences
        authorize(changed)
        sources = [Source(g, [q.triple for q in after.get(g, set())], "SPARQL Update") for g in changed]
        return _commit(kb, validator, sources, force=False, reason=True)
