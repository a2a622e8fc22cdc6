"""Alliances that look like one another: a new alliance with the same members, a founding year
within one of a stored alliance's, and a kind of obligation in common, scored by link discovery's
:func:`allianceld.linking.discovery.score` (labels, the members and obligation kinds as codes, the
founding dates). Used to warn a contributor that an alliance may already be in the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from allianceld.linking.discovery import Entity, Proposal, _date, _date_score, normalise, score
from allianceld.store import KnowledgeBase
from allianceld.vocab import ALD

# the compared "codes" of an alliance: its member set (one value) and its obligation kinds
KINDS = ("members", "obligation")
# founding years within one of each other: the date score of dates a year apart, or more
WITHIN_ONE_YEAR = _date_score(date(2000, 1, 1), date(2001, 1, 1))

# an alliance's labels, founding date, members and obligation kinds (the provision classes of its
# treaties); ?a is bound by substitution (projected, as it must be), never pasted
_PROFILE = """
SELECT ?a ?p ?v (LANG(?v) AS ?lang) WHERE {
  { ?a rdfs:label|skos:altLabel ?v BIND("label" AS ?p) }
  UNION { ?a ald:foundingDate ?v BIND("founded" AS ?p) }
  UNION { ?m org:organization ?a ; org:member ?v BIND("member" AS ?p) }
  UNION {
    ?a ald:treaty|ald:foundingTreaty ?t . ?t ald:hasProvision ?provision . ?provision a ?v
    VALUES ?v { ald:DefenceProvision ald:OffenceProvision ald:NeutralityProvision
                ald:NonAggressionProvision ald:ConsultationProvision }
    BIND("obligation" AS ?p)
  }
}
"""
_ALLIANCE_CLASSES = "SELECT DISTINCT ?c WHERE { ?c rdfs:subClassOf* ald:Alliance }"
_ALLIANCES_OF = "SELECT DISTINCT ?state ?a WHERE { ?m org:member ?state ; org:organization ?a }"
_LABEL = "SELECT ?a ?v WHERE { ?a rdfs:label ?v } ORDER BY ?v LIMIT 1"


@dataclass(frozen=True)
class LookAlike:
    """A new alliance and a stored one it looks like, with link discovery's score of the pair."""

    alliance: str
    label: str | None
    candidate: str
    candidate_label: str | None
    proposal: Proposal

    def message(self) -> str:
        """The warning in words: ``looks like <IRI> (label): …; confidence 0.60 (label 0.00; …)``."""
        name = f" ({self.candidate_label})" if self.candidate_label else ""
        return (
            f"looks like {self.candidate}{name}: the same members, founded within a year, an obligation "
            f"in common; confidence {self.proposal.confidence:.2f} ({self.proposal.evidence()})"
        )


def _entity(iri: str, rows: Iterable[dict[str, Any]]) -> Entity:
    """An alliance as link discovery compares it, from the rows of :data:`_PROFILE`."""
    entity = Entity(iri, kind="Alliance")
    members: set[str] = set()
    for row in rows:
        p, v = row["p"], row["v"]
        if p == "label":
            entity.labels.add(((row["lang"] or "").lower().split("-")[0], normalise(v)))
        elif p == "founded" and (when := _date(v)) is not None:
            entity.dates.add(when)
        elif p == "member":
            members.add(v)
        elif p == "obligation":
            entity.codes.setdefault("obligation", set()).add(v)
    if members:
        entity.codes["members"] = {" ".join(sorted(members))}
    return entity


def _looks_alike(new: Entity, stored: Entity) -> Proposal | None:
    """The scored pair when the two look alike: members and an obligation kind agree (codes 1
    with both compared) and the founding dates are within a year; None otherwise."""
    if not all(new.codes.get(k) and stored.codes.get(k) for k in KINDS):
        return None
    confidence, label, codes, when, agreeing, disagreeing = score(new, stored, kinds=KINDS)
    if codes != 1.0 or when is None or when < WITHIN_ONE_YEAR:
        return None
    return Proposal(new.iri, stored.iri, "", confidence, label, codes, when, tuple(agreeing), tuple(disagreeing))


def find(kb: KnowledgeBase, triples: list[ox.Triple]) -> list[LookAlike]:
    """The stored alliances that the new alliances of ``triples`` (typed as alliances there, not
    described in the store) look like, best first for each new alliance."""
    scratch = KnowledgeBase()  # in memory: the new data alone
    scratch.replace_graphs({"urn:allianceld:submitted": triples})
    classes = {ox.NamedNode(r["c"]) for r in kb.select(_ALLIANCE_CLASSES)} | {ox.NamedNode(str(ALD.Alliance))}
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    new = sorted(
        {t.subject for t in triples if t.predicate == rdf_type and t.object in classes},
        key=str,
    )
    found: list[LookAlike] = []
    for alliance in new:
        if not isinstance(alliance, ox.NamedNode) or kb.match([alliance], graphs=kb.asserted_graphs(), limit=1):
            continue  # a blank node cannot be in the store; a described IRI is not new
        me = _entity(alliance.value, scratch.select(_PROFILE, substitutions={"a": alliance}))
        if not me.codes.get("members") or not me.codes.get("obligation"):
            continue
        states = next(iter(me.codes["members"])).split(" ")
        candidates: set[str] | None = None
        for state in states:  # the alliances every member belongs to, one index look-up each
            theirs = {r["a"] for r in kb.select(_ALLIANCES_OF, substitutions={"state": ox.NamedNode(state)})}
            candidates = theirs if candidates is None else candidates & theirs
        scored = []
        for candidate in sorted(candidates or ()):
            stored = _entity(candidate, kb.select(_PROFILE, substitutions={"a": ox.NamedNode(candidate)}))
            if (proposal := _looks_alike(me, stored)) is not None:
                scored.append(proposal)
        scored.sort(key=lambda p: (-p.confidence, p.external))
        label = next((r["v"] for r in scratch.select(_LABEL, substitutions={"a": alliance})), None)
        for p in scored:
            rows = kb.select(_LABEL, substitutions={"a": ox.NamedNode(p.external)})
            found.append(LookAlike(alliance.value, label, p.external, rows[0]["v"] if rows else None, p))
    return found
