"""Contributions: data committed through the write gate into a named graph of its own, with a
PROV-O record (``allianceld.write.provenance``) written in the same transaction; listed, read and
retracted (the record is kept and says who retracted it, when and why)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from allianceld.errors import BadRequest, Conflict, NotFound
from allianceld.linking.discovery import OWL_SAME_AS, Proposal
from allianceld.store import KnowledgeBase
from allianceld.vocab import PROVENANCE_GRAPH_BASE, contribution_graph_iri, provenance_graph_iri
from allianceld.write import gate, provenance
from allianceld.write.write_policy import WritePolicy

ID = re.compile(r"[0-9a-f]{12}")

# one row per contribution record; GRAPH ?record ranges over the provenance graphs only (a curated
# change's record, policy.change_record, has no dcterms:identifier: it is not a contribution)
_RECORD = """
SELECT ?id ?graph ?record ?agent ?agentName ?time ?source ?license ?comment ?triples
       ?retracted ?retractedBy ?retractedByName ?reason
WHERE {
  GRAPH ?record {
    ?record a prov:Bundle .
    ?graph dcterms:identifier ?id ; prov:wasAttributedTo ?agent ; prov:generatedAtTime ?time ;
           <http://rdfs.org/ns/void#triples> ?triples .
    OPTIONAL { ?agent rdfs:label ?agentName }
    OPTIONAL { ?graph dcterms:source ?source }
    OPTIONAL { ?graph dcterms:license ?license }
    OPTIONAL { ?graph rdfs:comment ?comment }
    OPTIONAL {
      ?graph prov:invalidatedAtTime ?retracted ; prov:wasInvalidatedBy ?retraction .
      OPTIONAL { ?retraction prov:wasAssociatedWith ?retractedBy .
                 OPTIONAL { ?retractedBy rdfs:label ?retractedByName } }
      OPTIONAL { ?retraction rdfs:comment ?reason }
    }
  }
  FILTER(STRSTARTS(STR(?record), %(base)s))
}
"""
_COUNT = """
SELECT (COUNT(DISTINCT ?record) AS ?n)
WHERE {
  GRAPH ?record { ?record a prov:Bundle . ?graph dcterms:identifier ?id }
  FILTER(STRSTARTS(STR(?record), %(base)s))
}
"""


def _query(template: str) -> str:
    return template % {"base": str(ox.Literal(PROVENANCE_GRAPH_BASE))}  # a constant, never user text


@dataclass(frozen=True)
class Contribution:
    """A contribution as its provenance record describes it."""

    id: str
    graph: str
    record: str
    agent: str
    agent_iri: str
    time: str
    triples: int
    source: str | None = None
    license: str | None = None
    comment: str | None = None
    retracted: str | None = None
    retracted_by: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as JSON, with the contribution's URL on this service."""
        names = {"agent_iri": "agentIri", "retracted_by": "retractedBy"}
        return {"url": f"/contributions/{self.id}", **{names.get(k, k): v for k, v in asdict(self).items()}}


def _contribution(row: dict[str, Any]) -> Contribution:
    return Contribution(
        id=row["id"],
        graph=row["graph"],
        record=row["record"],
        agent=row["agentName"] or row["agent"],
        agent_iri=row["agent"],
        time=row["time"],
        triples=int(row["triples"]),
        source=row["source"],
        license=row["license"],
        comment=row["comment"],
        retracted=row["retracted"],
        retracted_by=row["retractedByName"] or row["retractedBy"],
        reason=row["reason"],
    )


def new_id() -> str:
    """A fresh contribution id: 12 hex digits of a random UUID."""
    return uuid.uuid4().hex[:12]


def find(kb: KnowledgeBase, contribution_id: str) -> Contribution | None:
    """The contribution ``contribution_id`` (retracted or not), or None."""
    if not ID.fullmatch(contribution_id):
        return None
    rows = kb.select(
        _query(_RECORD),
        substitutions={
            "record": ox.NamedNode(provenance_graph_iri(contribution_id)),
            "graph": ox.NamedNode(contribution_graph_iri(contribution_id)),
        },
    )
    return _contribution(rows[0]) if rows else None


def page(kb: KnowledgeBase, *, limit: int, offset: int) -> tuple[list[Contribution], int]:
    """Up to ``limit`` contributions from ``offset``, newest first, and how many there are in all."""
    rows = kb.select(_query(_RECORD) + f"ORDER BY DESC(?time) ?id LIMIT {int(limit)} OFFSET {int(offset)}")
    total = int(kb.select(_query(_COUNT))[0]["n"])
    return [_contribution(r) for r in rows], total


def contribute(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    triples: list[ox.Triple],
    *,
    agent: str,
    source: str | None = None,
    license: str | None = None,
    comment: str | None = None,
) -> tuple[Contribution, gate.CommitResult]:
    """Validate ``triples`` with the store's data and commit them into a new contribution graph,
    with its provenance record, in one transaction. Raises :class:`ValidationFailed` (nothing
    written) or :class:`BadRequest` for data without a triple."""
    distinct = list(dict.fromkeys(triples))
    if not distinct:
        raise BadRequest("the data holds no triple", parameter="body")
    cid = new_id()
    at = datetime.now(UTC)
    record = provenance.submission(
        cid, agent=agent, at=at, triples=len(distinct), source=source, license=license, comment=comment
    )
    result = gate.commit(
        kb,
        write_policy,
        [gate.Source(contribution_graph_iri(cid), distinct, f"contribution {cid}")],
        provenance={provenance_graph_iri(cid): record},
    )
    found = find(kb, cid)
    assert found is not None
    return found, result


def retract(
    kb: KnowledgeBase, write_policy: WritePolicy, contribution_id: str, *, agent: str, reason: str | None = None
) -> Contribution:
    """Remove the contribution's data through the gate and add the retraction to its record.
    Raises :class:`NotFound`, :class:`Conflict` (already retracted) or :class:`ValidationFailed`
    when other data needs this contribution (nothing is changed then)."""
    with kb.write_lock:  # the record read here is the one replaced
        found = find(kb, contribution_id)
        if found is None:
            raise NotFound(f"no contribution {contribution_id!r}")
        if found.retracted:
            raise Conflict(f"contribution {contribution_id} was retracted at {found.retracted}")
        record = kb.triples(found.record) + provenance.retraction(
            contribution_id, agent=agent, at=datetime.now(UTC), reason=reason
        )
        gate.commit(
            kb,
            write_policy,
            [gate.Source(found.graph, [], f"retraction of contribution {contribution_id}")],
            provenance={found.record: list(dict.fromkeys(record))},
        )
    retracted = find(kb, contribution_id)
    assert retracted is not None
    return retracted


def data(kb: KnowledgeBase, contribution: Contribution) -> list[ox.Triple]:
    """The contribution's triples (none once it is retracted)."""
    return kb.triples(contribution.graph)


def record(kb: KnowledgeBase, contribution: Contribution) -> list[ox.Triple]:
    """The triples of the contribution's provenance record."""
    return kb.triples(contribution.record)


def accept_links(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    proposals: list[Proposal],
    *,
    above: float,
    dump: Path,
    agent: str,
) -> tuple[list[Proposal], Contribution | None, gate.CommitResult | None]:
    """Commit the proposals whose confidence is above ``above`` as one contribution (validated
    by the write gate, with its PROV-O record: ``agent``, the dump file as source). Returns the
    accepted proposals and the contribution (None when nothing was above). Raises
    :class:`ValidationFailed` (nothing written) when the links break a shape."""
    accepted = [p for p in proposals if p.confidence > above]
    if not accepted:
        return [], None, None
    same_as = ox.NamedNode(OWL_SAME_AS)
    triples = [ox.Triple(ox.NamedNode(p.local), same_as, ox.NamedNode(p.external)) for p in accepted]
    contribution, result = contribute(
        kb,
        write_policy,
        triples,
        agent=agent,
        source=dump.resolve().as_uri(),
        comment=f"{len(accepted)} owl:sameAs link(s) found by allianceld link in {dump.name}, "
        f"accepted with confidence above {above}",
    )
    return accepted, contribution, result
