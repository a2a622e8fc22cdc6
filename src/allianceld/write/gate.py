"""The one write gate: parse -> validate against shapes + store -> commit atomically -> reason."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from allianceld import collector, forked
from allianceld.errors import Inconsistent, QuerySyntaxError, ValidationFailed
from allianceld.rdf import depth, formats, literals
from allianceld.reasoning import dl_check, materialise, rl_engine, rl_rules
from allianceld.store import KnowledgeBase, bulk_write, federation
from allianceld.store.backends import EmbeddedBackend, SparqlBackend
from allianceld.validation.report import Report
from allianceld.validation.validator import BulkValidation
from allianceld.vocab import (
    DEFAULT_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    WRITE_RECORDS_GRAPH,
    Kind,
    data_graph_iri,
    kind_of,
)
from allianceld.write import graph_policy, write_records
from allianceld.write.graph_policy import LOCAL, Writer
from allianceld.write.write_policy import WritePolicy

T = TypeVar("T")
Writes = dict[str, list[ox.Triple]]


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
    reasoning: materialise.Materialisation | None


def read_file(path: Path, graph: str | None = None) -> Source:
    """Parse one file for the graph ``graph`` (default: the data graph named after the file)."""
    return Source(graph or data_graph_iri(path.stem), formats.parse_file(path), str(path))


def shipped_sources(ontology_file: Path, data_files: list[Path]) -> list[Source]:
    """The ontology and the curated data files, each for its own graph."""
    return [read_file(ontology_file, ONTOLOGY_GRAPH)] + [read_file(f) for f in data_files]


# A write of at least this many triples, and at least a tenth of the store, takes the paths made for
# bulk loads: validated with the whole store (finding its scope costs about 0.5 ms per written
# triple, reading and validating the store about 0.05 ms per stored one; a 20k-triple load beside
# the shipped data: 9.4 s for the scope, 0.5 s in full) and reasoned over in full.
LARGE_WRITE_TRIPLES = 2000


def is_large_write(kb: KnowledgeBase, size: int) -> bool:
    """Whether a write of ``size`` triples is large for ``kb``'s store (:data:`LARGE_WRITE_TRIPLES`)."""
    return size >= LARGE_WRITE_TRIPLES and size * 10 >= kb.count()


def commit(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    sources: list[Source],
    *,
    force: bool = False,
    reason: bool = True,
    provenance: Mapping[str, list[ox.Triple]] | None = None,
    writer: Writer = LOCAL,
) -> CommitResult:
    """Validate ``sources`` with the store's other data (``write_policy.validator``) and, if they
    conform (or ``force``), replace their graphs and the inferred graph (recomputed) in one
    transaction, with the domain rules' updates (``write_policy.rules``).

    ``provenance`` maps provenance graphs (``vocab.provenance_graph_iri``) to their new content,
    written in the same transaction without shape validation or reasoning. Contribution graphs
    and provenance graphs are written only this way, each contribution with its record. The triples for
    ``vocab.WRITE_RECORDS_GRAPH`` (a write's record, ``write.write_records``) are added to it, not replacing it.

    Unless ``force``, the write is also refused with :class:`Inconsistent` (nothing written) when
    the OWL 2 RL rules find an individual in two disjoint classes, or, with ``write_policy.dl_checks``,
    when HermiT finds the knowledge base inconsistent on a module of the write (:mod:`dl_check`).

    ``writer`` (default: this process, run by its operator) may write only the graphs
    ``graph_policy.check_write`` lets it; schema triples go into the ontology graph only
    (``graph_policy.check_no_schema``); a token holder's change of a curated data graph is recorded
    (``graph_policy.change_record``) in the same transaction.

    Raises :class:`ValidationFailed` (nothing written) when a Violation is found and not ``force``,
    :class:`Forbidden` for a graph ``writer`` may not write (a contribution or provenance graph
    written without its record, a derived graph, …), ``graph_policy.SchemaOutsideOntology`` (422).
    """
    # no other write between this validation and this commit (nor, on a remote store, by another service)
    with collector.paused(sum(len(s.triples) for s in sources) >= LARGE_WRITE_TRIPLES):
        return kb.exclusive(
            lambda: _commit(
                kb, write_policy, sources, force=force, reason=reason, provenance=provenance or {}, writer=writer
            )
        )


def _check_policy(
    kb: KnowledgeBase,
    graphs: Mapping[str, list[ox.Triple]],
    provenance: Mapping[str, list[ox.Triple]],
    writer: Writer,
    *,
    beside: bool = False,
) -> forked.Beside[dict[str, list[ox.Triple]]]:
    """Refuse what ``writer`` may not write (403) now; refuse schema triples outside the ontology
    graph (422) and make the record of each change of a curated graph by a token holder (the new
    provenance graphs, the result's value) when the result is asked for, or with ``beside`` in a
    forked child meanwhile (:class:`forked.Beside`; its result raises the refusal)."""
    graph_policy.check_writes(graphs, writer, provenance)
    ontology = graphs[ONTOLOGY_GRAPH] if ONTOLOGY_GRAPH in graphs else kb.ontology()
    namespaces = graph_policy.vocabulary_namespaces(ontology)
    present = set(kb.graphs())
    before = {graph: set(kb.triples(graph)) if graph in present else set() for graph in graphs}
    at = datetime.now(UTC)
    return forked.Beside(functools.partial(_changes, graphs, before, namespaces, writer, at), fork=beside)


def _changes(
    graphs: Mapping[str, list[ox.Triple]],
    before: Mapping[str, set[ox.Triple]],
    namespaces: frozenset[str],
    writer: Writer,
    at: datetime,
) -> dict[str, list[ox.Triple]]:
    """Refuse the schema triples ``graphs`` add outside the ontology graph; the provenance records
    of their changes (from ``before``, their stored content) when ``writer`` is a token holder."""
    records = {}
    for graph, triples in graphs.items():
        added = [t for t in dict.fromkeys(triples) if t not in before[graph]]  # what was there stays allowed
        graph_policy.check_no_schema(graph, added, namespaces)
        if writer.agent is not None and kind_of(graph) is Kind.CURATED:
            removed = list(before[graph] - set(triples))
            if added or removed:
                iri, record = graph_policy.change_record(graph, writer, at=at, added=added, removed=removed)
                records[iri] = record
    return records


def _commit(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    sources: list[Source],
    *,
    force: bool,
    reason: bool,
    provenance: Mapping[str, list[ox.Triple]] | None = None,
    writer: Writer = LOCAL,
) -> CommitResult:
    provenance = dict(provenance or {})
    records = provenance.pop(WRITE_RECORDS_GRAPH, [])  # the write's record is added to the graph of them all
    if records and isinstance(kb.backend, SparqlBackend):  # its key looked up before this attempt began
        write_records.check_not_landed(kb, records)
    validator = write_policy.validator
    graphs: dict[str, list[ox.Triple]] = {}
    for s in sources:
        graphs.setdefault(s.graph, []).extend(s.triples)
    triples = [t for ts in graphs.values() for t in ts]
    large = bool(kb.graphs()) and is_large_write(kb, len(triples))
    # a command's large write is checked and validated in child processes while it is reasoned
    # over (before the DL check's thread starts: a fork needs this thread to be the only one)
    beside = large and kb.unshared
    policy = _check_policy(kb, graphs, provenance, writer, beside=beside)
    bulk = None
    try:
        if not policy.forked:
            provenance.update(policy.result())
        bulk = validator.begin_bulk(triples, kb, replacing=graphs, beside=beside) if large else None
        return _validated_commit(kb, write_policy, graphs, provenance, records, triples, policy, bulk, force, reason)
    finally:
        policy.cancel()
        if bulk is not None:
            bulk.close()


def _validated_commit(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    graphs: dict[str, list[ox.Triple]],
    provenance: dict[str, list[ox.Triple]],
    records: list[ox.Triple],
    triples: list[ox.Triple],
    policy: forked.Beside[dict[str, list[ox.Triple]]],
    bulk: BulkValidation | None,
    force: bool,
    reason: bool,
) -> CommitResult:
    """:func:`_commit` once the write's policy check (``policy``: when it runs beside, its value is
    the change records still to add to ``provenance``) and its bulk validation (``bulk``, for a
    large write) are begun: validated, reasoned over, checked by HermiT, written."""
    validator = write_policy.validator
    large = bulk is not None
    dl_verdict = None
    if write_policy.dl_checks and not force:  # the module first, then HermiT (Java) checks it meanwhile
        check = dl_check.WriteCheck.of(kb, None, graphs, graphs, worker=write_policy.hermit)
        dl_verdict = _beside(check.verdict)
    reports: list[Report] = []

    def validated() -> None:
        """The policy's checks passed and its change records made, the report known (``reports``),
        and the write refused on a Violation (unless ``force``)."""
        if policy.forked:  # (heard once: then it no longer is)
            made = policy.result()  # raises the policy's refusal
            provenance.update(made)
            if early is not None and made:  # they load while the rules are recomputed
                kb.stage(made, early=early)
        if not reports:
            if bulk is not None:
                reports.append(bulk.report())
            elif kb.graphs():
                reports.append(validator.validate(formats.to_rdflib(triples), kb, replacing=graphs))
            else:  # a load into an empty store: validated as they are, without an rdflib copy
                reports.append(validator.validate_triples(triples, written=True))
        if not reports[0].accepted and not force:
            raise ValidationFailed(reports[0])

    early: bulk_write.Early | None = None
    if not policy.forked and (bulk is None or not bulk.beside):
        validated()
    stored = kb.knowledge_graphs()  # before the write (its new graphs may load from now on)
    early = kb.stage({**graphs, **provenance}) if large else None  # its new graphs load while it is reasoned over
    try:
        try:
            writes, change, done, rules = _reasoned(
                kb, write_policy, graphs, provenance, triples, large, reason, force, stored, early, validated
            )
        except Inconsistent:
            validated()  # a Violation first, as when the validation ran before the reasoning
            _refuse_if_inconsistent(dl_verdict)  # HermiT's verdict next, as when it ran before the reasoning
            raise
        validated()
        _refuse_if_inconsistent(dl_verdict)
    except BaseException:
        if early is not None:  # refused, or stopped: what was loaded goes
            early.abort()
        raise
    removed, added = (change.removed, change.added) if change is not None else ((), ())
    # data, provenance records, the inferences (or their change) and the rules' updates in one transaction
    kb.write(
        {**writes, **provenance, **rules.graphs},
        remove={INFERRED_GRAPH: removed},
        add={INFERRED_GRAPH: added, WRITE_RECORDS_GRAPH: records},
        then=rules.ops,
        keep=rules.graphs,
        early=early,
    )
    kb.carried_lookups = _carried(kb, rules, [*provenance, WRITE_RECORDS_GRAPH])
    return CommitResult(reports[0], sorted(graphs), sum(len(t) for t in graphs.values()), done)


def _carried(kb: KnowledgeBase, rules: materialise.RuleWrites, elsewhere: list[str]) -> tuple[int, object] | None:
    """After a write made (not one that raised: its outcome may be unknown), the store look-ups of its
    domain rules' upkeep as the store now holds them, with the store's version (the next write uses
    them only at that version: any other write moves it on); only on the embedded store, which
    nothing else writes, and when the rules' updates were all computed on look-ups. ``elsewhere``:
    the other graphs the write changed."""
    if not isinstance(kb.backend, EmbeddedBackend) or rules.overlay is None:
        return None
    carried = rules.overlay.carried(elsewhere)
    return (kb.version, carried) if carried is not None else None


def _beside(function: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """``function(*args, **kwargs)`` started in a thread of its own."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="allianceld-dl-check")
    try:
        return pool.submit(function, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the call


def _refuse_if_inconsistent(verdict: Future[dl_check.WriteConsistency] | None) -> None:
    """Wait for HermiT's verdict and raise :class:`Inconsistent` when it finds the write inconsistent."""
    if verdict is not None and (found := verdict.result()).consistent is False:
        raise Inconsistent(found)


def _reasoned(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    graphs: dict[str, list[ox.Triple]],
    provenance: dict[str, list[ox.Triple]],
    triples: list[ox.Triple],
    large: bool,
    reason: bool,
    force: bool,
    stored: list[str],
    early: bulk_write.Early | None = None,
    validated: Callable[[], None] = lambda: None,
) -> tuple[Writes, rl_engine.InferenceChange | None, materialise.Materialisation | None, materialise.RuleWrites]:
    """What the write's transaction writes: the graphs and provenance records, the OWL 2 RL change
    (None when recomputed in full, then in the graphs), how it was reasoned, the rules' writes.
    ``stored``: the knowledge graphs before the write; ``early``: its parts loading already, to
    which the inferences recomputed in full are added (:meth:`KnowledgeBase.stage`); ``validated``:
    called before the domain rules run (it raises to refuse the write). Raises
    :class:`Inconsistent` (unless ``force``) when the rules find an individual in two disjoint
    classes that was not before the write."""
    writes: dict[str, list[ox.Triple]] = {**graphs, **provenance}
    change = None
    done = None
    after = materialise.RuleWrites()
    if reason:
        start = time.perf_counter()
        try:
            change = materialise.maintain(kb, graphs, large=large)
            if change.clashes and not force:
                raise Inconsistent(materialise.rl_verdict(change.clashes))
            done = materialise.Materialisation(
                "incremental", len(change.added), time.perf_counter() - start, removed=len(change.removed)
            )
        except rl_engine.NeedsFullRecompute as why:
            asserted = [t for g in stored if g not in graphs for t in kb.triples(g)] + triples
            writes[INFERRED_GRAPH], name = materialise.inferred_triples(asserted)
            if not force and (clashes := _new_clashes(kb, graphs, stored, asserted, writes[INFERRED_GRAPH])):
                raise Inconsistent(materialise.rl_verdict(clashes)) from None
            if early is not None:  # they load while the rules are recomputed
                kb.stage({INFERRED_GRAPH: writes[INFERRED_GRAPH]}, early=early)
            done = materialise.Materialisation(
                name, len(writes[INFERRED_GRAPH]), time.perf_counter() - start, why=str(why)
            )
        validated()  # a write refused by its validation (run beside) is not worth its rules
        knowledge = sorted(
            (set(kb.knowledge_graphs()) | {g for g, ts in graphs.items() if ts})
            - {g for g, ts in graphs.items() if not ts}
        )
        after = materialise.rule_updates(
            kb, write_policy.rules, knowledge, change, graphs, inferred=writes.get(INFERRED_GRAPH)
        )
    return writes, change, done, after


def _new_clashes(
    kb: KnowledgeBase,
    graphs: Mapping[str, list[ox.Triple]],
    stored: list[str],
    asserted: list[ox.Triple],
    inferred: list[ox.Triple],
) -> list[rl_engine.Clash]:
    """The disjointness (cax-dw, cax-adc) the ``asserted`` and ``inferred`` triples of a write
    reasoned over in full violate and the store (its knowledge graphs ``stored`` and inferred graph)
    did not before it, as the incremental engine finds those its new triples make."""
    rules = materialise.ruleset_of(graphs[ONTOLOGY_GRAPH]) if ONTOLOGY_GRAPH in graphs else materialise.ruleset(kb)
    after = rl_engine.clashes_among(rules, itertools.chain(asserted, inferred))
    if not after:
        return []
    nodes = {c.individual for c in after if isinstance(c.individual, ox.NamedNode | ox.BlankNode)}
    types = kb.match(nodes, [rl_rules.TYPE], graphs=[*stored, INFERRED_GRAPH])
    before = rl_engine.clashes_among(materialise.ruleset(kb), (q.triple for q in types))
    known = {(c.individual, frozenset((c.first, c.second))) for c in before}
    return [c for c in after if (c.individual, frozenset((c.first, c.second))) not in known]


def apply_update(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    update: str,
    *,
    writer: Writer = LOCAL,
    base_iri: str | None = None,
    provenance: Mapping[str, list[ox.Triple]] | None = None,
) -> CommitResult:
    """Run a SPARQL Update through the gate: it is applied to a scratch copy of the store, the
    graphs it changes are checked for ``writer`` and validated like any other write,
    and only then are they replaced in the store, with the inferences, in one transaction.
    Relative IRIs in ``update`` resolve against ``base_iri``; ``provenance`` is written with it, as by :func:`commit`.

    The update's default graph is the Graph Store's default graph (``/data?default``, kept as the
    named graph ``vocab.DEFAULT_GRAPH``). The graphs it changes are checked for ``writer`` like
    those of :func:`commit` (``write.graph_policy``). The derived
    graphs (OWL 2 RL, domain rules) are read-only: an update that changes one is refused (403),
    except an update that empties the whole store (``DROP ALL``, ``CLEAR ALL``), whose inferences
    are recomputed from what is left, nothing.

    Raises :class:`QuerySyntaxError`, :class:`Forbidden` or :class:`ValidationFailed`; nothing is
    written in any of these cases.
    An update that would fetch anything (``LOAD <url>``, ``SERVICE``) is refused with 400 before
    it runs (``federation.check_update``), whichever backend holds the store.
    """
    depth.check_sparql(update, what="update")  # before rdflib's or pyoxigraph's parser recurses
    federation.check_update(update)
    return kb.exclusive(lambda: _apply_update(kb, write_policy, update, writer, base_iri, provenance))


def _apply_update(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    update: str,
    writer: Writer,
    base_iri: str | None,
    provenance: Mapping[str, list[ox.Triple]] | None,
) -> CommitResult:
    """:func:`apply_update` once, from the store as it is now."""
    before: dict[str, set[ox.Quad]] = {}
    for quad in kb.quads(kb.graphs()):  # read the store once
        before.setdefault(quad.graph_name.value, set()).add(quad)
    scratch = ox.Store()
    scratch.extend(  # the Graph Store's default graph is the update's default graph
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) if g == DEFAULT_GRAPH else q
        for g, qs in before.items()
        for q in qs
    )
    try:
        scratch.update(update, base_iri=base_iri)
    except SyntaxError as exc:
        raise QuerySyntaxError(f"SPARQL Update syntax error: {exc.msg or exc}") from None
    after: dict[str, set[ox.Quad]] = {}
    for quad in scratch:
        if not isinstance(quad.graph_name, ox.NamedNode):
            quad = ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(DEFAULT_GRAPH))
        after.setdefault(quad.graph_name.value, set()).add(quad)
    changed = [g for g in sorted(set(before) | set(after)) if before.get(g, set()) != after.get(g, set())]
    if not after:  # everything dropped: the derived graphs follow the asserted ones (recomputed: empty)
        changed = [g for g in changed if kind_of(g) is not Kind.DERIVED]
    for g in changed:
        graph_policy.check_write(g, writer)
    sources = [Source(g, [q.triple for q in after.get(g, set())], "SPARQL Update") for g in changed]
    for s in sources:  # ill-typed or over-long literals, as formats.parse refuses them in files
        literals.check(s.triples, source="SPARQL Update")
    return _commit(kb, write_policy, sources, force=False, reason=True, provenance=provenance, writer=writer)
