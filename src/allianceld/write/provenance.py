"""PROV-O records of contributions: who contributed which graph, when, from what source, under
which licence, and who retracted it.

The record of contribution ``c`` lives in its own graph (``vocab.provenance_graph_iri(c)``, a
``prov:Bundle``) and describes the contribution's data graph (``vocab.contribution_graph_iri(c)``,
a ``prov:Entity``). It never uses ``prov:wasDerivedFrom``: the shapes give that property to the
curated records, each citing a titled source.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox

from allianceld.vocab import (
    DCTERMS,
    PROV,
    VOID,
    activity_iri,
    agent_iri,
    contribution_graph_iri,
    provenance_graph_iri,
)

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
XSD_HEX = ox.NamedNode("http://www.w3.org/2001/XMLSchema#hexBinary")
# a contribution's digest, as DCAT and SPDX write a checksum
DCAT_CHECKSUM = ox.NamedNode("http://www.w3.org/ns/dcat#checksum")
SPDX = "http://spdx.org/rdf/terms#"
SPDX_VALUE = ox.NamedNode(SPDX + "checksumValue")


def _n(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def timestamp(at: datetime) -> ox.Literal:
    """An ``xsd:dateTime`` in UTC with microseconds (so records made in one second still sort).

    >>> timestamp(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)).value
    '2024-05-01T12:00:00.000000Z'
    """
    utc = at.astimezone(UTC).replace(tzinfo=None)
    return ox.Literal(utc.isoformat(timespec="microseconds") + "Z", datatype=XSD_DATETIME)


def _agent(name: str) -> tuple[ox.NamedNode, list[ox.Triple]]:
    agent = ox.NamedNode(agent_iri(name))
    return agent, [ox.Triple(agent, RDF_TYPE, _n(PROV.Agent)), ox.Triple(agent, RDFS_LABEL, ox.Literal(name))]


def submission(
    contribution_id: str,
    *,
    agent: str,
    at: datetime,
    triples: int,
    source: str | None = None,
    license: str | None = None,
    comment: str | None = None,
    digest: str | None = None,
) -> list[ox.Triple]:
    """The record of a new contribution: its graph a ``prov:Entity`` attributed to ``agent`` (a
    token's name), generated at ``at`` by a submission activity, with source, licence, comment,
    its triple count and ``digest`` (the SHA-256 of its canonical N-Triples) as a ``dcat:checksum``."""
    graph = ox.NamedNode(contribution_graph_iri(contribution_id))
    bundle = ox.NamedNode(provenance_graph_iri(contribution_id))
    activity = ox.NamedNode(activity_iri("submission", contribution_id))
    who, about_who = _agent(agent)
    when = timestamp(at)
    out = [
        ox.Triple(bundle, RDF_TYPE, _n(PROV.Bundle)),
        ox.Triple(bundle, RDFS_LABEL, ox.Literal(f"Provenance of contribution {contribution_id}")),
        ox.Triple(graph, RDF_TYPE, _n(PROV.Entity)),
        ox.Triple(graph, _n(DCTERMS.identifier), ox.Literal(contribution_id)),
        ox.Triple(graph, _n(PROV.wasAttributedTo), who),
        ox.Triple(graph, _n(PROV.generatedAtTime), when),
        ox.Triple(graph, _n(PROV.wasGeneratedBy), activity),
        ox.Triple(graph, _n(VOID.triples), ox.Literal(str(triples), datatype=XSD_INTEGER)),
        ox.Triple(activity, RDF_TYPE, _n(PROV.Activity)),
        ox.Triple(activity, RDFS_LABEL, ox.Literal(f"Submission of contribution {contribution_id}")),
        ox.Triple(activity, _n(PROV.wasAssociatedWith), who),
        ox.Triple(activity, _n(PROV.endedAtTime), when),
        *about_who,
    ]
    if source:
        out.append(ox.Triple(graph, _n(DCTERMS.source), ox.NamedNode(source)))
    if license:
        out.append(ox.Triple(graph, _n(DCTERMS.license), ox.NamedNode(license)))
    if comment:
        out.append(ox.Triple(graph, RDFS_COMMENT, ox.Literal(comment)))
    if digest:
        out += checksum(contribution_id, digest)
    return out


def checksum(contribution_id: str, digest: str) -> list[ox.Triple]:
    """The record's ``dcat:checksum`` of the contribution's data: ``digest`` (a SHA-256, hex) as SPDX writes it."""
    graph = ox.NamedNode(contribution_graph_iri(contribution_id))
    node = ox.NamedNode(activity_iri("checksum", contribution_id))
    return [
        ox.Triple(graph, DCAT_CHECKSUM, node),
        ox.Triple(node, RDF_TYPE, ox.NamedNode(SPDX + "Checksum")),
        ox.Triple(node, ox.NamedNode(SPDX + "algorithm"), ox.NamedNode(SPDX + "checksumAlgorithm_sha256")),
        ox.Triple(node, SPDX_VALUE, ox.Literal(digest, datatype=XSD_HEX)),
    ]


def retraction(contribution_id: str, *, agent: str, at: datetime, reason: str | None = None) -> list[ox.Triple]:
    """What a retraction adds to the record: the graph invalidated at ``at`` by a retraction
    activity associated with ``agent`` (an admin's token name), with the reason as a comment."""
    graph = ox.NamedNode(contribution_graph_iri(contribution_id))
    activity = ox.NamedNode(activity_iri("retraction", contribution_id))
    who, about_who = _agent(agent)
    when = timestamp(at)
    out = [
        ox.Triple(graph, _n(PROV.invalidatedAtTime), when),
        ox.Triple(graph, _n(PROV.wasInvalidatedBy), activity),
        ox.Triple(activity, RDF_TYPE, _n(PROV.Activity)),
        ox.Triple(activity, RDFS_LABEL, ox.Literal(f"Retraction of contribution {contribution_id}")),
        ox.Triple(activity, _n(PROV.wasAssociatedWith), who),
        ox.Triple(activity, _n(PROV.endedAtTime), when),
        *about_who,
    ]
    if reason:
        out.append(ox.Triple(activity, RDFS_COMMENT, ox.Literal(reason)))
    return out
