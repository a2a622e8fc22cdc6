"""Contributions: data committed through the write gate into a named graph of its own, with a
PROV-O record (``allianceld.write.provenance``) written in the same transaction; listed, read and
retracted (the record is kept and says who retracted it, when and why)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from allianceld.errors import BadRequest, Conflict, NotFound, ValidationFailed
from allianceld.linking import lookalikes
from allianceld.linking.discovery import OWL_SAME_AS, Proposal
from allianceld.rdf import graph_digest
from allianceld.store import KnowledgeBase
from allianceld.validation.report import Result
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


# the contribution, not retracted, whose data has this digest: one look-up of the digest literal
_DUPLICATE = """
SELECT ?id WHERE {
  GRAPH ?record {
    ?checksum spdx:checksumValue ?digest .
    ?graph dcat:checksum ?checksum ; dcterms:identifier ?id .
    FILTER NOT EXISTS { ?graph prov:invalidatedAtTime ?retracted }
  }
  FILTER(STRSTARTS(STR(?record), %(base)s))
}
ORDER BY ?id LIMIT 1
"""
# the contributions, not retracted, whose record has no digest (stored before duplicates were looked for)
_WITHOUT_DIGEST = """
SELECT ?id ?graph ?record WHERE {
  GRAPH ?record {
    ?record a prov:Bundle .
    ?graph dcterms:identifier ?id .
    FILTER NOT EXISTS { ?graph dcat:checksum ?checksum }
    FILTER NOT EXISTS { ?graph prov:invalidatedAtTime ?retracted }
  }
  FILTER(STRSTARTS(STR(?record), %(base)s))
}
ORDER BY ?id
"""
LOOK_ALIKE = "allianceld:LookAlikeAlliance"  # the "constraint" of a look-alike alliance's Warning
SAME_DATA = "allianceld:MaybeDuplicateContribution"  # that of data that may repeat a contribution


class DuplicateContribution(Conflict):
    """The data is that of a stored contribution (409); names it."""

    kind = "duplicate-contribution"


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


def digest(triples: list[ox.Triple]) -> graph_digest.Digest:
    """The triples' digest, whatever their order and blank node labels (:mod:`allianceld.rdf.graph_digest`):
    ``exact`` when it names every blank node apart, so that equal digests mean equal data."""
    return graph_digest.digest(triples)


def duplicate_of(kb: KnowledgeBase, data_digest: str) -> str | None:
    """The id of the contribution (not retracted) whose data has ``data_digest``, or None."""
    rows = kb.select(
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX spdx: <http://spdx.org/rdf/terms#>\n" + _query(_DUPLICATE),
        substitutions={"digest": ox.Literal(data_digest, datatype=provenance.XSD_HEX)},
        inference=False,
    )
    return rows[0]["id"] if rows else None


def records_without_digest(kb: KnowledgeBase) -> dict[str, list[ox.Triple]]:
    """The provenance record of every contribution (not retracted) stored without the digest of
    its data, with that digest added (:func:`digest` of its triples as stored): record graph IRI to
    its new triples. Writing them lets :func:`duplicate_of` find those contributions too."""
    rows = kb.select("PREFIX dcat: <http://www.w3.org/ns/dcat#>\n" + _query(_WITHOUT_DIGEST), inference=False)
    return {
        row["record"]: [*kb.triples(row["record"]), *provenance.checksum(row["id"], digest(kb.triples(row["graph"])))]
        for row in rows
    }


def _same_data_warning(existing: str) -> Result:
    return Result(
        severity="Warning",
        focus_node=f"/contributions/{existing}",
        focus_label=None,
        path=None,
        value=None,
        source_shape=None,
        constraint=SAME_DATA,
        message=f"may be the data of contribution {existing} (its blank nodes cannot all be told apart)",
    )


def look_alike_warnings(kb: KnowledgeBase, triples: list[ox.Triple]) -> list[Result]:
    """A Warning for each new alliance of ``triples`` that looks like a stored one
    (:mod:`allianceld.linking.lookalikes`), naming the stored one."""
    return [
        Result(
            severity="Warning",
            focus_node=found.alliance,
            focus_label=found.label,
            path=None,
            value=found.candidate,
            source_shape=None,
            constraint=LOOK_ALIKE,
            message=found.message(),
        )
        for found in lookalikes.find(kb, triples)
    ]


def contribute(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    triples: list[ox.Triple],
    *,
    agent: str,
    source: str | None = None,
    license: str | None = None,
    comment: str | None = None,
    contribution_id: str | None = None,
    write_record: Mapping[str, list[ox.Triple]] | None = None,
) -> tuple[Contribution, gate.CommitResult]:
    """Validate ``triples`` with the store's data and commit them into a new contribution graph,
    with its provenance record (and the data's :func:`digest`), in one transaction. A new alliance
    that looks like a stored one adds a Warning to the report (:func:`look_alike_warnings`).
    Raises :class:`DuplicateContribution` when a contribution not retracted holds the same triples
    (blank nodes up to renaming), :class:`ValidationFailed` (nothing written) or :class:`BadRequest`
    for data without a triple. ``contribution_id``: the new contribution's id (default: :func:`new_id`);
    ``write_record``: the write's record (``write.write_records``), written in the same transaction."""
    distinct = list(dict.fromkeys(triples))
    if not distinct:
        raise BadRequest("the data holds no triple", parameter="body")
    data_digest = digest(distinct)
    cid = contribution_id or new_id()

    def once() -> tuple[gate.CommitResult, list[Result]]:
        existing = duplicate_of(kb, data_digest)
        if existing is not None and data_digest.exact:
            raise DuplicateContribution(
                f"the data is that of contribution {existing}; nothing was written",
                id=existing,
                url=f"/contributions/{existing}",
            )
        warnings = look_alike_warnings(kb, distinct)
        if existing is not None:  # blank nodes the digest cannot tell apart: maybe the same data
            warnings.append(_same_data_warning(existing))
        at = datetime.now(UTC)
        record = provenance.submission(
            cid,
            agent=agent,
            at=at,
            triples=len(distinct),
            source=source,
            license=license,
            comment=comment,
            digest=data_digest,
        )
        try:
            result = gate.commit(
                kb,
                write_policy,
                [gate.Source(contribution_graph_iri(cid), distinct, f"contribution {cid}")],
                provenance={provenance_graph_iri(cid): record, **(write_record or {})},
            )
        except ValidationFailed as refused:  # the report of a refusal carries the warnings too
            if not warnings:
                raise
            refused.report.extend(warnings)
            raise ValidationFailed(refused.report) from None
        return result, warnings

    # no other contribution between this look-up and this commit (on a remote store, from no other service)
    result, warnings = kb.exclusive(once)
    result.report.extend(warnings)
    found = find(kb, cid)
    assert found is not None
    return found, result


def retract(
    kb: KnowledgeBase,
    write_policy: WritePolicy,
    contribution_id: str,
    *,
    agent: str,
    reason: str | None = None,
    write_record: Mapping[str, list[ox.Triple]] | None = None,
) -> Contribution:
    """Remove the contribution's data through the gate and add the retraction to its record.
    Raises :class:`NotFound`, :class:`Conflict` (already retracted) or :class:`ValidationFailed`
    when other data needs this contribution (nothing is changed then). ``write_record`` as for :func:`contribute`."""

    def once() -> None:
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
            provenance={found.record: list(dict.fromkeys(record)), **(write_record or {})},
        )

    kb.exclusive(once)  # the record read here is the one replaced
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
