"""The upgrade path when the shipped ontology, shapes or rules change (``allianceld migrate``).

The store keeps a copy of the ontology (its own graph) and what was derived with it (the OWL 2 RL
inferred graph and one graph per domain rule); the shapes are read from their files on every
start. A new release can change all three, so a migration, in one transaction:

1. replaces the stored ontology graph with the ontology file (and, with ``data``, the shipped
   curated data graphs with the data files);
2. validates every asserted data graph of the store (curated, loaded, imported, contributed)
   against the new shapes with the new ontology, and refuses the whole migration when one
   violates them, unless ``force``;
3. recomputes the inferred graph and every domain rule's graph from the new ontology and the
   data, and drops the graphs of rules that no longer exist;
4. adds the digest of its data to the record of every contribution stored without one (before
   duplicate contributions were looked for), so that posting such a contribution again is refused
   as a duplicate like any other.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from allianceld.errors import ValidationFailed
from allianceld.operations.backup import ontology_digest
from allianceld.reasoning import materialise
from allianceld.store import KnowledgeBase
from allianceld.validation.report import Report
from allianceld.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, RULE_GRAPH_BASE
from allianceld.write import contributions, gate
from allianceld.write.write_policy import WritePolicy


@dataclass
class Migration:
    """What a migration found and did (or, for a dry run, would do)."""

    ontology_changed: bool
    ontology_added: int  # triples of the new ontology not in the stored one (blank nodes aside)
    ontology_removed: int
    data_graphs: list[str]  # the asserted data graphs validated
    data_reloaded: list[str]  # the shipped data graphs replaced from their files
    report: Report
    inferred: int = 0
    rules: list[str] = field(default_factory=list)  # the rule graphs recomputed
    dropped: list[str] = field(default_factory=list)  # the graphs of rules that are gone
    digests: list[str] = field(default_factory=list)  # the contribution records given their data's digest
    written: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "ontologyChanged": self.ontology_changed,
            "ontologyTriplesAdded": self.ontology_added,
            "ontologyTriplesRemoved": self.ontology_removed,
            "dataGraphs": len(self.data_graphs),
            "dataReloaded": self.data_reloaded,
            "violations": self.report.violation_count,
            "warnings": len(self.report.warnings),
            "inferred": self.inferred,
            "rules": self.rules,
            "dropped": self.dropped,
            "digestsAdded": len(self.digests),
            "written": self.written,
            "seconds": round(self.seconds, 2),
        }


def _ground(triples: list[ox.Triple]) -> set[ox.Triple]:
    """The triples without blank nodes: what a count of added and removed axioms can compare
    (blank node labels differ between two parses of the same file)."""
    return {t for t in triples if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}


def migrate(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    ontology: list[ox.Triple],
    *,
    data: Sequence[gate.Source] = (),
    force: bool = False,
    dry_run: bool = False,
) -> Migration:
    """Bring the store of ``kb`` to ``ontology`` and the shapes and rules of ``write_policy`` (and
    the shipped ``data`` sources), as the module says, in one transaction under the store's write
    lock. Raises :class:`ValidationFailed` (nothing written) when the data violates the new shapes
    and not ``force``; ``dry_run`` validates and reports without writing."""
    start = time.perf_counter()
    with kb.write_lock:
        stored = kb.triples(ONTOLOGY_GRAPH)
        old, new = _ground(stored), _ground(ontology)
        reloaded = {s.graph: s.triples for s in data}
        graphs = sorted(set(kb.data_graphs()) | set(reloaded))
        asserted = [t for g in graphs for t in (reloaded[g] if g in reloaded else kb.triples(g))]
        report = write_policy.validator.validate_triples(asserted)
        found = Migration(
            ontology_changed=ontology_digest(stored) != ontology_digest(ontology),
            ontology_added=len(new - old),
            ontology_removed=len(old - new),
            data_graphs=graphs,
            data_reloaded=sorted(reloaded),
            report=report,
        )
        records = contributions.records_without_digest(kb)
        found.digests = sorted(records)
        if not report.accepted and not force:
            raise ValidationFailed(report)
        if dry_run:
            found.seconds = time.perf_counter() - start
            return found
        inferred_triples, _ = materialise.inferred_triples([*ontology, *asserted])
        knowledge = [ONTOLOGY_GRAPH, *graphs]
        current = {r.graph for r in write_policy.rules}
        found.dropped = [g for g in kb.graphs() if g.startswith(RULE_GRAPH_BASE) and g not in current]
        drops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in found.dropped]
        updates = materialise.rule_updates(  # every rule in full
            kb, write_policy.rules, knowledge, None, {ONTOLOGY_GRAPH: ontology, **reloaded}, inferred=inferred_triples
        )
        replace = {ONTOLOGY_GRAPH: ontology, INFERRED_GRAPH: inferred_triples, **reloaded, **records, **updates.graphs}
        kb.write(replace, then=[*drops, *updates.ops], keep=updates.graphs)
        found.inferred, found.rules, found.written = len(inferred_triples), sorted(current), True
    found.seconds = time.perf_counter() - start
    return found
